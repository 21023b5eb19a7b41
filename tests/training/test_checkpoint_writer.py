"""The background checkpoint writer: the newest item written last, errors raised in the training thread."""

from __future__ import annotations

import json
import threading

import pytest

from dlworkflow.training.checkpoint_writer import BackgroundWriter


def test_items_overtaken_while_busy_are_skipped_and_the_last_is_written():
    release = threading.Event()
    written = []

    def write(item):
        release.wait(5)
        written.append(item)

    writer = BackgroundWriter(write)
    writer.submit(1)  # taken by the thread, which waits
    for item in (2, 3, 4):
        writer.submit(item)  # each replaces the one waiting
    release.set()
    writer.flush()
    assert written[-1] == 4 and len(written) <= 2
    assert not [t for t in threading.enumerate() if t.name == "dlw-checkpoint"]  # no thread outlives the flush


def test_a_write_error_is_raised_at_the_next_submit_or_flush():
    def write(item):
        raise OSError(28, "No space left on device")

    writer = BackgroundWriter(write)
    writer.submit(1)
    with pytest.raises(OSError, match="No space"):
        writer.flush()
    writer.flush()  # raised once
    writer.submit(2)
    writer._thread.join() if writer._thread else None  # the error is kept until the training thread looks
    with pytest.raises(OSError, match="No space"):
        writer.submit(3)


def test_the_first_and_the_last_epoch_are_written_and_none_between_within_the_interval(make_dataset, tmp_path):
    from dlworkflow.training import checkpoint as saved
    from tests.training.test_checkpoint import fit, fresh_model

    dataset = make_dataset(rows=40)
    model = fresh_model(dataset)
    fit(model, dataset, 4, callbacks=[saved.EpochCheckpoint(tmp_path, every_seconds=3600)])
    checkpoint = saved.read_checkpoint(tmp_path)
    assert checkpoint.epoch == 4 and len(checkpoint.history) == 4
    assert json.loads((tmp_path / saved.STATE_FILE).read_text())[saved.PREVIOUS_KEY]["epoch"] == 1  # epochs 2 and 3 skipped
    import keras

    for variable, values in zip(model.variables, checkpoint.model_values, strict=True):
        assert (keras.ops.convert_to_numpy(variable) == values).all()  # the state fit ended with
