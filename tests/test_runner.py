"""The run's orchestration with a fake trainer: every policy, every way a run stops, no Keras model built.

The fake trainer stands in for Keras (build, fit, predict, evaluate, save); the data,
baselines, diagnosis, registry and run folder are the real ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dlworkflow.errors import SpecError, TrainingError
from dlworkflow.execution.policy import ResumeState, RunPolicy
from dlworkflow.execution.runner import execute
from dlworkflow.execution.trainer import BuiltModel
from dlworkflow.registry import Registry, artifacts
from dlworkflow.registry.record_sections import StudyRole
from dlworkflow.spec import validate_spec
from dlworkflow.training.trainer import TrainingResult

EPOCHS = 3


@dataclass(frozen=True)
class FakeLayer:
    name: str = "dense"
    type: str = "Dense"
    output_shape: tuple[int | None, ...] = (None, 1)
    total: int = 5
    formula: str = "4·1 + 1"
    note: str = ""


@dataclass(frozen=True)
class FakeParameters:
    total: int = 5
    trainable: int = 5
    non_trainable: int = 0
    layers: tuple[FakeLayer, ...] = (FakeLayer(),)


@dataclass
class FakeTrainer:
    """Predicts the true labels plus a fixed offset; records what the stages asked of it."""

    offset: float = 0.5
    fails_with: BaseException | None = None
    fit_calls: list[dict[str, Any]] = field(default_factory=list)
    predicted_parts: list[str] = field(default_factory=list)

    def build(self, spec, dataset):
        return BuiltModel(model=object(), parameters=FakeParameters())

    def fit(self, model, spec, dataset, *, callbacks, checkpoint_dir, resume_from, console, quiet):
        self.fit_calls.append({"callbacks": list(callbacks), "checkpoint_dir": checkpoint_dir,
                               "resume_from": resume_from})
        if self.fails_with is not None:
            raise self.fails_with
        history = pd.DataFrame({"epoch": range(1, EPOCHS + 1), "loss": [1.0, 0.5, 0.25],
                                "val_loss": [1.1, 0.6, 0.3]})
        return TrainingResult(history=history, epochs_run=EPOCHS, evaluated_epoch=EPOCHS, best_epoch=None,
                              stopped_early=False, seconds=0.0, stages={"train": EPOCHS},
                              trainable_parameters={"train": 5})

    def tensorboard_callback(self, setting, folder):
        return "tensorboard"

    def predict(self, model, part, image):
        self.predicted_parts.append(part.name)
        return np.asarray(part.labels, dtype=np.float64) + self.offset

    def evaluate(self, model, part, image):
        return {"loss": self.offset**2}

    def predict_and_evaluate(self, model, part, image):
        return self.predict(model, part, image), self.evaluate(model, part, image)

    def save(self, model, path):
        Path(path).write_text("fake model")


@pytest.fixture
def spec():
    return validate_spec(
        {"name": "fake", "data": {"path": "fake.csv", "target": "y"}, "model": {"layers": [{"type": "Dense", "units": 1}]},
         "train": {"epochs": EPOCHS}},
        source="fake.toml",
    )


@pytest.fixture
def dataset(make_dataset):
    return make_dataset(task="regression", rows=60)


@pytest.fixture
def registry(tmp_path):
    with Registry.open(f"sqlite:///{tmp_path / 'registry.db'}") as store:
        yield store


def leftover_folders(registry) -> list[str]:
    return sorted(path.name for path in artifacts.runs_dir(registry.home).iterdir()) if artifacts.runs_dir(
        registry.home).is_dir() else []


def test_a_plain_run_is_scored_on_every_part_looks_at_the_test_set_once_and_keeps_its_artifacts(
    spec, dataset, registry
):
    trainer = FakeTrainer(offset=0.5)
    result = execute(spec, dataset, "jax", registry, RunPolicy.plain(), trainer=trainer)

    record = result.record
    assert record.status == "finished"
    assert sorted(trainer.predicted_parts) == ["test", "train", "validation"]
    assert record.metrics["test"]["mae"] == pytest.approx(0.5)
    assert (record.test_set.look, record.test_set.looks) == (1, 1)
    assert record.primary.metric == "rmse" and record.primary.value == pytest.approx(0.5)
    assert record.primary.baseline in {"mean", "linear_regression"}
    assert record.training.stages == {"train": EPOCHS}
    assert set(record.timings) == {"build", "record", "train", "evaluate", "baselines", "write", "plots", "total"}
    assert min(record.timings.values()) >= 0.0
    assert record.timings["total"] == pytest.approx(sum(v for k, v in record.timings.items() if k != "total"))
    folder = Path(record.artifacts.dir)
    assert {"model.keras", "history.csv", "predictions_test.csv", "model_card.md"} <= set(record.artifacts.files)
    assert (folder / "model.keras").read_text() == "fake model"
    assert trainer.fit_calls[0]["checkpoint_dir"] is not None  # a plain run can be resumed
    assert not [name for name in leftover_folders(registry) if name.startswith(".")]
    assert registry.get(record.id).to_dict() == record.to_dict()


def test_a_trial_is_scored_on_validation_only_and_never_looks_at_the_test_set(spec, dataset, registry):
    trainer = FakeTrainer(offset=0.25)
    study = StudyRole(name="fake_tune", trial=4, params={"train.epochs": EPOCHS}, objective="val_loss", role="trial")
    result = execute(spec, dataset, "jax", registry, RunPolicy.trial(study, callbacks=("pruning",)), trainer=trainer)

    record = result.record
    assert "test" not in trainer.predicted_parts
    assert record.metrics["test"] == {}
    assert (record.test_set.name, record.test_set.fingerprint, record.test_set.look) == (None, None, None)
    assert record.primary.metric == "val_loss" and record.primary.value == pytest.approx(0.0625)
    assert record.primary.baseline is None
    assert record.study.role == "trial" and record.description == "trial 4 of study fake_tune: train.epochs=3"
    assert trainer.fit_calls[0]["checkpoint_dir"] is None and trainer.fit_calls[0]["callbacks"] == ["pruning"]
    assert "predictions_test.csv" not in record.artifacts.files
    assert registry.warnings_for_test_set(dataset.test_fingerprint, "synthetic") == []
    assert result.warnings == []


def test_a_study_final_run_keeps_its_study_and_looks_at_the_test_set(spec, dataset, registry):
    study = StudyRole(name="fake_tune", trial=2, params={}, objective="val_loss", role="final", objective_value=0.3)
    record = execute(spec, dataset, "jax", registry, RunPolicy.study_final(study), trainer=FakeTrainer()).record
    assert record.study.to_dict() == study.to_dict()
    assert record.test_set.look == 1 and record.primary.metric == "rmse"


def test_a_training_error_is_recorded_as_failed_with_nothing_left_in_the_runs_folder(spec, dataset, registry):
    error = TrainingError.single("fake.toml", "train", "loss became NaN at epoch 2")
    with pytest.raises(TrainingError):
        execute(spec, dataset, "jax", registry, trainer=FakeTrainer(fails_with=error))
    (row,) = registry.list_runs()
    stored = registry.get(row.id)
    assert stored.status == "failed" and "loss became NaN" in stored.error
    assert stored.test_set.look is None  # a failed run did not look at the test set
    assert leftover_folders(registry) == []


def test_a_spec_error_found_while_training_records_nothing(spec, dataset, registry):
    with pytest.raises(SpecError):
        execute(spec, dataset, "jax", registry, trainer=FakeTrainer(fails_with=SpecError.single("fake.toml", "x", "bad")))
    assert registry.list_runs() == [] and leftover_folders(registry) == []


def test_ctrl_c_records_the_run_as_interrupted_and_keeps_its_folder(spec, dataset, registry):
    with pytest.raises(KeyboardInterrupt):
        execute(spec, dataset, "jax", registry, trainer=FakeTrainer(fails_with=KeyboardInterrupt()))
    (row,) = registry.list_runs()
    stored = registry.get(row.id)
    assert stored.status == "interrupted"
    assert stored.error == "interrupted before its first epoch ended; start it again with dlw run"
    assert artifacts.interrupted_dir(registry.home, row.id).is_dir()


def test_a_resumed_run_replaces_its_interrupted_record_under_the_same_id(spec, dataset, registry):
    with pytest.raises(KeyboardInterrupt):
        execute(spec, dataset, "jax", registry, trainer=FakeTrainer(fails_with=KeyboardInterrupt()))
    (row,) = registry.list_runs()
    registry.add_comment(row.id, "stopped to free the GPU")
    interrupted = registry.get(row.id)
    trainer = FakeTrainer()
    policy = RunPolicy.resumed(ResumeState(row.id, interrupted.created_at, checkpoint="the checkpoint"))
    record = execute(spec, dataset, "jax", registry, policy, trainer=trainer).record

    assert trainer.fit_calls[0]["resume_from"] == "the checkpoint"
    assert (record.id, record.status, record.created_at) == (row.id, "finished", interrupted.created_at)
    assert [comment.text for comment in registry.get(row.id).comments] == ["stopped to free the GPU"]
    assert [run.id for run in registry.list_runs()] == [row.id]


def test_the_owner_note_lets_a_killed_run_be_recovered(spec, dataset, registry):
    """A run killed mid-training leaves its owner note; recovery records it as interrupted."""
    from dlworkflow.registry.recovery import recover_killed_runs

    class Killed(BaseException):
        pass

    trainer = FakeTrainer(fails_with=Killed())
    folder_seen: dict[str, Any] = {}

    def fit_and_look(*args, checkpoint_dir, **kwargs):
        owner = Path(checkpoint_dir).parent / artifacts.OWNER
        folder_seen["owner"] = json.loads(owner.read_text())
        raise Killed()

    trainer.fit = fit_and_look  # type: ignore[method-assign]
    with pytest.raises(Killed):
        execute(spec, dataset, "jax", registry, trainer=trainer)
    assert folder_seen["owner"]["record"]["status"] == "running"
    assert folder_seen["owner"]["record"]["test_set"]["fingerprint"] == dataset.test_fingerprint
    assert recover_killed_runs(registry) == []  # a failed run's folder is gone: nothing to recover


# --------------------------------------------------------------------------- faults: never lose a trained model

LOCKER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # until the test closes stdin
connection.execute("COMMIT")
"""


