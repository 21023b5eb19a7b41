"""Epoch checkpoints: written atomically, and a run restored from one goes on exactly as it would have."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dlworkflow.errors import TrainingError
from dlworkflow.models import build_model
from dlworkflow.spec import validate_spec
from dlworkflow.training import compile_model, seed_everything
from dlworkflow.training.callbacks import TrackedEarlyStopping
from dlworkflow.training.checkpoint import (
    ARRAYS_FILE,
    PREVIOUS_KEY,
    STATE_FILE,
    EpochCheckpoint,
    read_checkpoint,
    restore_checkpoint,
)

SPEC = validate_spec({
    "name": "tiny",
    "data": {"dataset": "weather", "target": "y"},
    "split": {"validation": 0.2},
    "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dropout", "rate": 0.3},
                         {"type": "Dense", "units": 1}]},
    "train": {"epochs": 5, "batch_size": 8, "seed": 4},
})


def fresh_model(dataset):
    seed_everything(SPEC.train.seed)
    return compile_model(build_model(SPEC, dataset), SPEC, dataset)


def fit(model, dataset, epochs, initial_epoch=0, callbacks=()):
    return model.fit(dataset.train.x, dataset.train.y, batch_size=8, epochs=epochs, initial_epoch=initial_epoch,
                     validation_data=(dataset.validation.x, dataset.validation.y), verbose=0,
                     callbacks=list(callbacks), shuffle=True)


def test_a_run_restored_after_epoch_3_ends_as_the_uninterrupted_run(make_dataset, tmp_path):
    dataset = make_dataset(rows=60)
    whole = fresh_model(dataset)
    uninterrupted = fit(whole, dataset, 5).history

    first = fresh_model(dataset)
    fit(first, dataset, 3, callbacks=[EpochCheckpoint(tmp_path)])
    checkpoint = read_checkpoint(tmp_path)
    assert checkpoint.epoch == 3 and len(checkpoint.history) == 3
    # the last epoch's arrays and those of the checkpoint written before it (the fallback) kept, older ones
    # removed; written beside training, the latest state only, so the one before may be epoch 1 or 2
    previous = json.loads((tmp_path / STATE_FILE).read_text())[PREVIOUS_KEY]["epoch"]
    assert previous in (1, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"checkpoint-{previous}.npz", "checkpoint-3.npz", STATE_FILE]

    np.random.seed(12345)  # whatever happened in between (another process) is undone by the checkpoint
    second = fresh_model(dataset)
    restore_checkpoint(second, checkpoint)
    resumed = fit(second, dataset, 5, initial_epoch=3).history

    # Same weights, optimizer moments, Dropout random state and shuffling (NumPy's state on JAX):
    # the last two epochs are the uninterrupted run's, to float32 rounding.
    assert resumed["loss"] == pytest.approx(uninterrupted["loss"][3:], rel=1e-5)
    assert resumed["val_loss"] == pytest.approx(uninterrupted["val_loss"][3:], rel=1e-5)
    for mine, theirs in zip(second.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_early_stopping_goes_on_counting_where_it_stopped(make_dataset, tmp_path):
    dataset = make_dataset(rows=60)
    stopping = TrackedEarlyStopping(monitor="val_loss", patience=2, min_delta=1e9)  # never improves after epoch 1
    model = fresh_model(dataset)
    fit(model, dataset, 2, callbacks=[stopping, EpochCheckpoint(tmp_path, early_stopping=stopping)])
    assert json.loads((tmp_path / STATE_FILE).read_text())["early_stopping"]["wait"] == 1

    again = TrackedEarlyStopping(monitor="val_loss", patience=2, min_delta=1e9)
    resumed_model = fresh_model(dataset)
    restore_checkpoint(resumed_model, read_checkpoint(tmp_path), early_stopping=again)
    history = fit(resumed_model, dataset, 20, initial_epoch=2, callbacks=[again]).history
    assert len(history["loss"]) == 1 and again.stopped_epoch_number == 3  # stops after epoch 3, as before


def test_no_checkpoint_and_a_broken_one(make_dataset, tmp_path):
    assert read_checkpoint(tmp_path) is None
    (tmp_path / STATE_FILE).write_text(json.dumps({"format": 1, "epoch": 2, "model_variables": 1,
                                                   "optimizer_variables": 0, "history": []}))
    with pytest.raises(TrainingError, match="no usable checkpoint: epoch 2: FileNotFoundError"):
        read_checkpoint(tmp_path)
    assert not list(tmp_path.glob(ARRAYS_FILE.format(epoch="*")))


def test_a_checkpoint_of_another_model_is_refused(make_dataset, tmp_path):
    dataset = make_dataset(rows=60)
    model = fresh_model(dataset)
    fit(model, dataset, 1, callbacks=[EpochCheckpoint(tmp_path)])
    other_spec = SPEC.model_copy(update={"model": SPEC.model.model_copy(update={"layers": SPEC.model.layers[::2]})})
    seed_everything(0)
    other = compile_model(build_model(other_spec, dataset), other_spec, dataset)
    with pytest.raises(ValueError, match="variables"):
        restore_checkpoint(other, read_checkpoint(tmp_path))
