"""Tests of dlworkflow.training.fused_epoch: an execution's batches as one lax.scan, Keras' history kept.

The reference is Keras' own loop: the same spec trained batch by batch
(``steps_per_execution = 1``: one jitted ``train_step`` call per batch, Keras' own
functions) or with ``DLW_FUSED_EPOCH=0``. Same seed, so the same initial weights and, through
Keras' ``np.random.permutation``, the same batch order. Tolerance: 1e-5 relative (and 1e-6
absolute, for values near zero) on every epoch's loss, metric and validation values and on
the weights at the end of every epoch.
"""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import keras
import numpy as np
import pytest

from dlworkflow.data import build_dataset
from dlworkflow.models import build_model
from dlworkflow.spec import load_spec
from dlworkflow.training import compile_model, fit_model, seed_everything
from dlworkflow.training.fused_epoch import SETTING, fused_step_function

REPOSITORY = Path(__file__).resolve().parents[2]
RELATIVE = 1e-5
ABSOLUTE = 1e-6


class WeightsPerEpoch(keras.callbacks.Callback):
    """Keeps a copy of the model's weights at the end of every epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.weights: list[list[np.ndarray]] = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([np.array(w) for w in self.model.get_weights()])


def train(spec, dataset):
    seed_everything(spec.train.seed)
    model = compile_model(build_model(spec, dataset), spec, dataset)
    weights = WeightsPerEpoch()
    result = fit_model(model, spec, dataset, quiet=True, callbacks=[weights])
    return result, weights.weights


def assert_same_training(fused, fused_weights, keras_loop, keras_weights):
    assert fused.history.columns.tolist() == keras_loop.history.columns.tolist()
    np.testing.assert_allclose(fused.history.to_numpy(float), keras_loop.history.to_numpy(float),
                               rtol=RELATIVE, atol=ABSOLUTE)
    assert len(fused_weights) == len(keras_weights) == len(fused.history)
    for epoch_fused, epoch_keras in zip(fused_weights, keras_weights, strict=True):
        for a, b in zip(epoch_fused, epoch_keras, strict=True):
            np.testing.assert_allclose(a, b, rtol=RELATIVE, atol=ABSOLUTE)


@pytest.mark.slow
def test_the_lessons_weather_model_trains_as_in_keras_batch_by_batch_loop(shared_data):
    """Dense 100-50-1 on 767 rows, batch 32 (23 full batches and one of 31), shuffled, validated each epoch."""
    spec = load_spec(REPOSITORY / "examples" / "weather.toml", ["train.epochs=4"])
    dataset = build_dataset(spec)
    assert dataset.train.size == 767
    fused, fused_weights = train(spec, dataset)
    batch_by_batch = load_spec(REPOSITORY / "examples" / "weather.toml",
                               ["train.epochs=4", "train.steps_per_execution=1"])
    keras_loop, keras_weights = train(batch_by_batch, dataset)

    assert fused.fused_epoch and fused.steps_per_execution == 24
    assert not keras_loop.fused_epoch and keras_loop.steps_per_execution == 1
    assert_same_training(fused, fused_weights, keras_loop, keras_weights)
    assert fused.history["loss"].iloc[-1] < fused.history["loss"].iloc[0]  # it learned: not a frozen copy


DENSE = {"type": "Dense", "units": 4, "activation": "relu"}


@pytest.mark.parametrize("task", ["regression", pytest.param("classification", marks=pytest.mark.slow),
                                  pytest.param("state", marks=pytest.mark.slow)])
def test_fused_epochs_match_keras_own_loop_with_shuffle_and_a_partial_batch(make_dataset, monkeypatch, task):
    """36 training rows, batch 8: four full batches scanned, a batch of 4 stepped on its own; a softmax classifier
    trains on its logits through a second model (training/logits.py), fused too; batch normalization's moving
    statistics and dropout's random state (non-trainable variables) are carried through the scan."""
    from dlworkflow.spec import validate_spec

    last = {"type": "Dense", "units": 1}
    if task == "classification":
        last = {"type": "Dense", "units": 3, "activation": "softmax"}
    document = {
        "name": "tiny", "data": {"dataset": "weather", "target": "y"}, "split": {"validation": 0.2},
        "model": {"layers": [DENSE, {"type": "BatchNormalization"}, {"type": "Dropout", "rate": 0.3}, last]
                  if task == "state" else [DENSE, last]},
        "train": {"epochs": 2, "batch_size": 8, "seed": 3,
                  "metrics": ["accuracy"] if task == "classification" else ["mae"]},
    }
    spec = validate_spec(document, source="tiny.toml")
    dataset = make_dataset(task="classification" if task == "classification" else "regression", rows=60)
    fused, fused_weights = train(spec, dataset)
    monkeypatch.setenv(SETTING, "0")
    keras_loop, keras_weights = train(spec, dataset)

    assert fused.fused_epoch and not keras_loop.fused_epoch
    assert fused.steps_per_execution == keras_loop.steps_per_execution == 5
    assert_same_training(fused, fused_weights, keras_loop, keras_weights)


def test_a_spec_with_one_batch_per_execution_keeps_keras_loop(make_dataset):
    from dlworkflow.spec import validate_spec

    document = {"name": "tiny", "data": {"dataset": "weather", "target": "y"},
                "model": {"layers": [{"type": "Dense", "units": 1}]},
                "train": {"epochs": 1, "batch_size": 8, "steps_per_execution": 1}}
    result, _ = train(validate_spec(document, source="tiny.toml"), make_dataset(rows=30))
    assert not result.fused_epoch


def step(state, batch):
    """A stateful step in Keras' shape: the state counts batches and sums their rows."""
    count, total = state
    count, total = count + 1, total + jnp.sum(batch[0])
    return {"count": count, "total": total}, (count, total)


def batches(sizes):
    start = 0
    for size in sizes:
        yield (np.arange(start, start + size, dtype=np.float32),)
        start += size


@pytest.mark.parametrize(("sizes", "steps", "calls"), [
    ((4, 4, 4, 4, 3), 5, [5]),          # an epoch: four full batches scanned, the short one stepped
    ((4, 4, 4, 4, 3), 2, [2, 2, 1]),    # chunks of two: the last chunk is the short batch alone
    ((4, 4, 4), 10, [3]),               # fewer batches than steps per execution
])
def test_each_execution_runs_its_batches_in_order_with_the_state_carried(sizes, steps, calls):
    function = fused_step_function(step, steps)
    iterator = batches(sizes)
    state = (jnp.asarray(0), jnp.asarray(0.0))
    for expected_batches in calls:
        before = int(state[0])
        logs, state = function(state, iterator)
        assert int(state[0]) == before + expected_batches
        assert int(logs["count"]) == int(state[0])  # the logs are the last batch's
    assert float(state[1]) == float(np.arange(sum(sizes)).sum())
    with pytest.raises(StopIteration):  # an iterator at its end: Keras' epoch iterator ends the epoch
        function(state, iterator)
