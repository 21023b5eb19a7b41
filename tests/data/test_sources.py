"""Tests of dlworkflow.data.sources: built-in datasets, CSV files, DataFrames."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data import build_dataset
from dlworkflow.data.sources import BUILTIN_DATASETS, load_builtin, load_table, read_csv, resolve_path
from dlworkflow.errors import DataError, SpecError
from dlworkflow.spec import DataSpec, load_spec, validate_spec

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
    document = {"name": "p", "data": {"dataset": "penguin", "target": "species"},
                "model": {"layers": [{"type": "Dense", "units": 3}]}}
    with pytest.raises(SpecError, match=r"^p\.toml: data\.dataset: unknown built-in dataset; got 'penguin'\. "
                       r"Did you mean 'penguins'\?"):
        validate_spec(document, source="p.toml")  # the spec is checked against the registry, before any data
    with pytest.raises(SpecError, match=r"^p\.toml: data\.dataset: unknown built-in dataset; got 'penguin'\. "
                       r"Did you mean 'penguins'\?"):
        load_builtin("penguin", source="p.toml")


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


def test_the_registries_choose_every_source(tmp_path: Path):
    from dlworkflow.data.builtin_tables import BUILTIN_TABLE
    from dlworkflow.data.csv_file import CSV_FILE
    from dlworkflow.data.image_arrays import IMAGE_ARRAY_FILE
    from dlworkflow.data.image_folder import IMAGE_FOLDER
    from dlworkflow.data.keras_datasets import KERAS_DATASET, KERAS_IMAGE_DATASETS
    from dlworkflow.data.sources import choose_source, dataset_names
    from dlworkflow.spec.registries import DATASETS

    # Every built-in table and Keras image set is a registered name, in that order.
    assert dataset_names() == [*BUILTIN_DATASETS, *KERAS_IMAGE_DATASETS] == list(DATASETS)
    assert choose_source(DataSpec(dataset="weather"), source="<api>") == (BUILTIN_TABLE, "weather")
    assert choose_source(DataSpec(dataset="mnist"), source="<api>") == (KERAS_DATASET, "mnist")
    for name, expected in [("t.csv", CSV_FILE), ("T.CSV", CSV_FILE), ("a.npz", IMAGE_ARRAY_FILE)]:
        (tmp_path / name).write_bytes(b"")
        assert choose_source(DataSpec(path=str(tmp_path / name)), source="<api>") == (expected, tmp_path / name)
    (tmp_path / "pets.v2").mkdir()  # a folder, whatever its name looks like
    assert choose_source(DataSpec(path=str(tmp_path / "pets.v2")), source="<api>") == (IMAGE_FOLDER,
                                                                                        tmp_path / "pets.v2")


def test_a_file_of_an_unregistered_type_names_the_registered_ones(tmp_path: Path):
    (tmp_path / "table.xlsx").write_bytes(b"")
    with pytest.raises(SpecError, match=r"^s\.toml: data\.path: is not a data file type dlworkflow reads; got "
                       r"'.*table\.xlsx'\. Give a file ending in '\.csv', '\.parquet' or '\.npz', or a folder"):
        load_table(DataSpec(path=str(tmp_path / "table.xlsx"), target="y"), source="s.toml")


def test_an_image_source_is_not_a_table():
    with pytest.raises(SpecError, match=r"data\.dataset: is a Keras image set, not a table; got 'mnist'"):
        load_table(DataSpec(dataset="mnist", target="y"), source="s.toml")


def test_a_registered_source_is_one_module_and_one_entry(tmp_path: Path, make_spec):
    from dlworkflow.data.data_source import TableSource
    from dlworkflow.spec.registries import DATA_FILES

    class TabSeparated(TableSource):
        label = "tab-separated file"

        def read_table(self, location, *, source):
            return pd.read_csv(location, sep="\t", float_precision="round_trip")

    path = tmp_path / "rows.tsv"
    pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10.0) * 2}).to_csv(path, sep="\t", index=False)
    DATA_FILES.register(".tsv", TabSeparated())
    try:
        dataset = build_dataset(make_spec({"path": str(path), "target": "y"}, split={"type": "ordered", "test": 0.2}))
        assert dataset.name == "rows" and dataset.test.labels.tolist() == [16.0, 18.0]
        with pytest.raises(DataError, match=r"tab-separated file not found: 'gone\.tsv'"):
            load_table(DataSpec(path="gone.tsv", target="y"), source="<api>")
    finally:
        DATA_FILES.unregister(".tsv")


def test_a_device_or_fifo_as_data_path_is_refused_before_it_is_opened(tmp_path):
    import os

    with pytest.raises(DataError, match=r"^s\.toml: data\.path: is a character device, not a data file; got '/dev/zero'"):
        load_table(DataSpec(path="/dev/zero", target="y"), source="s.toml")
    os.mkfifo(tmp_path / "table.csv")
    (tmp_path / "spec.toml").write_text("")
    with pytest.raises(DataError, match=r"data\.path: is a FIFO \(named pipe\), not a data file; got 'table\.csv'"):
        load_table(DataSpec(path="table.csv", target="y"), source=str(tmp_path / "spec.toml"))


def test_a_data_path_too_long_to_look_up_is_a_data_error():
    with pytest.raises(DataError, match=r"^s\.toml: data\.path: cannot be looked up \(File name too long\)"):
        load_table(DataSpec(path="a" * 5000 + ".csv", target="y"), source="s.toml")
