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
    assert set(record.timings) == {"build", "train", "evaluate", "total"}
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
