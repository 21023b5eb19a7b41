"""Where the registry lives: found upward from the current folder as git finds ``.git``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app
from dlworkflow.registry import Registry, RunRecord
from dlworkflow.registry.location import (
    ENV_VARIABLE,
    artifacts_home,
    default_home,
    find_home,
    registry_url,
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with ``examples/deeper`` below it; no ``DLW_REGISTRY``."""
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    root = tmp_path / "project"
    (root / "examples" / "deeper").mkdir(parents=True)
    return root


def record_one_run(home: Path, name: str = "weather") -> str:
    run_id = "20250101-120000-0001"
    record = RunRecord(
        id=run_id, name=name, description=name, status="finished", created_at="2025-01-01T12:00:00+00:00",
        test_set={"name": None, "fingerprint": "a" * 64},
        primary={"metric": "rmse", "value": 2.0, "baseline": "mean", "baseline_value": 9.0},
        metrics={"train": {}, "validation": {}, "test": {"rmse": 2.0}}, git={"commit": None, "dirty": None},
        backend="jax",
    )
    with Registry.open(f"sqlite:///{home / 'registry.db'}") as registry:
        registry.record(record, looked_at_test=True, test_set_name="weather")
    return run_id


def test_found_from_a_sub_folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = record_one_run(project / ".dlw")
    monkeypatch.chdir(project / "examples" / "deeper")
    assert find_home() == project / ".dlw"
    assert registry_url() == (f"sqlite:///{project / '.dlw' / 'registry.db'}", "")
    assert artifacts_home() == project / ".dlw"
    # the acceptance test: `cd examples && dlw runs` lists the project's runs, and makes no new registry
    monkeypatch.chdir(project / "examples")
    result = CliRunner().invoke(app, ["runs", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.stdout)] == [run_id]
    assert not (project / "examples" / ".dlw").exists()


def test_the_nearest_registry_wins(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record_one_run(project / ".dlw")
    (project / "examples" / ".dlw" / "runs").mkdir(parents=True)  # a registry whose database was lost
    monkeypatch.chdir(project / "examples" / "deeper")
    assert default_home() == project / "examples" / ".dlw"


def test_an_empty_dlw_folder_is_passed_over(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record_one_run(project / ".dlw")
    (project / "examples" / ".dlw").mkdir()  # nothing in it: no registry
    monkeypatch.chdir(project / "examples")
    assert find_home() == project / ".dlw"


def test_a_new_registry_goes_in_the_current_folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "examples")
    assert find_home() is None
    assert default_home() == project / "examples" / ".dlw"
    with Registry.open() as registry:
        assert registry.home == project / "examples" / ".dlw"
    assert (project / "examples" / ".dlw" / "registry.db").is_file()
    monkeypatch.chdir(project / "examples" / "deeper")  # and from below, it is found
    assert find_home() == project / "examples" / ".dlw"


def test_dlw_registry_and_an_argument_still_win(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    record_one_run(project / ".dlw")
    monkeypatch.chdir(project / "examples")
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert registry_url(elsewhere) == (elsewhere, "")
    monkeypatch.setenv(ENV_VARIABLE, elsewhere)
    assert registry_url() == (elsewhere, f" (from {ENV_VARIABLE})")
    assert artifacts_home() == tmp_path


def test_a_deleted_current_folder_finds_none(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = project / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert find_home() is None
