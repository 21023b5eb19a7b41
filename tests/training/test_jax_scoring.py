"""Keras' values on JAX from the outputs, through one compiled function of one block shape (training.jax_scoring)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from dlworkflow.data.dataset import Part

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="the JAX path only")


def _regression(regularized: bool = False):
    keras.utils.set_random_seed(0)
    regularizer = keras.regularizers.L2(0.01) if regularized else None
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu", kernel_regularizer=regularizer),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["RootMeanSquaredError", "mae"])
    return model


def _part(rows: int) -> Part:
    rng = np.random.default_rng(rows)
    x = rng.normal(size=(rows, 5)).astype(np.float32)
    y = (x @ np.arange(1, 6, dtype=np.float32) + rng.normal(size=rows)).astype(np.float32)
    return Part(name="test", x=x, y=y, labels=y.astype(np.float64), frame=None)


class _Compiles(logging.Handler):
    def __init__(self):
        super().__init__()
        self.names: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        if "Finished XLA compilation of" in message:
            self.names.append(message.split("Finished XLA compilation of ")[1].split(" ")[0])


@pytest.fixture
def compiles():
    import jax

    handler, logger = _Compiles(), logging.getLogger("jax")
    level, setting = logger.level, jax.config.jax_log_compiles
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    jax.config.update("jax_log_compiles", True)
    yield handler.names
    jax.config.update("jax_log_compiles", setting)
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.mark.parametrize("regularized", [False, True])
def test_values_are_evaluates_for_parts_of_any_size(regularized):
    from dlworkflow.training.jax_scoring import can_score, keras_values_on_jax
    from dlworkflow.training.prediction import evaluate_model

    model = _regression(regularized)
    train = _part(77)
    model.fit(train.x, train.y, epochs=2, verbose=0)
    assert can_score(model)
    for rows in (45, 1):  # a padded last block after a whole one; one short block only
        part = _part(rows)
        values = keras_values_on_jax(model, part.y, model.predict(part.x, verbose=0))
        expected = evaluate_model(model, part)
        assert sorted(values) == sorted(expected) and len(expected) == 3
        for name, value in expected.items():
            assert values[name] == pytest.approx(value, rel=2e-7), (rows, name)


def test_every_part_shares_one_compiled_function_and_evaluate_is_not_compiled(compiles):
    from dlworkflow.training.prediction import predict_and_evaluate

    model = _regression()
    train = _part(70)
    model.fit(train.x, train.y, epochs=1, verbose=0)
    compiles.clear()
    for rows in (70, 41, 9):
        predict_and_evaluate(model, _part(rows))
    assert "jit(test_step)" not in compiles
    assert compiles.count("jit(block)") == 1, compiles


def test_a_model_it_cannot_score_is_evaluated_by_keras():
    from dlworkflow.training.jax_scoring import can_score
    from dlworkflow.training.prediction import evaluate_model, predict_and_evaluate

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activity_regularizer="l2"),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    part = _part(40)
    model.fit(part.x, part.y, epochs=1, verbose=0)
    assert not can_score(model)
    _, values = predict_and_evaluate(model, part)
    assert values == evaluate_model(model, part)


def test_a_model_trained_through_another_is_scored_without_evaluate(compiles):
    from dlworkflow.training.prediction import evaluate_model, predict_and_evaluate

    model = _regression()  # compiled, never used: its compiled loss and metrics are not built yet
    trainer = keras.Model(model.inputs, model.outputs)  # the same layers, trained in its place
    trainer.compile(optimizer="adam", loss="mse")
    part = _part(50)
    trainer.fit(part.x, part.y, epochs=1, verbose=0)
    compiles.clear()
    _, values = predict_and_evaluate(model, part)
    assert "jit(test_step)" not in compiles
    expected = evaluate_model(model, part)
    assert values == pytest.approx(expected, rel=2e-7)
