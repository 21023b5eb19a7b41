"""Tests of dlworkflow.evaluation.comparison: skill scores, the best baseline, the comparison table."""

from __future__ import annotations

import math

import pytest

from dlworkflow.evaluation import best_baseline, compare_to_baselines, skill_score


@pytest.mark.parametrize("metric", ["rmse", "mae", "log_loss"])
def test_error_metric_skill(metric):
    assert skill_score(metric, 1.0, 2.0) == pytest.approx(0.5)  # better: positive
    assert skill_score(metric, 3.0, 2.0) == pytest.approx(-0.5)  # worse: negative
    assert skill_score(metric, 2.0, 2.0) == 0.0  # equal: zero
    assert skill_score(metric, 0.0, 2.0) == 1.0  # perfect: one


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "f1_macro", "r2"])
def test_bounded_metric_skill(metric):
    assert skill_score(metric, 0.9, 0.5) == pytest.approx(0.8)
    assert skill_score(metric, 0.4, 0.5) == pytest.approx(-0.2)
    assert skill_score(metric, 0.5, 0.5) == 0.0
    assert skill_score(metric, 1.0, 0.5) == 1.0


def test_r2_skill_against_a_negative_baseline():
    assert skill_score("r2", 0.5, -1.0) == pytest.approx(0.75)


def test_lessons_network_has_negative_skill_over_persistence():
    # NN RMSE 3.92 against the 'tomorrow = today' baseline's 3.88.
    assert skill_score("rmse", 3.92, 3.88) == pytest.approx(1 - 3.92 / 3.88)
    assert skill_score("rmse", 3.92, 3.88) < 0


@pytest.mark.parametrize(
    ("metric", "model", "baseline"),
    [
        ("rmse", 1.0, 0.0),  # perfect baseline: denominator 0
        ("mae", 0.0, 0.0),
        ("accuracy", 0.9, 1.0),
        ("r2", 1.0, 1.0),
        ("rmse", None, 2.0),
        ("rmse", 1.0, None),
        ("accuracy", math.nan, 0.5),
        ("rmse", 1.0, math.inf),
    ],
)
def test_skill_is_none_when_undefined(metric, model, baseline):
    assert skill_score(metric, model, baseline) is None


def test_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric 'rmsle'; known metrics: 'rmse'"):
        skill_score("rmsle", 1.0, 2.0)


BASELINES = {
    "mean": {"train": {"rmse": 4.4, "r2": 0.0}, "test": {"rmse": 4.6, "r2": -0.01}},
    "linear_regression": {"train": {"rmse": 3.1, "r2": 0.5}, "test": {"rmse": 4.1, "r2": 0.2}},
    "persistence": {"train": {"rmse": 4.0, "r2": 0.1}, "test": {"rmse": 3.88, "r2": 0.25}},
}


def test_best_baseline_follows_the_metric_direction():
    assert best_baseline(BASELINES, "train", "rmse") == ("linear_regression", 3.1)
    assert best_baseline(BASELINES, "test", "rmse") == ("persistence", 3.88)
    assert best_baseline(BASELINES, "train", "r2") == ("linear_regression", 0.5)
    assert best_baseline({"a": {"test": {"accuracy": 0.4}}, "b": {"test": {"accuracy": 0.7}}}, "test", "accuracy") == (
        "b",
        0.7,
    )


def test_best_baseline_first_wins_a_tie_and_skips_missing_values():
    baselines = {
        "a": {"test": {"rmse": 2.0}},
        "broken": {"test": {"rmse": math.nan}},
        "b": {"test": {"rmse": 2.0}},
        "no_test": {"train": {"rmse": 0.1}},
    }
    assert best_baseline(baselines, "test", "rmse") == ("a", 2.0)


def test_best_baseline_none_when_nothing_has_the_metric():
    assert best_baseline(BASELINES, "validation", "rmse") is None
    assert best_baseline(BASELINES, "test", "mae") is None
    assert best_baseline({}, "test", "rmse") is None


def test_compare_to_baselines_chooses_on_train_when_there_is_no_validation():
    metrics = {"train": {"rmse": 0.65, "mae": 0.5}, "test": {"rmse": 3.92}}
    comparison = compare_to_baselines(metrics, BASELINES, "rmse")
    assert list(comparison) == ["train", "test"]
    # linear_regression is best on train (3.1); on test persistence happens to be better
    # (3.88), but choosing there would be a look at the test set: the choice stays.
    assert comparison["test"] == {
        "metric": "rmse",
        "model": 3.92,
        "baseline": "linear_regression",
        "baseline_value": 4.1,
        "skill": pytest.approx(1 - 3.92 / 4.1),
        "chosen_on": "train",
    }
    assert comparison["train"]["skill"] == pytest.approx(1 - 0.65 / 3.1)


def test_compare_to_baselines_chooses_on_validation_when_present():
    baselines = {
        name: {**parts, "validation": {"rmse": value}}
        for (name, parts), value in zip(BASELINES.items(), (4.5, 3.9, 3.6))
    }
    comparison = compare_to_baselines({"validation": {"rmse": 3.5}, "test": {"rmse": 3.92}}, baselines, "rmse")
    assert {part: entry["baseline"] for part, entry in comparison.items()} == {
        "validation": "persistence",
        "test": "persistence",
    }
    assert comparison["test"]["chosen_on"] == "validation"
    assert comparison["test"]["baseline_value"] == 3.88


def test_compare_skips_parts_without_the_metric():
    comparison = compare_to_baselines({"train": {"mae": 0.5}, "test": {"r2": 0.3}}, BASELINES, "r2")
    assert list(comparison) == ["test"]
    # linear_regression has the best train r2 (0.5); its test r2 is 0.2.
    assert comparison["test"]["baseline"] == "linear_regression"
    assert comparison["test"]["skill"] == pytest.approx((0.3 - 0.2) / (1 - 0.2))


def test_compare_end_to_end_with_real_baselines(make_dataset):
    from dlworkflow.evaluation import evaluate_baselines, score
    from dlworkflow.spec.schema import EvaluateSpec

    dataset = make_dataset(task="classification", rows=300)
    baselines = evaluate_baselines(dataset, EvaluateSpec())
    # A "model" that is always right.
    metrics = {name: score("classification", part.labels, part.labels, num_classes=3) for name, part in dataset.parts.items()}
    comparison = compare_to_baselines(metrics, baselines, "accuracy")
    assert comparison["test"]["baseline"] == "logistic_regression"
    assert comparison["test"]["model"] == 1.0
    assert comparison["test"]["skill"] == pytest.approx(1.0)
