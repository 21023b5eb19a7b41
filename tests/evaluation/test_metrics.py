"""Tests of dlworkflow.evaluation.metrics: scores, directions, the headline metric, confusion."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dlworkflow.errors import SpecError
from dlworkflow.evaluation import (
    CLASSIFICATION_METRICS,
    HEADLINE_METRICS,
    METRIC_DIRECTIONS,
    REGRESSION_METRICS,
    confusion,
    per_class_accuracy,
    predicted_classes,
    primary_metric,
    score,
)
from dlworkflow.spec.schema import EvaluateSpec


def test_regression_scores_match_hand_computation():
    labels = np.array([3.0, 0.0, 7.5, 2.0, 4.0])
    predictions = np.array([2.5, 1.0, 7.0, 4.0, 4.0])
    errors = predictions - labels
    result = score("regression", labels, predictions)
    assert list(result) == list(REGRESSION_METRICS)
    assert result["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)), abs=1e-12)
    assert result["mae"] == pytest.approx(np.mean(np.abs(errors)), abs=1e-12)
    expected_r2 = 1 - np.sum(errors**2) / np.sum((labels - labels.mean()) ** 2)
    assert result["r2"] == pytest.approx(expected_r2, abs=1e-12)
    assert all(type(value) is float for value in result.values())


def test_regression_accepts_a_keras_shaped_column_and_float32():
    labels = np.array([1.0, 2.0, 3.0])
    column = np.array([[1.5], [2.0], [2.5]], dtype=np.float32)
    assert score("regression", labels, column) == score("regression", labels, column[:, 0].astype(np.float64))


def test_perfect_regression():
    labels = np.linspace(0, 1, 10)
    assert score("regression", labels, labels) == {"rmse": 0.0, "mae": 0.0, "r2": 1.0}


def test_classification_from_probabilities_includes_log_loss():
    labels = np.array([0, 1, 2, 1])
    probabilities = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.3, 0.2], [0.2, 0.6, 0.2]], dtype=np.float32
    )
    result = score("classification", labels, probabilities)
    assert list(result) == list(CLASSIFICATION_METRICS)
    assert result["accuracy"] == pytest.approx(0.75)
    # Per class recall: class 0 → 1, class 1 → 1, class 2 → 0.
    assert result["balanced_accuracy"] == pytest.approx(2 / 3)
    expected_log_loss = -np.mean(np.log([0.7, 0.8, 0.2, 0.6]))
    assert result["log_loss"] == pytest.approx(expected_log_loss, rel=1e-6)


def test_classification_from_class_indices_has_no_log_loss():
    result = score("classification", [0, 1, 1, 0], [0, 1, 0, 0])
    assert "log_loss" not in result
    assert result["accuracy"] == pytest.approx(0.75)


def test_a_split_missing_a_class_is_still_scored():
    # Three classes, but the split only holds classes 0 and 1 and the model predicts a 2.
    labels = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    result = score("classification", labels, probabilities, num_classes=3)
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["balanced_accuracy"] == pytest.approx(0.75)
    assert np.isfinite(result["log_loss"])


def test_probabilities_of_zero_are_clipped():
    result = score("classification", [0, 1], np.array([[0.0, 1.0], [0.0, 1.0]]))
    assert np.isfinite(result["log_loss"])
    assert result["log_loss"] > 10  # a confident mistake costs a lot, but not infinity


def test_a_single_sigmoid_column_is_the_probability_of_class_one():
    result = score("classification", [0, 1, 1], np.array([[0.2], [0.9], [0.4]]))
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["log_loss"] == pytest.approx(-np.mean(np.log([0.8, 0.9, 0.4])))


@pytest.mark.parametrize(
    ("task", "labels", "predictions", "message"),
    [
        ("regression", [1.0, 2.0], [1.0], "same number of rows"),
        ("regression", [1.0, 2.0], [1.0, np.nan], "finite"),
        ("regression", [1.0, 2.0], np.ones((2, 3)), r"shape \(rows,\)"),
        ("classification", [0, 1], [0.5, 0.2], "integer class indices"),
        ("forecasting", [1.0], [1.0], "task must be"),
        ("regression", [], [], "empty"),
    ],
)
def test_bad_inputs_say_what_is_wrong(task, labels, predictions, message):
    with pytest.raises(ValueError, match=message):
        score(task, np.asarray(labels), np.asarray(predictions))


def test_num_classes_must_match_the_probability_columns():
    with pytest.raises(ValueError, match="3 probability columns but num_classes is 4"):
        score("classification", [0, 1], np.full((2, 3), 1 / 3), num_classes=4)


def test_every_scored_metric_has_a_direction():
    assert set(REGRESSION_METRICS) | set(CLASSIFICATION_METRICS) == set(METRIC_DIRECTIONS)
    assert METRIC_DIRECTIONS["rmse"] == "min"
    assert METRIC_DIRECTIONS["accuracy"] == "max"
    assert METRIC_DIRECTIONS["log_loss"] == "min"


def test_headline_metrics_are_the_spec_choices():
    choices = set(EvaluateSpec.model_fields["metric"].annotation.__args__)
    assert choices == {"auto"} | set(HEADLINE_METRICS["regression"]) | set(HEADLINE_METRICS["classification"])


@pytest.mark.parametrize(("task", "expected"), [("regression", "rmse"), ("classification", "accuracy")])
def test_primary_metric_auto(task, expected):
    assert primary_metric(task, EvaluateSpec()) == expected
    assert primary_metric(task, None) == expected


@pytest.mark.parametrize("metric", ["rmse", "mae", "r2"])
def test_primary_metric_explicit_regression(metric):
    assert primary_metric("regression", EvaluateSpec(metric=metric)) == metric


@pytest.mark.parametrize("metric", HEADLINE_METRICS["classification"])
def test_classification_metric_on_regression_task_is_a_spec_error(metric):
    with pytest.raises(SpecError, match=rf"weather\.toml: evaluate\.metric: must be a regression metric") as info:
        primary_metric("regression", EvaluateSpec(metric=metric), "weather.toml")
    text = str(info.value)
    assert f"got {metric!r}" in text
    assert "'auto', 'rmse', 'mae', 'r2'" in text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("metric", HEADLINE_METRICS["regression"])
def test_regression_metric_on_classification_task_is_a_spec_error(metric):
    with pytest.raises(
        SpecError, match=r"penguins\.toml: evaluate\.metric: must be a classification metric .*scores regression"
    ) as info:
        primary_metric("classification", EvaluateSpec(metric=metric), source="penguins.toml")
    assert "'auto', 'accuracy', 'balanced_accuracy', 'f1_macro'" in str(info.value)
    assert info.value.problems[0].path == "evaluate.metric"


def test_confusion_matrix_is_plain_lists_with_every_class():
    matrix = confusion(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), 3)
    assert matrix == [[2, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert all(type(count) is int for row in matrix for count in row)


def test_confusion_takes_probabilities():
    probabilities = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    assert confusion([0, 1, 1], probabilities, 2) == [[1, 0], [1, 1]]


def test_per_class_accuracy_names_classes_and_marks_absent_ones():
    result = per_class_accuracy([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], 3, ("Adelie", "Chinstrap", "Gentoo"))
    assert result == {"Adelie": 0.5, "Chinstrap": pytest.approx(2 / 3), "Gentoo": None}
    assert list(per_class_accuracy([0, 1], [0, 1], 2)) == ["0", "1"]


def test_predicted_classes():
    assert predicted_classes(np.array([[0.1, 0.9], [0.8, 0.2]])).tolist() == [1, 0]
    assert predicted_classes(np.array([2.0, 0.0])).tolist() == [2, 0]


def test_the_evaluation_layer_does_not_import_keras():
    code = (
        "import sys, dlworkflow.evaluation; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'keras', 'tensorflow', 'jax', 'torch'}); "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_metric_names_and_comparison_import_without_sklearn_or_pandas():
    code = (
        "import sys\n"
        "from dlworkflow.evaluation import METRIC_DIRECTIONS, compare_to_baselines, primary_metric, skill_score\n"
        "heavy = [m for m in ('sklearn', 'pandas', 'keras') if m in sys.modules]\n"
        "sys.exit(', '.join(heavy) or 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_all_lists_exactly_the_exported_names():
    import dlworkflow.evaluation as evaluation

    for name in evaluation.__all__:
        value = getattr(evaluation, name)
        assert name.isupper() or value.__module__.startswith("dlworkflow.evaluation")
    assert {"score", "Baseline", "skill_score", "register_baseline"} <= set(dir(evaluation))
    with pytest.raises(AttributeError, match="no attribute 'scores'"):
        evaluation.scores  # noqa: B018
