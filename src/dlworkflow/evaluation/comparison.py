"""A model's metrics beside the best baseline's, with a skill score.

A skill score says how much of the room for improvement over a baseline the model takes:
1 is perfect, 0 is no better than the baseline, below 0 is worse. For an error metric
(``rmse``, ``mae``, ``log_loss``; perfect is 0) it is ``1 - model / baseline``; for a score
bounded by 1 (``accuracy``, ``balanced_accuracy``, ``f1_macro``, ``r2``) it is
``(model - baseline) / (1 - baseline)``.

Example:
    >>> round(skill_score("rmse", 3.92, 3.88), 4)
    -0.0103
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS

ERROR_METRICS: tuple[str, ...] = ("rmse", "mae", "log_loss")
"""Lower-is-better metrics whose perfect value is 0."""

BOUNDED_METRICS: tuple[str, ...] = ("accuracy", "balanced_accuracy", "f1_macro", "r2")
"""Higher-is-better metrics whose perfect value is 1."""


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _check_metric(metric: str, where: str) -> None:
    if metric not in METRIC_DIRECTIONS:
        known = ", ".join(repr(name) for name in METRIC_DIRECTIONS)
        raise ValueError(f"{where}: unknown metric {metric!r}; known metrics: {known}.")


def skill_score(metric: str, model_value: float | None, baseline_value: float | None) -> float | None:
    """How much better than the baseline the model is, as a share of the possible improvement.

    Args:
        metric: A metric name from :data:`~dlworkflow.evaluation.metrics.METRIC_DIRECTIONS`.
        model_value: The model's value of the metric.
        baseline_value: The baseline's value on the same part.

    Returns:
        ``1 - model / baseline`` for error metrics, ``(model - baseline) / (1 - baseline)``
        for metrics bounded by 1; None when a value is missing or not finite, or the
        baseline is already perfect (the denominator is 0).

    Raises:
        ValueError: When the metric is unknown.

    Example:
        >>> skill_score("rmse", 1.0, 2.0)
        0.5
        >>> skill_score("accuracy", 0.9, 0.5)
        0.8
        >>> skill_score("accuracy", 0.9, 1.0) is None
        True
    """
    _check_metric(metric, "skill_score")
    if model_value is None or baseline_value is None or not (_usable(model_value) and _usable(baseline_value)):
        return None
    if metric in ERROR_METRICS:
        return None if baseline_value == 0 else 1.0 - model_value / baseline_value
    return None if baseline_value == 1 else (model_value - baseline_value) / (1.0 - baseline_value)


def best_baseline(
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]], part: str, metric: str
) -> tuple[str, float] | None:
    """The baseline with the best value of a metric on a part.

    Args:
        baselines: ``{baseline name: {part name: {metric: value}}}``, as returned by
            :func:`~dlworkflow.evaluation.baselines.evaluate_baselines`.
        part: ``train``, ``validation`` or ``test``.
        metric: The metric to rank by; its direction comes from ``METRIC_DIRECTIONS``.

    Returns:
        ``(name, value)`` of the best baseline (the first one on a tie), or None when no
        baseline has a finite value of the metric on that part.

    Raises:
        ValueError: When the metric is unknown.

    Example:
        >>> best_baseline({"mean": {"test": {"rmse": 4.5}},
        ...                "persistence": {"test": {"rmse": 3.88}}}, "test", "rmse")
        ('persistence', 3.88)
    """
    _check_metric(metric, "best_baseline")
    sign = 1.0 if METRIC_DIRECTIONS[metric] == "min" else -1.0
    best: tuple[str, float] | None = None
    for name, parts in baselines.items():
        value = parts.get(part, {}).get(metric)
        if not _usable(value):
            continue
        value = float(value)  # type: ignore[arg-type]
        if best is None or sign * value < sign * best[1]:
            best = (name, value)
    return best


def selection_part(baselines: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """The part on which the best baseline is chosen: validation when there is one, else train.

    Choosing on the test set would be one more look at it, and would flatter the baseline
    by picking whichever happened to score best on exactly those rows.

    Args:
        baselines: ``{baseline name: {part name: {metric: value}}}``.

    Returns:
        ``validation`` or ``train``.

    Example:
        >>> selection_part({"mean": {"train": {"rmse": 4.0}, "test": {"rmse": 4.5}}})
        'train'
    """
    has_validation = any(parts.get("validation") for parts in baselines.values())
    return "validation" if has_validation else "train"


def compare_to_baselines(
    metrics: Mapping[str, Mapping[str, float]],
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]],
    metric: str,
) -> dict[str, dict[str, Any]]:
    """Put a model's metric beside the best baseline's on every part, with a skill score.

    The best baseline is chosen once, on the validation part (or train when there is no
    validation part), never on test; that same baseline is then shown on every part.

    Args:
        metrics: The model's ``{part name: {metric: value}}``.
        baselines: ``{baseline name: {part name: {metric: value}}}``.
        metric: The metric to compare (usually the run's primary metric).

    Returns:
        ``{part name: {"metric", "model", "baseline", "baseline_value", "skill", "chosen_on"}}``
        for every part of ``metrics`` that has the metric, in the order of ``metrics``.
        ``baseline``, ``baseline_value`` and ``skill`` are None when no baseline has the
        metric.

    Raises:
        ValueError: When the metric is unknown.

    Example:
        >>> compare_to_baselines({"test": {"rmse": 3.92}},
        ...                      {"mean": {"train": {"rmse": 4.4}, "test": {"rmse": 4.5}},
        ...                       "persistence": {"train": {"rmse": 3.9}, "test": {"rmse": 3.88}}},
        ...                      "rmse")["test"]["baseline"]
        'persistence'
    """
    _check_metric(metric, "compare_to_baselines")
    chosen_on = selection_part(baselines)
    best = best_baseline(baselines, chosen_on, metric)
    comparison: dict[str, dict[str, Any]] = {}
    for part, values in metrics.items():
        if not values or metric not in values:
            continue
        model_value = float(values[metric])
        baseline_value = None if best is None else baselines[best[0]].get(part, {}).get(metric)
        comparison[part] = {
            "metric": metric,
            "model": model_value,
            "baseline": None if best is None else best[0],
            "baseline_value": baseline_value,
            "skill": skill_score(metric, model_value, baseline_value),
            "chosen_on": chosen_on,
        }
    return comparison
