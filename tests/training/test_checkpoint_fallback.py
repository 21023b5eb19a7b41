"""A damaged last checkpoint falls back to the one before it; none usable is one clear TrainingError."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from dlworkflow.errors import TrainingError
from dlworkflow.training.checkpoint_files import (
    ARRAYS_FILE,
    PREVIOUS_KEY,
    STATE_FILE,
    CheckpointWarning,
    read_checkpoint,
)


def state(epoch: int) -> dict:
    return {"format": 1, "epoch": epoch, "model_variables": 1, "optimizer_variables": 1,
            "history": [{"loss": 1.0 / (index + 1)} for index in range(epoch)], "early_stopping": None,
            "numpy_random": []}


@pytest.fixture()
def folder(tmp_path):
    """A checkpoint of epoch 5 with the one of epoch 4 beside it, as EpochCheckpoint leaves them."""
    for epoch in (4, 5):
        np.savez(tmp_path / ARRAYS_FILE.format(epoch=epoch), model_0=np.full(3, epoch, np.float32),
                 optimizer_0=np.array(epoch))
    (tmp_path / STATE_FILE).write_text(json.dumps({**state(5), PREVIOUS_KEY: state(4)}))
    return tmp_path


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_the_last_checkpoint_is_read(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint = read_checkpoint(folder)
    assert checkpoint.epoch == 5 and checkpoint.model_values[0].tolist() == [5.0] * 3


@pytest.mark.parametrize("damage", ["truncate", "garbage", "remove"])
def test_a_damaged_last_checkpoint_falls_back_to_the_one_before(folder, damage):
    last = folder / ARRAYS_FILE.format(epoch=5)
    if damage == "truncate":
        truncate(last)
    elif damage == "garbage":
        last.write_bytes(b"not a zip at all")
    else:
        last.unlink()
    with pytest.warns(CheckpointWarning, match="the checkpoint of the last epoch cannot be read .*epoch 4"):
        checkpoint = read_checkpoint(folder)
    assert checkpoint.epoch == 4 and len(checkpoint.history) == 4
    assert checkpoint.model_values[0].tolist() == [4.0] * 3 and int(checkpoint.optimizer_values[0]) == 4


def test_no_usable_checkpoint_is_one_training_error_naming_each(folder):
    truncate(folder / ARRAYS_FILE.format(epoch=5))
    (folder / ARRAYS_FILE.format(epoch=4)).write_bytes(b"PK\x03\x04 damaged")
    with pytest.raises(TrainingError, match=r"checkpoint: no usable checkpoint: epoch 5: \w+.*; epoch 4: \w+"
                                            r".*start its spec again with dlw run") as caught:
        read_checkpoint(folder)
    assert caught.value.exit_code == 4


def test_a_damaged_state_file_is_a_training_error(folder):
    truncate(folder / STATE_FILE)
    with pytest.raises(TrainingError, match=f"no usable checkpoint: {STATE_FILE}: JSONDecodeError"):
        read_checkpoint(folder)


def test_the_callback_keeps_the_last_two_and_the_state_before(make_dataset, tmp_path):
    from dlworkflow.training.checkpoint import EpochCheckpoint
    from tests.training.test_checkpoint import fit, fresh_model

    dataset = make_dataset(rows=40)
    fit(fresh_model(dataset), dataset, 3, callbacks=[EpochCheckpoint(tmp_path, every_seconds=0)])  # every epoch
    written = json.loads((tmp_path / STATE_FILE).read_text())
    assert written["epoch"] == 3 and written[PREVIOUS_KEY]["epoch"] == 2 and PREVIOUS_KEY not in written[PREVIOUS_KEY]
    truncate(tmp_path / ARRAYS_FILE.format(epoch=3))
    with pytest.warns(CheckpointWarning):
        assert read_checkpoint(tmp_path).epoch == 2


def test_dlw_resume_goes_on_from_the_epoch_before_or_stops_with_a_training_error(make_dataset, tmp_path):
    """The path of ``dlw resume``: an interrupted run whose last checkpoint was truncated afterwards."""
    from dlworkflow.execution.runner import execute
    from dlworkflow.registry import Registry, artifacts
    from dlworkflow.registry.recovery import resumable_run
    from dlworkflow.spec import validate_spec
    from tests.test_runner import FakeTrainer

    spec = validate_spec({"name": "fake", "data": {"path": "fake.csv", "target": "y"},
                          "model": {"layers": [{"type": "Dense", "units": 1}]}, "train": {"epochs": 8}},
                         source="fake.toml")
    with Registry.open(f"sqlite:///{tmp_path / 'registry.db'}") as registry:
        with pytest.raises(KeyboardInterrupt):
            execute(spec, make_dataset(task="regression", rows=30), "jax", registry,
                    trainer=FakeTrainer(fails_with=KeyboardInterrupt()))
        (row,) = registry.list_runs()
        checkpoint_dir = artifacts.interrupted_dir(registry.home, row.id) / artifacts.CHECKPOINT_DIR
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        for epoch in (4, 5):
            np.savez(checkpoint_dir / ARRAYS_FILE.format(epoch=epoch), model_0=np.zeros(3), optimizer_0=np.array(0))
        (checkpoint_dir / STATE_FILE).write_text(json.dumps({**state(5), PREVIOUS_KEY: state(4)}))
        truncate(checkpoint_dir / ARRAYS_FILE.format(epoch=5))
        with pytest.warns(CheckpointWarning):
            assert resumable_run(registry, row.id)[1].epoch == 4
        truncate(checkpoint_dir / ARRAYS_FILE.format(epoch=4))
        with pytest.raises(TrainingError, match="no usable checkpoint: epoch 5: .*; epoch 4: "):
            resumable_run(registry, row.id)
