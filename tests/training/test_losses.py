"""Tests of dlworkflow.training.losses: ``[train.loss]`` with a type and arguments."""

from __future__ import annotations

import keras
import pytest

from dlworkflow.errors import SpecError
from dlworkflow.models import build_model, output_activation_note
from dlworkflow.spec import validate_spec
from dlworkflow.training import compile_model, evaluate_model, fit_model, make_loss, seed_everything
from dlworkflow.training.backend import needs_logits_crossentropy

LOGITS = [{"type": "Dense", "units": 6, "activation": "relu"}, {"type": "Dense", "units": 3}]
SOFTMAX = [{"type": "Dense", "units": 6, "activation": "relu"}, {"type": "Dense", "units": 3, "activation": "softmax"}]


def make_spec(loss, layers=LOGITS, **train):
    document = {
        "name": "losses",
        "data": {"dataset": "penguins", "target": "species"},
        "split": {"validation": 0.2},
        "model": {"layers": layers},
        "train": {"epochs": 2, "batch_size": 8, "loss": loss, **train},
    }
    return validate_spec(document, source="loss.toml")


def test_lesson_loss_with_from_logits_compiles_and_trains(make_dataset):
    dataset = make_dataset(task="classification", encoding="integer")
    spec = make_spec({"type": "SparseCategoricalCrossentropy", "from_logits": True}, metrics=["accuracy"])
    seed_everything(0)
    model = compile_model(build_model(spec, dataset), spec, dataset)

    assert isinstance(model.loss, keras.losses.SparseCategoricalCrossentropy)
    assert model.loss.get_config()["from_logits"] is True
    result = fit_model(model, spec, dataset, quiet=True)
    assert result.epochs_run == 2 and {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(result.history.columns)
    assert set(evaluate_model(model, dataset.test)) == {"loss", "accuracy"}
    assert output_activation_note(model, spec, dataset) is None


@pytest.mark.parametrize(
    ("loss", "expected_class"),
    [
        ({"type": "sparse_categorical_crossentropy", "from_logits": True}, "SparseCategoricalCrossentropy"),
        ("SparseCategoricalCrossentropy", "SparseCategoricalCrossentropy"),
        ({"type": "auto", "from_logits": True}, "SparseCategoricalCrossentropy"),
    ],
    ids=["snake-name-with-arguments", "class-name", "auto-with-arguments"],
)
def test_class_names_and_arguments_build_an_instance(make_dataset, loss, expected_class):
    dataset = make_dataset(task="classification", encoding="integer")
    built = make_loss(make_spec(loss), dataset)
    assert type(built).__name__ == expected_class


@pytest.mark.parametrize("loss", ["mse", "mean_absolute_error", "huber"])
def test_lower_case_name_without_arguments_is_passed_as_is(make_dataset, loss):
    assert make_loss(make_spec(loss, layers=[{"type": "Dense", "units": 1}]), make_dataset()) == loss


def test_regression_loss_with_arguments(make_dataset):
    spec = make_spec({"type": "huber", "delta": 0.5}, layers=[{"type": "Dense", "units": 1}])
    built = make_loss(spec, make_dataset())
    assert isinstance(built, keras.losses.Huber)
    assert float(built(keras.ops.convert_to_tensor([0.0]), keras.ops.convert_to_tensor([2.0]))) == pytest.approx(0.5 * 2 - 0.5 * 0.5**2)


def test_misspelt_loss_argument_names_it_and_suggests_the_right_one(make_dataset):
    dataset = make_dataset(task="classification", encoding="integer")
    spec = make_spec({"type": "SparseCategoricalCrossentropy", "from_logit": True})
    with pytest.raises(
        SpecError,
        match=r"loss\.toml: train\.loss\.from_logit: keras\.losses\.SparseCategoricalCrossentropy has no argument "
        r"'from_logit'.*Did you mean 'from_logits'\?",
    ):
        compile_model(build_model(spec, dataset), spec, dataset)


def test_rejected_loss_argument_value(make_dataset):
    dataset = make_dataset(task="classification", encoding="integer")
    spec = make_spec({"type": "SparseCategoricalCrossentropy", "reduction": "everything"})
    with pytest.raises(SpecError, match=r"train\.loss\.reduction: keras\.losses\.SparseCategoricalCrossentropy rejected"):
        make_loss(spec, dataset)


@pytest.mark.parametrize(
    ("loss", "suggested"),
    [("SparseCategoricalCrossEntropy", "SparseCategoricalCrossentropy"), ("sparse_categorical_crossentropi", "sparse_categorical_crossentropy")],
)
def test_unknown_loss_type(make_dataset, loss, suggested):
    dataset = make_dataset(task="classification", encoding="integer")
    with pytest.raises(SpecError, match=rf"train\.loss\.type: unknown Keras loss; got '{loss}'\. Did you mean '{suggested}'\?"):
        make_loss(make_spec({"type": loss, "from_logits": True}), dataset)


def test_class_loss_is_checked_against_the_target_encoding(make_dataset):
    dataset = make_dataset(task="classification", encoding="onehot")
    spec = make_spec({"type": "SparseCategoricalCrossentropy", "from_logits": True})
    with pytest.raises(SpecError, match=r"train\.loss\.type: 'SparseCategoricalCrossentropy' needs integer targets"):
        make_loss(spec, dataset)


def test_from_logits_does_not_need_tensorflow():
    assert needs_logits_crossentropy(make_spec("auto", layers=SOFTMAX)) is True
    assert needs_logits_crossentropy(make_spec({"type": "SparseCategoricalCrossentropy", "from_logits": True})) is False
    # Even a (mistaken) softmax output with from_logits is computed from its outputs on every backend.
    assert needs_logits_crossentropy(make_spec({"type": "sparse_categorical_crossentropy", "from_logits": True}, layers=SOFTMAX)) is False
