"""The artifact layout: file names in one place, and run folders that appear whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlworkflow.errors import RegistryError
from dlworkflow.registry import artifacts
from dlworkflow.registry.artifacts import RunFolder

RUN_ID = "20250101-120000-3f2a"


def test_file_names_are_defined_once_here() -> None:
    assert artifacts.MODEL == "model.keras"
    assert artifacts.PREPROCESSING == "preprocessing.json"
    assert artifacts.SPEC == "spec.toml"
    assert artifacts.HISTORY == "history.csv"
    assert artifacts.RECORD == "run.json"
    assert artifacts.IMAGE_GRID == "test_images.png"
    assert artifacts.CONFUSION_PLOT == "confusion_matrix.png"
    assert [artifacts.predictions_file(part) for part in ("train", "validation", "test")] == [
        "predictions_train.csv",
        "predictions_validation.csv",
        "predictions_test.csv",
    ]


def test_predictions_file_refuses_an_unknown_part() -> None:
    with pytest.raises(ValueError, match=r"part must be one of 'train', 'validation', 'test'; got 'tset'"):
        artifacts.predictions_file("tset")


def test_stage_writes_into_a_staging_folder(tmp_path: Path) -> None:
    folder = RunFolder.stage(tmp_path, RUN_ID)
    assert folder.directory == tmp_path / "runs" / f".staging-{RUN_ID}"
    assert folder.directory.is_dir()
    assert folder.destination == tmp_path / "runs" / RUN_ID
    assert not folder.destination.exists()
    assert folder.path(artifacts.MODEL) == folder.directory / "model.keras"


def test_commit_moves_the_whole_folder_into_place(tmp_path: Path) -> None:
    folder = RunFolder.stage(tmp_path, RUN_ID)
    folder.path(artifacts.HISTORY).write_text("epoch,loss\n0,1.0\n")
    folder.path(artifacts.predictions_file("test")).write_text("y,prediction\n")
    assert folder.files() == ["history.csv", "predictions_test.csv"]

    final = folder.commit()

    assert final == tmp_path / "runs" / RUN_ID
    assert (final / "history.csv").read_text() == "epoch,loss\n0,1.0\n"
    assert not (tmp_path / "runs" / f".staging-{RUN_ID}").exists()
    assert folder.committed
    assert folder.path(artifacts.HISTORY) == final / "history.csv"
    assert sorted(path.name for path in (tmp_path / "runs").iterdir()) == [RUN_ID]


def test_discard_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = RunFolder.stage(tmp_path, RUN_ID)
    folder.path(artifacts.MODEL).write_bytes(b"half a model")
    folder.discard()
    assert list((tmp_path / "runs").iterdir()) == []
    assert folder.files() == []
    with pytest.raises(RegistryError, match="discarded"):
        folder.path(artifacts.MODEL)


def test_a_failed_block_discards_the_folder(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="training diverged"):
        with RunFolder.stage(tmp_path, RUN_ID) as folder:
            folder.path(artifacts.MODEL).write_bytes(b"half a model")
            raise RuntimeError("training diverged")
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_block_that_commits_keeps_the_folder(tmp_path: Path) -> None:
    with RunFolder.stage(tmp_path, RUN_ID) as folder:
        folder.path(artifacts.SPEC).write_text("name = 'm'\n")
        final = folder.commit()
    assert (final / "spec.toml").is_file()


@pytest.mark.parametrize("name", ["../model.keras", "..", "sub/model.keras", "sub\\model.keras", "", "."])
def test_path_refuses_names_that_leave_the_folder(tmp_path: Path, name: str) -> None:
    folder = RunFolder.stage(tmp_path, RUN_ID)
    expected = r"artifact file name must be a plain name without path separators or '\.\.'"
    with pytest.raises(RegistryError, match=expected):
        folder.path(name)


@pytest.mark.parametrize("run_id", ["../escape", "a/b", ".."])
def test_stage_refuses_a_run_id_that_leaves_the_runs_folder(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(RegistryError, match="run id must be a plain name"):
        RunFolder.stage(tmp_path, run_id)
    assert not (tmp_path.parent / "escape").exists()


def test_stage_refuses_an_existing_run(tmp_path: Path) -> None:
    RunFolder.stage(tmp_path, RUN_ID).commit()
    with pytest.raises(RegistryError, match="a run folder with this id already exists; got '20250101-120000-3f2a'"):
        RunFolder.stage(tmp_path, RUN_ID)


def test_stage_refuses_a_staging_folder_in_use(tmp_path: Path) -> None:
    RunFolder.stage(tmp_path, RUN_ID)
    with pytest.raises(RegistryError, match="staging folder for this run id already exists"):
        RunFolder.stage(tmp_path, RUN_ID)


def test_commit_twice_is_refused(tmp_path: Path) -> None:
    folder = RunFolder.stage(tmp_path, RUN_ID)
    folder.commit()
    with pytest.raises(RegistryError, match="only a staged run folder can be committed; this one is committed"):
        folder.commit()


def test_run_dir_is_the_committed_location(tmp_path: Path) -> None:
    assert artifacts.run_dir(tmp_path, RUN_ID) == tmp_path / "runs" / RUN_ID
