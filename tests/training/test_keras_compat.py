"""Each Keras internal dlworkflow relies on (:mod:`dlworkflow.training.keras_compat`), against the installed Keras.

A failure here means a Keras upgrade removed or changed that internal: the message names it,
and the compat function (and only it) has to be adapted.
"""

from __future__ import annotations

import subprocess
import sys

import keras
import numpy as np
import pytest

from dlworkflow.training import keras_compat
from dlworkflow.training.keras_compat import (
    early_stopping_counters,
    is_compiled,
    registered_metric_names,
    resolve_monitor_direction,
    set_early_stopping_counters,
    set_steps_per_execution,
    steps_per_execution_of,
    tensorflow_reported_absent,
)
from fake_keras_model import FakeModel

X = np.linspace(0, 1, 24, dtype="float32").reshape(8, 3)
Y = X.sum(axis=1, keepdims=True)


def tiny_model(*, metrics=("mae",), steps_per_execution=1, compile=True):
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    if compile:
        model.compile(optimizer="sgd", loss="mse", metrics=list(metrics), steps_per_execution=steps_per_execution)
    return model


def feed(stopping, values, *, model=None, first_epoch=0, begin=True, end=True):
    """Run an EarlyStopping through epochs of ``val_loss`` values; the 0-based epoch it stopped after, or None."""
    model = model or FakeModel()
    stopping.set_model(model)
    if begin:
        stopping.on_train_begin()
    stopped = None
    for epoch, value in enumerate(values, start=first_epoch):
        model.weights = [float(epoch)]
        stopping.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            stopped = epoch
            break
    if end:
        stopping.on_train_end()
    return stopped


