"""Tests of dlworkflow.training.callbacks, interrupts and progress (one tiny fit, the rest without training)."""

from __future__ import annotations

import io
import math

import keras
import pytest

from rich.console import Console

from dlworkflow.spec import validate_spec
from dlworkflow.training import EpochProgress, StopOnNaN, TrackedEarlyStopping, make_callbacks
from dlworkflow.training.progress import format_logs
from fake_keras_model import FakeModel


def train_spec(**train):
    document = {
        "name": "m",
        "data": {"dataset": "weather", "target": "y"},
        "split": {"validation": 0.2},
        "model": {"layers": [{"type": "Dense", "units": 1}]},
        "train": train,
    }
    return validate_spec(document, source="m.toml").train


def test_factory_order():
    progress = EpochProgress(quiet=True)
    extra = StopOnNaN(monitor="val_loss")
    callbacks = make_callbacks(train_spec(early_stopping={"patience": 3}), progress=progress, extra=[extra])
    assert [type(c).__name__ for c in callbacks] == [
        "StopOnCtrlC", "StopOnNaN", "TrackedEarlyStopping", "StopOnNaN", "EpochProgress"]
    assert callbacks[3] is extra and callbacks[4] is progress
    assert callbacks[2].patience == 3 and callbacks[2].monitor == "val_loss"


def test_factory_without_early_stopping_or_progress():
    assert [type(c).__name__ for c in make_callbacks(train_spec(), progress=None)] == ["StopOnCtrlC", "StopOnNaN"]


def test_stop_on_nan_records_the_one_based_epoch():
    guard, model = StopOnNaN(), FakeModel()
    guard.set_model(model)
    guard.on_train_begin()
    guard.on_epoch_end(0, {"loss": 1.0})
    assert guard.bad_epoch is None and not model.stop_training
    guard.on_epoch_end(1, {"loss": math.inf})
    assert (guard.bad_epoch, guard.bad_value, model.stop_training) == (2, math.inf, True)


def run_epochs(stopping, values, model=None):
    model = model or FakeModel()
    stopping.set_model(model)
    stopping.on_train_begin()
    for epoch, value in enumerate(values):
        model.weights = [float(epoch)]
        stopping.on_epoch_end(epoch, {"loss": value, "val_loss": value})
        if model.stop_training:
            break
    stopping.on_train_end()
    return model


def test_tracked_early_stopping_numbers_epochs_from_one():
    stopping = TrackedEarlyStopping(monitor="val_loss", patience=2)
    run_epochs(stopping, [5.0, 3.0, 4.0, 4.0, 1.0])
    assert stopping.epochs_seen == 4
    assert (stopping.best_epoch_number, stopping.stopped_epoch_number, stopping.stopped_early) == (2, 4, True)
    assert stopping.evaluated_epoch == 4


def test_tracked_early_stopping_with_restored_weights():
    stopping = TrackedEarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model = run_epochs(stopping, [5.0, 3.0, 4.0, 4.0, 1.0])
    assert stopping.evaluated_epoch == 2
    assert model.weights == [1.0]  # the weights at the end of epoch 2 (0-based epoch 1)


def test_restored_weights_without_stopping_early():
    stopping = TrackedEarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
    run_epochs(stopping, [5.0, 3.0, 4.0])
    assert (stopping.stopped_early, stopping.best_epoch_number, stopping.evaluated_epoch) == (False, 2, 2)


def test_tracked_early_stopping_missing_monitor_stops_and_lists_keys():
    stopping = TrackedEarlyStopping(monitor="val_los")
    model = run_epochs(stopping, [1.0, 1.0])
    assert model.stop_training and stopping.missing_monitor == ("loss", "val_loss")
    assert stopping.best_epoch_number is None


def test_format_logs():
    assert format_logs({"loss": 3.14159, "val_loss": 2.0, "note": "x"}) == "loss 3.142 · val_loss 2"
    assert format_logs(None) == ""


def test_epoch_progress_advances_once_per_epoch():
    buffer = io.StringIO()
    progress = EpochProgress(Console(file=buffer, force_terminal=True, width=150), label="weather")
    progress.set_params({"epochs": 3})
    progress.on_train_begin()
    for epoch in range(3):
        progress.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
    progress.on_train_end()
    assert progress.last_description == "weather  epoch 3/3  loss 0.3333"
    assert "3/3" in buffer.getvalue() and "loss 0.3333" in buffer.getvalue()
    progress.close()  # closing twice is harmless


def test_epoch_progress_shows_a_label_as_written_with_control_characters_escaped():
    buffer = io.StringIO()
    progress = EpochProgress(Console(file=buffer, force_terminal=True, width=150), label="[bold]pen[/x]\x1b[2J")
    progress.set_params({"epochs": 1})
    progress.on_train_begin()
    progress.on_epoch_end(0, {"loss": 0.5})
    progress.label = "[/y] (fine-tune)\r"
    assert progress.label == "[/y] (fine-tune)\\x0d"
    progress.on_train_end()
    assert "[bold]pen[/x]\\x1b[2J" in buffer.getvalue()
    assert "\x1b[2J" not in buffer.getvalue()


def test_a_ctrl_c_lost_in_a_library_still_stops_training_at_the_next_batch():
    import signal

    from dlworkflow.training.interrupts import StopOnCtrlC

    guard = StopOnCtrlC()
    before = signal.getsignal(signal.SIGINT)
    guard.on_train_begin()
    guard.on_train_batch_end(0)  # nothing pressed: training goes on
    try:
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        pass  # swallowed, as a library frame might
    assert guard.pressed
    with pytest.raises(KeyboardInterrupt):
        guard.on_train_batch_end(1)
    assert signal.getsignal(signal.SIGINT) is before  # the previous handler is back


def test_a_real_fit_stops_at_the_batch_after_a_lost_ctrl_c():
    import signal

    import numpy as np

    from dlworkflow.training.interrupts import StopOnCtrlC

    class SwallowOnce(keras.callbacks.Callback):
        """Ctrl-C pressed during batch 2 and lost by the code that was running."""

        def on_train_batch_begin(self, batch, logs=None):
            if batch == 2:
                try:
                    signal.raise_signal(signal.SIGINT)
                except KeyboardInterrupt:
                    pass

    before = signal.getsignal(signal.SIGINT)  # default, or ignored when started in the background
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    seen = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    with pytest.raises(KeyboardInterrupt):
        model.fit(np.zeros((40, 3)), np.zeros(40), batch_size=4, epochs=3, verbose=0,
                  callbacks=[SwallowOnce(), StopOnCtrlC(), counter])
    assert seen == [0, 1]  # stopped at the end of batch 2, before the counter saw it
    assert signal.getsignal(signal.SIGINT) is before  # put back on the way out
