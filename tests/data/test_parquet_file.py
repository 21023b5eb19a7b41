"""Tests of dlworkflow.data.parquet_file: ``data.path = "x.parquet"``, the same dataset as its CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data import build_dataset
from dlworkflow.data.new_rows import read_rows
from dlworkflow.data.parquet_file import PARQUET_FILE, read_parquet
from dlworkflow.data.sources import choose_source, load_builtin, load_table
from dlworkflow.errors import DataError
from dlworkflow.spec import DataSpec, load_spec

pytest.importorskip("pyarrow")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def weather_parquet(tmp_path: Path) -> Path:
    """A Parquet copy of the built-in weather table (as the CSV reader reads it)."""
    path = tmp_path / "weather.parquet"
    load_builtin("weather").to_parquet(path)
    return path


def weather_spec_on(path: Path, tmp_path: Path):
    """examples/weather.toml with data.path = the Parquet copy instead of data.dataset."""
    text = (EXAMPLES / "weather.toml").read_text().replace('dataset = "weather"', f'path = "{path.name}"')
    spec_file = tmp_path / "weather_parquet.toml"
    spec_file.write_text(text)
    return load_spec(spec_file)


def test_a_parquet_copy_gives_the_lessons_weather_dataset(weather_parquet: Path, tmp_path: Path):
    from dlworkflow.evaluation import evaluate_baselines

    spec = weather_spec_on(weather_parquet, tmp_path)
    assert spec.data.path == "weather.parquet" and spec.data.dataset is None
    dataset = build_dataset(spec)
    csv_dataset = build_dataset(load_spec(EXAMPLES / "weather.toml"))
    assert dataset.name == "weather"
    assert dataset.sizes() == {"train": 767, "validation": 164, "test": 165}
    baselines = evaluate_baselines(dataset, spec.evaluate, source=spec.source)
    assert baselines["persistence"]["test"]["rmse"] == 3.877323350410224
    assert dataset.fingerprint == csv_dataset.fingerprint
    assert dataset.test_fingerprint == csv_dataset.test_fingerprint
    for name, part in dataset.parts.items():
        np.testing.assert_array_equal(part.x, csv_dataset.parts[name].x)
        np.testing.assert_array_equal(part.labels, csv_dataset.parts[name].labels)
    assert dataset.preprocessing == csv_dataset.preprocessing


def test_the_registry_chooses_the_parquet_source_by_ending(weather_parquet: Path):
    data_source, location = choose_source(DataSpec(path=str(weather_parquet)), source="<api>")
    assert data_source is PARQUET_FILE and location == weather_parquet
    table, name = load_table(DataSpec(path=str(weather_parquet), target="BASEL_sunshine"), source="<api>")
    assert name == "weather"
    pd.testing.assert_frame_equal(table, load_builtin("weather"))


def test_floats_come_back_bit_for_bit_and_a_named_index_becomes_a_column(tmp_path: Path):
    rng = np.random.default_rng(3)
    table = pd.DataFrame({"day": np.arange(20), "a": rng.normal(size=20) * 1e3, "b": rng.random(20)})
    path = tmp_path / "t.parquet"
    table.set_index("day").to_parquet(path)
    read = read_parquet(path)
    assert list(read.columns) == ["day", "a", "b"]
    np.testing.assert_array_equal(read["a"].to_numpy(), table["a"].to_numpy())
    table.iloc[5:].to_parquet(path)  # an unnamed index is not a column; rows are numbered from 0
    assert read_parquet(path).index.tolist() == list(range(15)) and list(read_parquet(path).columns) == ["day", "a", "b"]


def test_unreadable_and_empty_parquet_files_are_data_errors(tmp_path: Path):
    broken = tmp_path / "broken.parquet"
    broken.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"^s\.toml: data\.path: cannot read '.*broken\.parquet' as Parquet \(.*\)\. "
                       r"Check that it is a Parquet file"):
        read_parquet(broken, source="s.toml")
    empty = tmp_path / "empty.parquet"
    pd.DataFrame({"a": pd.Series([], dtype=float)}).to_parquet(empty)
    with pytest.raises(DataError, match=r"Parquet file '.*empty\.parquet' has no rows; got '0 rows x 1 columns'"):
        read_parquet(empty, source="s.toml")


def test_a_missing_parquet_file_is_named_as_such(tmp_path: Path):
    spec_file = tmp_path / "s.toml"
    spec_file.write_text("")
    with pytest.raises(DataError, match=r"s\.toml: data\.path: Parquet file not found: 'nothere\.parquet'"):
        load_table(DataSpec(path="nothere.parquet", target="y"), source=str(spec_file))


def test_predict_reads_new_rows_from_parquet_too(tmp_path: Path):
    table = pd.DataFrame({"a": [0.1, 0.2], "b": [1, 2]})
    table.to_parquet(tmp_path / "new.parquet")
    pd.testing.assert_frame_equal(read_rows(tmp_path / "new.parquet"), table)