@pytest.fixture
def fast_retries(monkeypatch):
    """A busy timeout of 0.1 s and two quick retries, so a held lock fails a write within a second."""
    from dlworkflow.execution import runner
    from dlworkflow.registry import database

    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(runner, "RECORD_RETRY_DELAYS", (0.05, 0.05))


@pytest.fixture
def held_lock(tmp_path):
    """Another process holding the registry's SQLite write lock until ``release()`` (or the test's end)."""
    import subprocess
    import sys

    path = tmp_path / "registry.db"
    Registry.open(f"sqlite:///{path}").close()  # the registry exists before the lock is taken
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"

        def release():
            if locker.poll() is None:
                locker.stdin.close()
                locker.wait(timeout=10)

        yield release
    finally:
        if locker.poll() is None:
            locker.kill()
        locker.wait()


def cli(registry_url: str, *arguments: str):
    from typer.testing import CliRunner

    from dlworkflow.cli import app

    return CliRunner().invoke(app, [*arguments, "--registry", registry_url])


def test_a_run_finishing_while_another_process_holds_the_registry_locked_keeps_its_folder_and_is_recovered(
    spec, dataset, tmp_path, fast_retries, held_lock
):
    from dlworkflow.errors import RegistryError
    from dlworkflow.registry.unrecorded import unrecorded_runs

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Registry.open(url) as registry, pytest.raises(RegistryError) as caught:
        execute(spec, dataset, "jax", registry, RunPolicy.plain(), trainer=FakeTrainer())
    message = str(caught.value)
    assert "the run finished but cannot be recorded after 3 tries (" in message
    assert "database is locked" in message and "nothing is lost" in message and "`dlw recover`" in message
    assert caught.value.exit_code == 5
    (run_id,) = unrecorded_runs(tmp_path)
    folder = artifacts.run_dir(tmp_path, run_id)
    assert f"kept in {str(folder)!r}" in message
    assert {"model.keras", "run.json", "history.csv"} <= {path.name for path in folder.iterdir()}
    assert not (folder / artifacts.OWNER).exists() and not (folder / artifacts.CHECKPOINT_DIR).exists()
    note = json.loads(artifacts.unrecorded_file(tmp_path, run_id).read_text())
    assert note["pid"] is None and "database is locked" in note["error"]

    listed = cli(url, "runs")  # while the lock is still held: the run is listed as not yet recorded
    assert listed.exit_code == 0, listed.output
    assert f"1 trained run(s) not yet recorded: {run_id}" in listed.output and "dlw recover" in listed.output

    held_lock()  # the other process lets go
    recovered = cli(url, "recover")
    assert recovered.exit_code == 0, recovered.output
    assert f"1 run(s) recorded: {run_id}" in recovered.output
    rows = json.loads(cli(url, "runs", "--json").output)
    assert [(row["id"], row["status"]) for row in rows] == [(run_id, "finished")]
    assert rows[0]["primary_value"] == pytest.approx(0.5)
    assert unrecorded_runs(tmp_path) == [] and "not yet recorded" not in cli(url, "runs").output
    with Registry.open(url) as registry:
        stored = registry.get(run_id)
    assert stored.metrics["test"]["mae"] == pytest.approx(0.5) and stored.test_set.look == 1
    assert stored.artifacts.dir == str(folder)


