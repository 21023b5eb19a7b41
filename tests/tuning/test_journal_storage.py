"""--storage journal:///path/study.log: Optuna's journal file, with heartbeats, and one clear error for a bad path."""

from __future__ import annotations

import os
import time
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from dlworkflow.api import tune
from dlworkflow.cli import app
from dlworkflow.errors import RegistryError
from dlworkflow.registry import Registry
from dlworkflow.tuning.journal_storage import (
    HEARTBEAT_ATTRIBUTE,
    HeartbeatJournalStorage,
    check_journal_file,
)
from dlworkflow.tuning.study import make_storage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_last_missing_folder_is_created_and_the_storage_works(tmp_path: Path) -> None:
    storage = make_storage(f"journal://{tmp_path}/new/study.log")
    assert isinstance(storage, HeartbeatJournalStorage)
    study = optuna.create_study(study_name="s", storage=storage)
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    again = optuna.load_study(study_name="s", storage=make_storage(f"journal://{tmp_path}/new/study.log"))
    assert [t.state.name for t in again.trials] == ["COMPLETE", "COMPLETE"]


def test_a_deeper_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=rf"storage journal://{tmp_path}/not/mounted/study.log: the folder "
                                            rf"{tmp_path}/not/mounted does not exist.*mkdir -p .*shared filesystem"):
        check_journal_file(f"journal://{tmp_path}/not/mounted/study.log")
    assert not (tmp_path / "not").exists()


def test_a_folder_or_no_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"is a folder, not a journal file.*study.log"):
        check_journal_file(f"journal://{tmp_path}")
    with pytest.raises(RegistryError, match="names no journal file"):
        check_journal_file("journal://")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(RegistryError, match="cannot be written by this user"):
            check_journal_file(f"journal://{locked}/study.log")
    finally:
        locked.chmod(0o700)


def test_a_trial_without_heartbeats_is_failed_and_queued_again_a_live_one_is_not(tmp_path: Path) -> None:
    storage = make_storage(f"journal://{tmp_path}/study.log")
    study = optuna.create_study(study_name="s", storage=storage)
    silent, alive = study.ask(), study.ask()
    storage.set_trial_system_attr(silent._trial_id, HEARTBEAT_ATTRIBUTE, time.time() - 120)  # its worker was killed
    storage.record_heartbeat(alive._trial_id)
    optuna.storages.fail_stale_trials(study)
    states = {t.number: t.state.name for t in study.get_trials(deepcopy=False)}
    assert states == {silent.number: "FAIL", alive.number: "RUNNING", 2: "WAITING"}  # 2: the retry of the silent one
    storage.record_heartbeat(silent._trial_id)  # a late beat of the failed trial changes nothing and raises nothing
    assert study.trials[silent.number].state.name == "FAIL"


def test_dlw_tune_with_a_bad_journal_path_is_one_registry_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["tune", str(EXAMPLES / "weather_tune.toml"), "--registry",
                                      f"sqlite:///{tmp_path}/registry.db", "--storage",
                                      f"journal://{tmp_path}/missing/deeper/study.log"])
    assert result.exit_code == 5, result.output
    assert f"the folder {tmp_path}/missing/deeper does not exist" in result.output


@pytest.mark.slow  # two worker processes, each starting Keras
def test_two_workers_on_a_journal_file_record_every_trial_once(tmp_path: Path) -> None:
    registry_url = f"sqlite:///{tmp_path}/dlw/registry.db"
    result = tune(EXAMPLES / "weather_tune.toml", registry=registry_url, storage=f"journal://{tmp_path}/x/study.log",
                  workers=2, tune__n_trials=3, train__epochs=1)
    with Registry.open(registry_url) as store:
        stored = [store.get(row.id).to_dict() for row in store.list_runs()]
    trials = sorted(r["study"]["trial"] for r in stored if r["study"]["role"] == "trial")
    assert trials == [0, 1, 2]
    assert sorted(result.trials["trial"]) == [0, 1, 2] and set(result.trials["state"]) == {"complete"}
    assert result.storage == f"journal://{tmp_path}/x/study.log"
    assert (tmp_path / "x" / "study.log").stat().st_size > 0
