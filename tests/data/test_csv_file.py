"""Tests of dlworkflow.data.csv_file: the one CSV reader of training and predict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data import build_dataset
from dlworkflow.data.csv_file import CSV_FILE, read_csv
from dlworkflow.data.new_rows import read_rows
from dlworkflow.data.sources import load_builtin
from dlworkflow.errors import DataError


def written_table(path: Path) -> pd.DataFrame:
    """3,000 values written by DataFrame.to_csv: the default float parser gets about a third of them wrong."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(1000, 3)) * [1.0, 1e3, 1e-3], columns=["a", "b", "y"])
    table.to_csv(path, index=False)
    return table


def test_training_and_predict_read_a_csv_bit_for_bit(tmp_path: Path):
    path = tmp_path / "table.csv"
    table = written_table(path)
    default = pd.read_csv(path)
    assert (default.to_numpy() != table.to_numpy()).sum() > 100  # why one reader with round-trip matters
    training = read_csv(path, source="s.toml")
    np.testing.assert_array_equal(training.to_numpy(), table.to_numpy())
    pd.testing.assert_frame_equal(read_rows(path), training)
    pd.testing.assert_frame_equal(CSV_FILE.read_table(path, source="s.toml"), training)


def test_a_run_on_any_csv_has_the_numbers_written(make_spec, tmp_path: Path):
    path = tmp_path / "table.csv"
    table = written_table(path)
    dataset = build_dataset(make_spec({"path": str(path), "target": "y"}, split={"test": 0.2}))
    rows = dataset.test.frame.index
    np.testing.assert_array_equal(dataset.test.frame[["a", "b"]].to_numpy(), table.loc[rows, ["a", "b"]].to_numpy())
    np.testing.assert_array_equal(dataset.test.labels, table.loc[rows, "y"].to_numpy())


def test_the_builtin_tables_read_the_same_with_either_parser():
    # So the lesson's numbers do not move with the round-trip parser.
    from importlib import resources

    for name, file_name in [("weather", "weather_prediction_dataset_light.csv"), ("penguins", "penguins.csv")]:
        with resources.as_file(resources.files("dlworkflow.data").joinpath("builtin", file_name)) as path:
            pd.testing.assert_frame_equal(load_builtin(name), pd.read_csv(path))


def test_messages_name_the_file_unless_it_is_the_source(tmp_path: Path):
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n")
    with pytest.raises(DataError, match=r"^s\.toml: data\.path: CSV file '.*empty\.csv' has no rows"):
        read_csv(path, source="s.toml")
    with pytest.raises(DataError, match=r"empty\.csv: the CSV file has no rows; got '0 rows x 2 columns'"):
        read_csv(path, source=str(path), spec_path="")


def test_repeated_column_names_are_refused_not_renamed(tmp_path: Path):
    path = tmp_path / "table.csv"
    path.write_text("a,b,a,y,b\n1,2,3,4,5\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"^s\.toml: data\.path: '.*table\.csv' repeats column names in its header: "
                       r"'a', 'b'\. Give every column its own name in the header line"):
        read_csv(path, source="s.toml")
    path.write_text("a,a.1,y\n1,2,3\n", encoding="utf-8")  # a name that looks like pandas' renaming, but is not
    assert list(read_csv(path, source="s.toml").columns) == ["a", "a.1", "y"]


def test_a_device_or_a_fifo_is_refused_before_it_is_opened(tmp_path: Path):
    import os

    with pytest.raises(DataError, match=r"^s\.toml: data\.path: '/dev/zero' is a character device, not a CSV file"):
        read_csv("/dev/zero", source="s.toml")
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"is a FIFO \(named pipe\), not a CSV file"):  # opening it would block
        read_csv(fifo, source=str(fifo))