def test_the_module_does_not_import_keras_when_imported():
    code = (
        "import sys, dlworkflow.training.keras_compat\n"
        "sys.exit('keras' in sys.modules and 'keras imported')"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout


def test_registered_metric_names():
    names = registered_metric_names()
    assert names is not None, (
        "keras.src.metrics.ALL_OBJECTS_DICT is gone: registered_metric_names() must find the names "
        "keras.metrics.get accepts elsewhere"
    )
    for name in ("root_mean_squared_error", "mae", "mse", "r2_score", "RootMeanSquaredError"):
        assert name in names, f"keras.src.metrics.ALL_OBJECTS_DICT no longer holds {name!r}"
        assert keras.metrics.get(name) is not None  # the names are those keras.metrics.get looks up


def test_tensorflow_reported_absent():
    from keras.src.utils import module_utils

    lazy = getattr(module_utils, "tensorflow", None)
    assert lazy is not None, "keras.src.utils.module_utils.tensorflow (Keras' lazy TensorFlow module) is gone"
    assert hasattr(lazy, "_available"), "keras' LazyModule no longer caches its answer in _available"
    before = lazy._available
    with tensorflow_reported_absent():
        assert lazy.available is False, (
            "keras.src.utils.module_utils.tensorflow.available ignores _available: "
            "tensorflow_reported_absent() no longer keeps TensorFlow unimported"
        )
    assert lazy._available is before, "tensorflow_reported_absent() did not restore Keras' cached answer"


SEED_CODE = """
import os, sys
os.environ["KERAS_BACKEND"] = "jax"
import keras
from dlworkflow.training.keras_compat import tensorflow_reported_absent
with tensorflow_reported_absent():
    keras.utils.set_random_seed(0)
sys.exit("tensorflow" in sys.modules and "keras.utils.set_random_seed imported TensorFlow within the block")
"""


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_tensorflow_reported_absent_keeps_seeding_from_importing_tensorflow():
    completed = subprocess.run([sys.executable, "-c", SEED_CODE], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, (
        "keras.src.utils.module_utils.tensorflow._available: " + (completed.stderr[-2000:] or completed.stdout)
    )


@pytest.mark.parametrize(
    ("monitor", "mode", "direction"),
    [("val_loss", "auto", "less"), ("val_mae", "auto", "less"), ("val_r2", "auto", "greater"),
     ("val_custom", "max", "greater"), ("val_custom", "min", "less")],
)
def test_resolve_monitor_direction(monitor, mode, direction):
    model = tiny_model(metrics=["mae", keras.metrics.R2Score(name="r2")])
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)  # the compiled metrics are built
    stopping = keras.callbacks.EarlyStopping(monitor=monitor, mode=mode)
    stopping.set_model(model)
    assert stopping.monitor_op is None, "EarlyStopping.monitor_op is no longer None until the first epoch ends"
    resolve_monitor_direction(stopping)
    assert stopping.monitor_op is getattr(keras.ops, direction), (
        f"MonitorCallback._set_monitor_op() no longer sets monitor_op to keras.ops.{direction} for {monitor!r}, "
        f"mode={mode!r}"
    )
    resolve_monitor_direction(stopping)  # already set: left as it is
    assert stopping.monitor_op is getattr(keras.ops, direction)


def test_resolve_monitor_direction_raises_when_keras_cannot_tell():
    model = tiny_model(metrics=[keras.metrics.MeanMetricWrapper(lambda y, p: p - y, name="custom")])
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    stopping = keras.callbacks.EarlyStopping(monitor="val_custom", mode="auto")
    stopping.set_model(model)
    with pytest.raises(ValueError, match="val_custom"):
        resolve_monitor_direction(stopping)
    assert stopping.monitor_op is None


def test_early_stopping_counters():
    stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    stopped = feed(stopping, [5.0, 3.0, 4.0, 4.0, 1.0], end=False)
    counters = early_stopping_counters(stopping)
    assert stopped == 3, "keras.callbacks.EarlyStopping no longer stops after `patience` epochs without improvement"
    assert counters == keras_compat.EarlyStoppingCounters(
        wait=2, best=3.0, best_epoch=1, stopped_epoch=3, kept_best_weights=True
    ), f"EarlyStopping's wait/best/best_epoch/stopped_epoch/best_weights changed meaning: {counters}"
    model = stopping.model
    stopping.on_train_end()
    assert model.weights == [1.0], "EarlyStopping no longer puts best_weights back at the end of training"


def test_early_stopping_counters_before_training_and_without_stopping():
    fresh = early_stopping_counters(keras.callbacks.EarlyStopping(monitor="val_loss"))
    assert fresh == keras_compat.EarlyStoppingCounters(0, None, 0, 0, False)
    stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
    feed(stopping, [5.0, 3.0, 4.0])
    counters = early_stopping_counters(stopping)
    assert (counters.stopped_epoch, counters.best_epoch, counters.best, counters.wait) == (0, 1, 3.0, 1), (
        f"EarlyStopping's stopped_epoch/best_epoch/best/wait changed meaning: {counters}"
    )


def test_set_early_stopping_counters_goes_on_where_a_run_stopped():
    values = [5.0, 3.0, 4.0, 3.5, 4.0, 6.0, 7.0]
    whole = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    stopped_whole = feed(whole, values)

    first = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    feed(first, values[:3])
    counters = early_stopping_counters(first)
    second = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    second.set_model(FakeModel())
    second.on_train_begin()
    set_early_stopping_counters(second, wait=counters.wait, best=counters.best, best_epoch=counters.best_epoch)
    stopped_second = feed(second, values[3:], model=second.model, first_epoch=3, begin=False)
    assert stopped_second == stopped_whole == 4, (
        "EarlyStopping's wait/best/best_epoch are no longer the whole of its state: "
        f"a resumed run stopped after epoch {stopped_second}, the uninterrupted one after {stopped_whole}"
    )
    assert early_stopping_counters(second) == early_stopping_counters(whole)


def test_is_compiled():
    model = tiny_model(compile=False)
    assert is_compiled(model) is False, "Trainer.compiled is no longer False before compile"
    model.compile(optimizer="sgd", loss="mse")
    assert is_compiled(model) is True, "Trainer.compiled is no longer set by compile"
    assert is_compiled(object()) is False


def test_steps_per_execution_of():
    assert steps_per_execution_of(tiny_model(compile=False)) == 1
    assert steps_per_execution_of(tiny_model(steps_per_execution=4)) == 4, (
        "Trainer.steps_per_execution no longer holds compile's steps_per_execution"
    )


def test_set_steps_per_execution_makes_keras_rebuild_its_functions():
    model = tiny_model(steps_per_execution=4)
    model.fit(X, Y, batch_size=2, epochs=1, verbose=0)
    before = model.evaluate(X, Y, batch_size=2, verbose=0)
    model.predict(X, batch_size=2, verbose=0)
    for name in ("train_function", "test_function", "predict_function"):
        assert getattr(model, name, None) is not None, (
            f"Keras no longer keeps its built backend function in model.{name}: set_steps_per_execution() "
            "cannot make it rebuild it"
        )
    built = model.test_function
    set_steps_per_execution(model, 1)
    assert steps_per_execution_of(model) == 1
    assert (model.train_function, model.test_function, model.predict_function) == (None, None, None)
    batches = []
    counter = keras.callbacks.LambdaCallback(on_test_batch_end=lambda batch, logs: batches.append(batch))
    after = model.evaluate(X, Y, batch_size=2, verbose=0, callbacks=[counter])
    assert model.test_function is not None and model.test_function is not built, (
        "Keras did not rebuild model.test_function after it was set to None"
    )
    assert len(batches) == 4, f"evaluate ran {len(batches)} calls for 4 batches after steps_per_execution = 1"
    assert np.allclose(after, before)
    model.fit(X, Y, batch_size=2, epochs=1, verbose=0)  # training still works with the rebuilt function
