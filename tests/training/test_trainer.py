"""Tests of dlworkflow.training.trainer: compile, fit, evaluate, predict on tiny data."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from dlworkflow.errors import SpecError, TrainingError
from dlworkflow.models import build_model
from dlworkflow.spec import validate_spec
from dlworkflow.training import (
    TrainingResult,
    compile_model,
    evaluate_model,
    fit_model,
    predict,
    resolve_loss,
    seed_everything,
)


def make_spec(layers=None, *, train=None, split=None, data=None):
    document = {
        "name": "tiny",
        "data": {"dataset": "weather", "target": "y", **(data or {})},
        "split": {"validation": 0.2, **(split or {})},
        "model": {"layers": layers or [{"type": "Dense", "units": 4, "activation": "relu"}, {"type": "Dense", "units": 1}]},
        "train": {"epochs": 3, "batch_size": 8, **(train or {})},
    }
    return validate_spec(document, source="tiny.toml")


CLASSIFIER = [{"type": "Dense", "units": 6, "activation": "relu"}, {"type": "Dense", "units": 3, "activation": "softmax"}]


def train(spec, dataset, **options):
    seed_everything(spec.train.seed)
    model = compile_model(build_model(spec, dataset), spec, dataset)
    return model, fit_model(model, spec, dataset, quiet=True, **options)


# --- compile ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "encoding", "loss"),
    [
        ("regression", "onehot", "mse"),
        ("classification", "onehot", "categorical_crossentropy"),
        ("classification", "integer", "sparse_categorical_crossentropy"),
    ],
)
def test_auto_loss(make_dataset, task, encoding, loss):
    dataset = make_dataset(task=task, encoding=encoding)
    assert resolve_loss(make_spec(), dataset) == loss


def test_explicit_loss_is_used(make_dataset):
    assert resolve_loss(make_spec(train={"loss": "mae"}), make_dataset()) == "mae"


def test_misspelt_optimizer_argument(make_dataset):
    spec = make_spec(train={"optimizer": {"type": "adam", "learning_rte": 0.1}})
    dataset = make_dataset()
    with pytest.raises(SpecError, match=r"tiny\.toml: train\.optimizer\.learning_rte: .*Did you mean 'learning_rate'\?"):
        compile_model(build_model(spec, dataset), spec, dataset)


def test_optimizer_with_arguments_is_built(make_dataset):
    spec = make_spec(train={"optimizer": {"type": "SGD", "learning_rate": 0.05, "momentum": 0.5}})
    dataset = make_dataset()
    model = compile_model(build_model(spec, dataset), spec, dataset)
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.momentum) == pytest.approx(0.5)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)


def test_unknown_loss(make_dataset):
    spec = make_spec(train={"loss": "mean_squared_eror"})
    dataset = make_dataset()
    with pytest.raises(SpecError, match=r"train\.loss\.type: unknown Keras loss; got 'mean_squared_eror'\. Did you mean 'mean_squared_error'\?"):
        compile_model(build_model(spec, dataset), spec, dataset)


def test_loss_that_does_not_fit_the_target_encoding(make_dataset):
    dataset = make_dataset(task="classification", encoding="integer")
    spec = make_spec(CLASSIFIER, train={"loss": "categorical_crossentropy"})
    with pytest.raises(SpecError, match=r"train\.loss\.type: .*needs one-hot targets.*sparse_categorical_crossentropy"):
        compile_model(build_model(spec, dataset), spec, dataset)


def test_every_unknown_metric_is_reported_at_once(make_dataset):
    spec = make_spec(train={"metrics": ["mae", "rmse", "root_mean_squared_eror"]})
    dataset = make_dataset()
    with pytest.raises(SpecError) as caught:
        compile_model(build_model(spec, dataset), spec, dataset)
    text = str(caught.value)
    assert "2 problems" in text
    assert "train.metrics[1]: unknown Keras metric; got 'rmse'. Did you mean 'root_mean_squared_error'?" in text
    assert "train.metrics[2]: unknown Keras metric; got 'root_mean_squared_eror'. Did you mean 'root_mean_squared_error'?" in text


def test_metric_names_in_the_history(make_dataset):
    # A class name is reported under Keras' default snake_case name (as in the lesson's
    # keras.metrics.RootMeanSquaredError()), a lower-case name as written; the same
    # on every build in the process (no auc_1).
    spec = make_spec(train={"epochs": 1, "metrics": ["RootMeanSquaredError", "mae", "R2Score"]})
    _, first = train(spec, make_dataset())
    _, second = train(spec, make_dataset())
    expected = ["epoch", "loss", "mae", "r2_score", "root_mean_squared_error",
                "val_loss", "val_mae", "val_r2_score", "val_root_mean_squared_error"]
    assert sorted(first.history.columns) == sorted(second.history.columns) == sorted(expected)


def test_metric_class_that_needs_arguments(make_dataset):
    spec = make_spec(train={"metrics": ["PrecisionAtRecall"]})
    dataset = make_dataset()
    with pytest.raises(SpecError, match=r"train\.metrics\[0\]: keras\.metrics\.PrecisionAtRecall cannot be built from its name alone"):
        compile_model(build_model(spec, dataset), spec, dataset)


# --- fit -------------------------------------------------------------------------------


def test_fit_returns_the_history_with_a_one_based_epoch_column(make_dataset):
    spec = make_spec(train={"metrics": ["root_mean_squared_error"]})
    model, result = train(spec, make_dataset())

    assert isinstance(result, TrainingResult)
    assert list(result.history.columns) == [
        "epoch", "loss", "root_mean_squared_error", "val_loss", "val_root_mean_squared_error",
    ]
    assert result.history["epoch"].tolist() == [1, 2, 3]
    assert (result.epochs_run, result.evaluated_epoch, result.best_epoch, result.stopped_early) == (3, 3, None, False)
    assert result.seconds > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.epochs_run = 5  # type: ignore[misc]


def test_fit_without_a_validation_split(make_dataset):
    spec = make_spec(split={"validation": 0.0}, train={"epochs": 2})
    _, result = train(spec, make_dataset(validation=False))
    assert list(result.history.columns) == ["epoch", "loss"]


def test_fit_compiles_an_uncompiled_model(make_dataset):
    spec = make_spec(train={"epochs": 1})
    dataset = make_dataset()
    model = build_model(spec, dataset)
    assert fit_model(model, spec, dataset, quiet=True).epochs_run == 1


def test_same_seed_gives_the_same_history(make_dataset):
    dataset = make_dataset(rows=80)
    spec = make_spec([{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dropout", "rate": 0.3}, {"type": "Dense", "units": 1}], train={"seed": 7})

    _, first = train(spec, dataset)
    _, second = train(spec, dataset)

    pd.testing.assert_frame_equal(first.history, second.history)


def test_classification_trains_with_integer_targets(make_dataset):
    dataset = make_dataset(task="classification", encoding="integer")
    spec = make_spec(CLASSIFIER, train={"metrics": ["accuracy"]})
    model, result = train(spec, dataset)
    assert {"accuracy", "val_accuracy"} <= set(result.history.columns)
    scores = evaluate_model(model, dataset.test)
    assert set(scores) == {"loss", "accuracy"} and all(isinstance(v, float) for v in scores.values())


# --- steps per execution -------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "backend", "expected"),
    [("auto", "jax", 5), ("auto", "tensorflow", 5), ("auto", "torch", 1), (4, "jax", 4), (4, "torch", 4)],
)
def test_steps_per_execution_is_an_epoch_of_in_memory_batches(make_dataset, setting, backend, expected):
    from dlworkflow.training import steps_per_execution

    dataset = make_dataset(rows=60)  # 36 training rows, batch 8: 5 batches per epoch, the last one short
    assert dataset.train.size == 36
    spec = make_spec(train={"steps_per_execution": setting})
    assert steps_per_execution(spec, dataset, backend) == expected


def test_whole_epoch_executions_give_the_history_of_batch_by_batch_training(make_dataset):
    dataset = make_dataset(rows=60)
    layers = [{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dropout", "rate": 0.3}, {"type": "Dense", "units": 1}]
    stopping = {"monitor": "val_loss", "patience": 2}
    by_batch = make_spec(layers, train={"seed": 3, "epochs": 8, "steps_per_execution": 1, "early_stopping": stopping})
    by_epoch = make_spec(layers, train={"seed": 3, "epochs": 8, "early_stopping": stopping})

    _, one = train(by_batch, dataset)
    _, whole = train(by_epoch, dataset)

    assert (one.steps_per_execution, whole.steps_per_execution) == (1, 5)
    # The same batches in the same order: the same numbers, epoch by epoch, and the same stop.
    pd.testing.assert_frame_equal(one.history, whole.history, rtol=1e-6)
    assert (one.epochs_run, one.best_epoch) == (whole.epochs_run, whole.best_epoch)


def test_a_streamed_training_part_runs_batch_by_batch(make_dataset):
    from dlworkflow.training import steps_per_execution

    dataset = make_dataset(rows=60)
    streamed_part = dataclasses.replace(dataset.train, x=None, files=("a.png",) * 36)
    streamed = dataclasses.replace(dataset, parts={**dataset.parts, "train": streamed_part})
    assert streamed.train.streamed
    assert steps_per_execution(make_spec(), streamed, "jax") == 1


# --- early stopping --------------------------------------------------------------------

# With min_delta this large no epoch after the first counts as an improvement, so with
# patience 2 training stops after epoch 3 and the best epoch is epoch 1 — whatever the data.
NEVER_IMPROVES = {"monitor": "val_loss", "patience": 2, "min_delta": 1e9}


def test_early_stopping_stops_and_reports_epochs(make_dataset):
    dataset = make_dataset()
    spec = make_spec(train={"epochs": 20, "early_stopping": NEVER_IMPROVES})

    model, result = train(spec, dataset)

    assert (result.epochs_run, result.best_epoch, result.stopped_early, result.evaluated_epoch) == (3, 1, True, 3)
    assert len(result.history) == 3
    last_val_loss = result.history["val_loss"].iloc[-1]
    assert evaluate_model(model, dataset.validation)["loss"] == pytest.approx(last_val_loss, rel=1e-4)


def test_early_stopping_restores_the_best_epoch(make_dataset):
    dataset = make_dataset()
    spec = make_spec(train={"epochs": 20, "early_stopping": {**NEVER_IMPROVES, "restore_best_weights": True}})

    model, result = train(spec, dataset)

    assert (result.epochs_run, result.best_epoch, result.stopped_early, result.evaluated_epoch) == (3, 1, True, 1)
    first_val_loss = result.history["val_loss"].iloc[0]
    assert evaluate_model(model, dataset.validation)["loss"] == pytest.approx(first_val_loss, rel=1e-4)


def test_early_stopping_that_does_not_trigger(make_dataset):
    spec = make_spec(train={"epochs": 3, "early_stopping": {"monitor": "loss", "patience": 50}})
    _, result = train(spec, make_dataset())
    assert result.stopped_early is False
    assert result.epochs_run == result.evaluated_epoch == 3
    assert result.best_epoch == int(result.history["loss"].idxmin()) + 1


def test_early_stopping_on_a_value_keras_does_not_report(make_dataset):
    spec = make_spec(train={"epochs": 5, "early_stopping": {"monitor": "val_los"}})
    with pytest.raises(SpecError, match=r"train\.early_stopping\.monitor: .*got 'val_los'\. Did you mean 'val_loss'\?"):
        train(spec, make_dataset())


# --- NaN -------------------------------------------------------------------------------


def test_nan_loss_raises_a_training_error_with_likely_causes(make_dataset):
    dataset = make_dataset()
    broken_x = dataset.train.x.copy()
    broken_x[0, 0] = np.nan
    parts = {**dataset.parts, "train": dataclasses.replace(dataset.train, x=broken_x)}
    dataset = dataclasses.replace(dataset, parts=parts)
    spec = make_spec(train={"epochs": 5})

    with pytest.raises(TrainingError, match=r"tiny\.toml: train: the loss became NaN at epoch 1\. .*learning rate.*standardize"):
        train(spec, dataset)


# --- predict and evaluate --------------------------------------------------------------


def test_predict_regression_is_one_dimensional_float64(make_dataset):
    dataset = make_dataset()
    model, _ = train(make_spec(train={"epochs": 1}), dataset)
    predictions = predict(model, dataset.test)
    assert predictions.shape == (dataset.test.size,) and predictions.dtype == np.float64


@pytest.mark.parametrize("activation", ["softmax", None], ids=["probabilities", "logits"])
def test_predict_classification_gives_probabilities(make_dataset, activation):
    dataset = make_dataset(task="classification")
    last = {"type": "Dense", "units": 3, **({"activation": activation} if activation else {})}
    spec = make_spec([{"type": "Dense", "units": 6, "activation": "relu"}, last], train={"epochs": 1})
    seed_everything(0)
    model = compile_model(build_model(spec, dataset), spec, dataset)

    probabilities = predict(model, dataset.test)

    assert probabilities.shape == (dataset.test.size, 3) and probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert (probabilities >= 0).all()


# --- progress --------------------------------------------------------------------------


def test_progress_is_written_to_the_given_console(make_dataset):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system=None, width=120)
    spec = make_spec(train={"epochs": 2})
    dataset = make_dataset()
    seed_everything(0)
    model = compile_model(build_model(spec, dataset), spec, dataset)

    fit_model(model, spec, dataset, console=console)

    output = buffer.getvalue()
    assert "tiny" in output and "epoch 2/2" in output and "val_loss" in output


def test_quiet_draws_nothing(make_dataset):
    buffer = io.StringIO()
    spec = make_spec(train={"epochs": 1})
    dataset = make_dataset()
    model = compile_model(build_model(spec, dataset), spec, dataset)
    fit_model(model, spec, dataset, console=Console(file=buffer, force_terminal=True), quiet=True)
    assert buffer.getvalue() == ""
