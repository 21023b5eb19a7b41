"""Tests of dlworkflow.data.sources: built-in datasets, CSV files, DataFrames."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from dlworkflow.data.sources import BUILTIN_DATASETS, load_table, read_csv, resolve_path
from dlworkflow.errors import DataError, SpecError
from dlworkflow.spec import DataSpec, load_spec

SPEC_TEXT = """
name = "mine"
[data]
path = "{path}"
target = "y"
[[model.layers]]
type = "Dense"
units = 1
"""


def test_builtin_registry_names_shipped_files():
    assert set(BUILTIN_DATASETS) == {"penguins", "weather"}
    for file_name in BUILTIN_DATASETS.values():
        assert resources.files("dlworkflow.data").joinpath("builtin", file_name).is_file()


@pytest.mark.parametrize(
    ("name", "shape"), [("penguins", (344, 7)), ("weather", (3654, 91))]
)
def test_builtin_datasets_load(name, shape):
    table, label = load_table(DataSpec(dataset=name, target="x"), source="<spec>")
    assert label == name
    assert table.shape == shape


def test_builtin_copies_are_the_lesson_files(shared_data: Path):
    for file_name, mirror in [("penguins.csv", "penguins"), ("weather_prediction_dataset_light.csv", "weather")]:
        shipped = resources.files("dlworkflow.data").joinpath("builtin", file_name).read_bytes()
        lesson = (shared_data / mirror / file_name).read_bytes()
        assert hashlib.sha256(shipped).hexdigest() == hashlib.sha256(lesson).hexdigest()


def test_unknown_builtin_dataset_suggests_a_name():
    with pytest.raises(SpecError, match=r"^p\.toml: data\.dataset: unknown built-in dataset; got 'penguin'\. "
                       r"Did you mean 'penguins'\?"):
        load_table(DataSpec(dataset="penguin", target="species"), source="p.toml")


def test_no_source_is_a_spec_error():
    with pytest.raises(SpecError, match=r"p\.toml: data: no data source: give data\.dataset or data\.path"):
        load_table(DataSpec(target="y"), source="p.toml")


def test_frame_wins_and_is_not_changed():
    frame = pd.DataFrame({0: [1.0, 2.0], "y": [3.0, 4.0]})
    before = frame.copy()
    table, name = load_table(DataSpec(dataset="penguins", target="y"), source="<api>", frame=frame)
    assert name == "dataframe"
    assert list(table.columns) == ["0", "y"]
    pd.testing.assert_frame_equal(frame, before)


def test_empty_frame_is_a_data_error():
    with pytest.raises(DataError, match=r"<api>: frame: the DataFrame has no rows"):
        load_table(DataSpec(target="y"), source="<api>", frame=pd.DataFrame({"y": []}))


def test_csv_path_is_relative_to_the_spec_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "project"
    (folder / "tables").mkdir(parents=True)
    pd.DataFrame({"x": [1, 2, 3], "y": [0.1, 0.2, 0.3]}).to_csv(folder / "tables" / "mine.csv", index=False)
    spec_file = folder / "spec.toml"
    spec_file.write_text(SPEC_TEXT.format(path="tables/mine.csv"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = load_spec(spec_file)
    table, name = load_table(spec.data, source=spec.source)
    assert name == "mine"
    assert table["x"].tolist() == [1, 2, 3]


def test_csv_path_is_relative_to_the_working_directory_without_a_spec_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    assert resolve_path("a/b.csv", source="<api>") == tmp_path / "a" / "b.csv"
    assert resolve_path(str(tmp_path / "c.csv"), source="<api>") == tmp_path / "c.csv"


def test_missing_csv_names_file_and_path(tmp_path: Path):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text("")
    with pytest.raises(DataError, match=r"spec\.toml: data\.path: CSV file not found: '.*nothere\.csv'\. "
                       r"Check the file name; a relative data\.path is read from the spec file's folder"):
        load_table(DataSpec(path="nothere.csv", target="y"), source=str(spec_file))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,y\nZ\xfcrich,1\n".encode("latin-1"), r"cannot read .*bad\.csv.: not UTF-8 text.*Save the file as UTF-8"),
        (b"a,b\n1,2\n3,4,5,6\n", r"cannot read '.*bad\.csv' as CSV \(Error tokenizing data"),
        (b"", r"CSV file '.*bad\.csv' is empty"),
        (b"a,b\n", r"CSV file '.*bad\.csv' has no rows; got '0 rows x 2 columns'"),
    ],
    ids=["encoding", "parse", "empty", "header-only"],
)
def test_unreadable_csv_is_a_data_error(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"s\.toml: data\.path: " + message):
        read_csv(path, source="s.toml")


def test_folder_instead_of_csv(tmp_path: Path):
    with pytest.raises(DataError, match=r"data\.path: '.*' is a folder, not a CSV file"):
        read_csv(tmp_path, source="s.toml")