def test_recover_says_which_runs_still_cannot_be_recorded(spec, dataset, tmp_path, fast_retries, held_lock):
    from dlworkflow.errors import RegistryError

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Registry.open(url) as registry, pytest.raises(RegistryError):
        execute(spec, dataset, "jax", registry, RunPolicy.plain(), trainer=FakeTrainer())
    result = cli(url, "recover")
    assert result.exit_code == 5
    assert "1 finished run(s) still cannot be recorded" in result.output and "database is locked" in result.output
    assert "run `dlw recover` again" in result.output


def test_a_run_whose_process_was_killed_during_the_registry_write_is_recovered(spec, dataset, registry, monkeypatch):
    import subprocess
    import sys

    from dlworkflow.registry.unrecorded import adopt_runs, unrecorded_runs

    class Killed(BaseException):
        pass

    def killed(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(registry, "record", killed)
    with pytest.raises(Killed):
        execute(spec, dataset, "jax", registry, RunPolicy.plain(), trainer=FakeTrainer())
    monkeypatch.undo()
    (run_id,) = unrecorded_runs(registry.home)
    assert artifacts.run_dir(registry.home, run_id).is_dir()
    assert adopt_runs(registry).pending == [run_id]  # its process (this one) still runs: not taken from it
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    note = artifacts.unrecorded_file(registry.home, run_id)
    note.write_text(json.dumps({**json.loads(note.read_text()), "pid": int(gone.stdout)}))
    assert adopt_runs(registry).recorded == [run_id]
    assert registry.get(run_id).status == "finished" and unrecorded_runs(registry.home) == []


def test_a_run_killed_after_it_finished_but_before_its_folder_moved_into_place_is_recorded_finished(
    spec, dataset, registry, monkeypatch
):
    import subprocess
    import sys

    from dlworkflow.execution import runner
    from dlworkflow.registry.recovery import recover_killed_runs

    class Killed(BaseException):
        pass

    def killed(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(runner, "note_unrecorded", killed)
    monkeypatch.setattr(artifacts.RunFolder, "discard", lambda self: None)  # a kill cleans nothing up
    with pytest.raises(Killed):
        execute(spec, dataset, "jax", registry, RunPolicy.plain(), trainer=FakeTrainer())
    monkeypatch.undo()
    (staging,) = artifacts.runs_dir(registry.home).glob(".staging-*")
    assert (staging / artifacts.RECORD).is_file() and (staging / artifacts.OWNER).is_file()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    owner = json.loads((staging / artifacts.OWNER).read_text())
    (staging / artifacts.OWNER).write_text(json.dumps({**owner, "pid": int(gone.stdout)}))
    (run_id,) = recover_killed_runs(registry)
    stored = registry.get(run_id)
    assert stored.status == "finished" and stored.metrics["test"]["mae"] == pytest.approx(0.5)
    assert leftover_folders(registry) == [run_id]
    assert not (artifacts.run_dir(registry.home, run_id) / artifacts.OWNER).exists()


def test_run_folders_of_a_lost_registry_are_recorded_again(spec, dataset, tmp_path):
    from dlworkflow.registry.unrecorded import adopt_runs

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Registry.open(url) as registry:
        record = execute(spec, dataset, "jax", registry, RunPolicy.plain(), trainer=FakeTrainer()).record
    for path in tmp_path.glob("registry.db*"):
        path.unlink()  # the registry is lost; the run folders stay
    with Registry.open(url) as registry:
        assert registry.list_runs() == []
        adoption = adopt_runs(registry)
        assert adoption.recorded == [record.id]
        assert registry.get(record.id).metrics == record.metrics
        assert adopt_runs(registry).recorded == []  # once is enough


def test_a_registry_file_removed_during_a_run_is_noticed_and_the_run_is_recorded_into_the_next_one(
    spec, dataset, tmp_path, fast_retries
):
    from dlworkflow.errors import RegistryError

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    trainer = FakeTrainer()
    fit = trainer.fit

    def fit_and_lose_the_registry(*args, **kwargs):
        for path in tmp_path.glob("registry.db*"):
            path.unlink()  # SQLite would go on writing into the removed file, and lose the run with it
        return fit(*args, **kwargs)

    trainer.fit = fit_and_lose_the_registry  # type: ignore[method-assign]
    with Registry.open(url) as registry, pytest.raises(RegistryError, match=r"registry\.db' was removed or replaced"):
        execute(spec, dataset, "jax", registry, RunPolicy.plain(), trainer=trainer)
    recovered = cli(url, "recover")  # a new registry file: the kept run is recorded into it
    assert recovered.exit_code == 0 and "1 run(s) recorded" in recovered.output, recovered.output
    (row,) = json.loads(cli(url, "runs", "--json").output)
    assert row["status"] == "finished" and row["primary_value"] == pytest.approx(0.5)


def test_disk_full_while_drawing_plots_keeps_the_model_and_records_the_run_without_plots(
    spec, dataset, tmp_path, monkeypatch
):
    import errno

    from matplotlib.figure import Figure

    def disk_full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"\x89PNG half")  # a partial file, as a full disk leaves it
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with monkeypatch.context() as patch, Registry.open(url) as registry:
        patch.setattr(Figure, "savefig", disk_full)
        result = execute(spec, dataset, "jax", registry, RunPolicy.plain(), trainer=FakeTrainer())
        stored = registry.get(result.record.id)
    folder = Path(stored.artifacts.dir)
    assert stored.status == "finished" and "model.keras" in stored.artifacts.files
    assert not list(folder.glob("*.png")) and not [name for name in stored.artifacts.files if name.endswith(".png")]
    (warning,) = [text for text in stored.warnings if "plots not drawn" in text]
    assert "No space left on device" in warning and "history.png" in warning and "dlw report" in warning
    assert any("plots not drawn" in text for text in result.warnings)

    report = cli(url, "report", stored.id)  # the disk has room again: the report draws what is missing
    assert report.exit_code == 0, report.output
    assert {path.name for path in folder.glob("*.png")} == {"history.png", "predicted_vs_true.png", "residuals.png"}


@pytest.mark.parametrize(("error", "expected"), [
    (OSError(28, "No space left on device"), r"cannot write the run's files: the disk is full.*Free space on that disk"),
    (PermissionError(13, "Permission denied"), r"files: permission denied.*Make the registry home writable"),
    (OSError(30, "Read-only file system"), r"the file system is read-only.*Make the registry home writable"),
])
def test_a_full_disk_or_a_read_only_folder_while_checkpointing_is_one_error_with_nothing_left(
    spec, dataset, registry, error, expected
):
    import os

    from dlworkflow.errors import RegistryError

    trainer = FakeTrainer()

    def checkpoint_fails(model, spec, dataset, *, checkpoint_dir, **kwargs):
        Path(checkpoint_dir).mkdir()
        (Path(checkpoint_dir) / ".arrays.partial.npz").write_bytes(b"half")
        os.chmod(checkpoint_dir, 0o500)  # read-only, as a user may leave it
        error.filename = str(Path(checkpoint_dir) / ".arrays.partial.npz")
        raise error

    trainer.fit = checkpoint_fails  # type: ignore[method-assign]
    with pytest.raises(RegistryError, match=expected) as caught:
        execute(spec, dataset, "jax", registry, trainer=trainer)
    assert caught.value.exit_code == 5 and "nothing of this run was kept" in str(caught.value)
    assert leftover_folders(registry) == []  # no .staging-* folder, read-only or not
    (row,) = registry.list_runs()
    assert registry.get(row.id).status == "failed"


def test_a_read_only_folder_is_removed_all_the_same(tmp_path):
    import os

    from dlworkflow.registry.artifacts import RunFolder

    folder = RunFolder.stage(tmp_path, "20250101-000000-c0ffee")
    inner = folder.path(artifacts.CHECKPOINT_DIR)
    inner.mkdir()
    (inner / "state.json").write_text("{}")
    os.chmod(inner, 0o500)
    os.chmod(folder.directory, 0o500)
    folder.discard()
    assert not folder.directory.exists()


def test_a_run_killed_on_another_host_is_recognised_by_its_heartbeat(spec, dataset, registry):
    import os
    import time

    from dlworkflow.execution.stages import run_header
    from dlworkflow.registry.recovery import (
        STALE_AFTER_SECONDS,
        process_gone,
        recover_killed_runs,
    )

    run_id = registry.new_run_id()
    folder = registry.stage(run_id)
    header = run_header(spec, dataset, "jax", run_id, "2026-12-07T10:00:00+00:00", FakeParameters(),
                        RunPolicy.plain())
    note = folder.path(artifacts.OWNER)
    owner = {"host": "gpu-node-17", "pid": 4242, "record": header.to_dict()}
    note.write_text(json.dumps(owner))
    beat = note.stat().st_mtime
    assert not process_gone(owner, note, now=beat + 60)  # beating a minute ago: alive as far as we know
    assert process_gone(owner, note, now=beat + STALE_AFTER_SECONDS + 1)
    assert recover_killed_runs(registry) == []  # fresh heartbeat: left alone
    os.utime(note, (time.time() - STALE_AFTER_SECONDS - 60,) * 2)
    assert recover_killed_runs(registry) == [run_id]
    assert registry.get(run_id).status == "interrupted"


def test_a_training_run_beats_its_heartbeat(spec, dataset, registry, monkeypatch):
    import time

    from dlworkflow.registry import recovery

    monkeypatch.setattr(recovery, "HEARTBEAT_SECONDS", 0.01)
    monkeypatch.setattr(recovery.Heartbeat.__init__, "__defaults__", (0.01,))
    trainer = FakeTrainer()
    fit = trainer.fit
    seen = {}

    def slow_fit(model, spec, dataset, *, checkpoint_dir, **kwargs):
        note = Path(checkpoint_dir).parent / artifacts.OWNER
        before = note.stat().st_mtime_ns
        time.sleep(0.2)
        seen["touched"] = note.stat().st_mtime_ns > before
        return fit(model, spec, dataset, checkpoint_dir=checkpoint_dir, **kwargs)

    trainer.fit = slow_fit  # type: ignore[method-assign]
    execute(spec, dataset, "jax", registry, trainer=trainer)
    assert seen["touched"]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads a thread's signal mask from /proc (Linux)")
def test_the_heartbeat_thread_takes_no_signals_so_ctrl_c_reaches_the_training(tmp_path):
    """A Ctrl-C the kernel hands to the heartbeat's thread while it waits was lost (the run trained on)."""
    import signal
    import threading
    import time

    from dlworkflow.registry.recovery import Heartbeat

    note = tmp_path / "owner.json"
    note.write_text("{}")
    with Heartbeat(note, every=30):
        time.sleep(0.05)  # the thread has started and blocked its signals
        (thread,) = [thread for thread in threading.enumerate() if thread.name == "dlw-heartbeat"]
        status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    blocked = int(next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        assert blocked & (1 << (number - 1)), f"signal {number.name} can reach the heartbeat thread"
