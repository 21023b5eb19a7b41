"""Tests of dlworkflow.data.home: the data home and where a relative data.path is found."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dlworkflow.data.home import DATA_HOME_VARIABLE, candidates, data_home, locate, resolve_path, spec_folder
from dlworkflow.data.sources import load_table
from dlworkflow.data.sources import resolve_path as resolve_path_from_sources
from dlworkflow.errors import DataError
from dlworkflow.spec import DataSpec


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    path = folder / "spec.toml"
    path.write_text("")
    return path


def test_data_home_is_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(DATA_HOME_VARIABLE, str(tmp_path / "lesson"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_home() == tmp_path / "lesson"


def test_data_home_expands_the_user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(DATA_HOME_VARIABLE, "~/data")
    assert data_home() == tmp_path / "data"


def test_data_home_falls_back_to_the_xdg_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(DATA_HOME_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_home() == tmp_path / "cache" / "dlworkflow"


@pytest.mark.parametrize("empty", ["", "  "])
def test_data_home_defaults_to_the_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty: str):
    monkeypatch.setenv(DATA_HOME_VARIABLE, empty)
    monkeypatch.setenv("XDG_CACHE_HOME", empty)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_home() == tmp_path / ".cache" / "dlworkflow"


def test_resolve_path_is_shared_with_sources():
    assert resolve_path_from_sources is resolve_path


def test_spec_folder_is_the_spec_files_folder_or_the_working_directory(
    spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    assert spec_folder(str(spec_file)) == spec_file.parent
    assert spec_folder("<api>") == tmp_path


def test_locate_prefers_the_spec_folder_over_the_data_home(
    spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    (home / "sub").mkdir(parents=True)
    (home / "sub" / "a.npz").write_bytes(b"home")
    monkeypatch.setenv(DATA_HOME_VARIABLE, str(home))
    assert locate("sub/a.npz", source=str(spec_file)) == home / "sub" / "a.npz"
    (spec_file.parent / "sub").mkdir()
    (spec_file.parent / "sub" / "a.npz").write_bytes(b"next to the spec")
    assert locate("sub/a.npz", source=str(spec_file)) == spec_file.parent / "sub" / "a.npz"


def test_locate_finds_folders_too(spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "home" / "cats_dogs" / "Cat").mkdir(parents=True)
    monkeypatch.setenv(DATA_HOME_VARIABLE, str(tmp_path / "home"))
    assert locate("cats_dogs", source=str(spec_file)) == tmp_path / "home" / "cats_dogs"


def test_absolute_path_is_used_as_is(spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(DATA_HOME_VARIABLE, str(tmp_path / "home"))
    target = tmp_path / "x.csv"
    assert candidates(str(target), source=str(spec_file)) == [target]
    with pytest.raises(DataError, match=r"spec\.toml: data\.path: CSV file not found: '.*x\.csv'\. "
                       r"Check the file name; looked in '.*x\.csv'\.$"):
        locate(str(target), source=str(spec_file))


def test_missing_file_names_every_place_looked_and_the_fix(
    spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    monkeypatch.setenv(DATA_HOME_VARIABLE, str(home))
    with pytest.raises(DataError) as caught:
        locate("cifar10_subset/cifar10_subset.npz", source=str(spec_file))
    text = str(caught.value)
    assert text.startswith(
        f"{spec_file}: data.path: image array file not found: 'cifar10_subset/cifar10_subset.npz'. "
        f"Check the file name; a relative data.path is read from the spec file's folder {str(spec_file.parent)!r}, "
        f"then from the data home {str(home)!r}. "
    )
    assert f"Looked in {str(spec_file.parent / 'cifar10_subset' / 'cifar10_subset.npz')!r}, " \
        f"{str(home / 'cifar10_subset' / 'cifar10_subset.npz')!r}." in text
    assert text.endswith("Put the file in one of those places, or set DLW_DATA_HOME to the folder that holds "
                         "'cifar10_subset/cifar10_subset.npz'.")


def test_missing_folder_is_named_as_data_or_image_folder(spec_file: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv(DATA_HOME_VARIABLE, str(tmp_path / "home"))
    with pytest.raises(DataError, match=r"data\.path: data file or image folder not found: 'cats_dogs'"):
        locate("cats_dogs", source=str(spec_file))


def test_csv_is_found_in_the_data_home(spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    (home / "tables").mkdir(parents=True)
    pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 1.5, 2.5]}).to_csv(home / "tables" / "station.csv", index=False)
    monkeypatch.setenv(DATA_HOME_VARIABLE, str(home))
    table, name = load_table(DataSpec(path="tables/station.csv", target="y"), source=str(spec_file))
    assert name == "station"
    assert table["x"].tolist() == [1, 2, 3]
