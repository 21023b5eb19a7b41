"""One pass over a part gives its predictions and Keras' loss and metrics (training.prediction)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from dlworkflow.data.dataset import Part


def _classifier(regularized: bool):
    import keras

    keras.utils.set_random_seed(0)
    regularizer = keras.regularizers.L2(0.05) if regularized else None
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="relu", kernel_regularizer=regularizer),
                              keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _part(rows: int = 45) -> Part:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(rows, 4)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return Part(name="test", x=x, y=labels.astype(np.float32), labels=labels, frame=None)


@pytest.mark.parametrize("regularized", [False, True])
def test_keras_values_from_outputs_agree_with_evaluate(regularized):
    from dlworkflow.training.prediction import evaluate_model, keras_values

    model, part = _classifier(regularized), _part()
    outputs = model.predict(part.x, verbose=0)
    values = keras_values(model, part.y, outputs)
    expected = evaluate_model(model, part)
    assert sorted(values) == sorted(expected) == ["accuracy", "loss"]
    for name in expected:
        assert values[name] == pytest.approx(expected[name], rel=1e-6)
    assert values["accuracy"] == expected["accuracy"]
    # The regularization penalty is part of the loss, as in evaluate.
    penalty = float(sum(np.asarray(loss) for loss in model.losses)) if regularized else 0.0
    assert (penalty > 0.01) == regularized


def test_on_jax_predictions_and_values_are_predict_and_evaluate_exactly():
    from dlworkflow.training.prediction import (
        evaluate_model,
        predict,
        predict_and_evaluate,
    )

    model, part = _classifier(False), _part()
    predictions, values = predict_and_evaluate(model, part)
    np.testing.assert_array_equal(predictions, predict(model, part))
    assert values == evaluate_model(model, part)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0)  # logits became probabilities


_ON_TENSORFLOW = r"""
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from tests.training.test_prediction_pass import _classifier, _part
from dlworkflow.training import prediction

model, part = _classifier(True), _part(70)
model.fit(part.x, part.y, epochs=2, verbose=0)
calls = []
model.evaluate = lambda *args, **kwargs: calls.append(1)  # one pass: evaluate is not called
predictions, values = prediction.predict_and_evaluate(model, part)
del model.evaluate
print(json.dumps({"same_predictions": bool(np.array_equal(predictions, prediction.predict(model, part))),
                  "values": values, "evaluated": prediction.evaluate_model(model, part), "calls": len(calls)}))
"""


@pytest.mark.slow
def test_on_tensorflow_one_pass_gives_the_predictions_and_evaluates_values():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    completed = subprocess.run(
        [sys.executable, "-c", _ON_TENSORFLOW, root], capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    import json

    out = json.loads(completed.stdout.strip().splitlines()[-1])
    assert out["same_predictions"] and out["calls"] == 0
    for name, value in out["evaluated"].items():
        assert out["values"][name] == pytest.approx(value, rel=1e-6), name
