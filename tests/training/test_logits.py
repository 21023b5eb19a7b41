"""A softmax classifier on JAX trains on its logits; the spec's model (probabilities) is what stays."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from dlworkflow.models import build_model
from dlworkflow.spec import validate_spec
from dlworkflow.training import compile_model, fit_model, seed_everything
from dlworkflow.training.checkpoint import read_checkpoint
from dlworkflow.training.logits import logits_training_model

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="the suite's process runs JAX")

SOFTMAX = [{"type": "Dense", "units": 3, "activation": "softmax"}]


def make_spec(layers=SOFTMAX, *, loss="auto", metrics=("accuracy",), epochs=3, learning_rate=0.01):
    return validate_spec({
        "name": "tiny",
        "data": {"dataset": "penguins", "target": "species"},
        "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu"}, *layers]},
        "train": {"epochs": epochs, "batch_size": 8, "seed": 1, "loss": loss, "metrics": list(metrics),
                  "optimizer": {"type": "adam", "learning_rate": learning_rate}},
    }, source="tiny.toml")


def built(spec, dataset):
    seed_everything(spec.train.seed)
    return compile_model(build_model(spec, dataset), spec, dataset)


@pytest.mark.parametrize("layers", [SOFTMAX, [{"type": "Dense", "units": 3}, {"type": "Activation", "activation": "softmax"}]],
                         ids=["dense-softmax", "activation-layer"])
def test_the_training_model_shares_the_variables_and_outputs_the_logits(make_dataset, layers):
    spec = make_spec(layers)
    dataset = make_dataset(task="classification")
    model = built(spec, dataset)
    training = logits_training_model(model, spec, dataset)
    assert training is not None
    assert [id(v) for v in training.variables] == [id(v) for v in model.variables]
    x = dataset.test.x
    logits = np.asarray(training(x))
    np.testing.assert_allclose(np.asarray(keras.ops.softmax(logits)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    assert training.loss.get_config()["from_logits"] is True
    assert model.layers[-1].activation.__name__ == "softmax"  # the spec's model keeps its activation


def test_nothing_to_do_without_a_probability_crossentropy(make_dataset):
    dataset = make_dataset(task="classification")
    spec = make_spec(loss="mse")
    assert logits_training_model(built(spec, dataset), spec, dataset) is None


def test_metrics_see_probabilities_and_the_saved_model_predicts_them(make_dataset, tmp_path):
    spec = make_spec(metrics=("accuracy", "categorical_crossentropy"), epochs=2)
    dataset = make_dataset(task="classification", rows=60)
    model = built(spec, dataset)
    result = fit_model(model, spec, dataset, quiet=True)
    assert result.trained_on_logits
    # The history's cross-entropy metric is the one of the probabilities, as the spec's model reports it.
    training = logits_training_model(model, spec, dataset)
    through_logits = training.evaluate(dataset.validation.x, dataset.validation.y, verbose=0, return_dict=True)
    through_model = model.evaluate(dataset.validation.x, dataset.validation.y, verbose=0, return_dict=True)
    assert through_logits["categorical_crossentropy"] == pytest.approx(through_model["categorical_crossentropy"],
                                                                        rel=1e-4)
    assert through_logits["accuracy"] == pytest.approx(through_model["accuracy"])
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert type(loaded).__name__ == "Functional" and loaded.name == model.name
    np.testing.assert_allclose(np.asarray(loaded.predict(dataset.test.x, verbose=0)).sum(axis=1), 1.0, rtol=1e-5)


def test_saturated_softmax_still_learns(make_dataset):
    # Inputs in the thousands (the lesson's body mass in grams) saturate the softmax at once:
    # from the clipped probabilities the gradient vanishes, from the logits it does not.
    dataset = make_dataset(task="classification", rows=90, validation=False)
    for part in dataset.parts.values():
        part.x[:] = part.x * 5000.0
    spec = make_spec(epochs=15)
    model = built(spec, dataset)
    result = fit_model(model, spec, dataset, quiet=True)
    assert result.trained_on_logits
    predicted = np.argmax(np.asarray(model.predict(dataset.train.x, verbose=0)), axis=1)
    assert np.mean(predicted == dataset.train.labels) > 0.8
    assert result.history["loss"].iloc[-1] < result.history["loss"].iloc[0] / 2


def test_resume_from_a_checkpoint_of_a_model_trained_on_logits(make_dataset, tmp_path):
    spec = make_spec(epochs=4)
    dataset = make_dataset(task="classification", rows=60)
    whole = fit_model(built(spec, dataset), spec, dataset, quiet=True)

    first_spec = make_spec(epochs=2)
    fit_model(built(first_spec, dataset), first_spec, dataset, quiet=True, checkpoint_dir=tmp_path)
    checkpoint = read_checkpoint(tmp_path)
    assert checkpoint.epoch == 2
    resumed = fit_model(built(spec, dataset), spec, dataset, quiet=True, resume_from=checkpoint)
    assert resumed.trained_on_logits and resumed.epochs_run == 4
    np.testing.assert_allclose(resumed.history["loss"], whole.history["loss"], rtol=1e-5)
