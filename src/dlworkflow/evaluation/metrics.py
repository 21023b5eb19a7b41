"""Scores of predictions against labels, and the headline metric of a spec.

The evaluation layer receives predictions as numpy arrays (it never imports Keras):
regression predictions are 1-D values, classification predictions are ``(rows, classes)``
probabilities or 1-D class indices. :func:`score` turns them into a flat
``{metric name: float}`` dict computed with :mod:`sklearn.metrics`, so the numbers equal
what the lesson computes by hand.

Example:
    >>> score("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    {'rmse': 1.1547005383792515, 'mae': 0.6666666666666666, 'r2': -1.0}
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from dlworkflow.errors import SpecError
from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS, Direction  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from types import ModuleType

    from dlworkflow.spec.schema import EvaluateSpec


REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae", "r2")
"""Metrics :func:`score` reports for a regression task, in report order."""

CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "balanced_accuracy", "f1_macro", "log_loss")
"""Metrics :func:`score` reports for a classification task (``log_loss`` only from probabilities)."""

HEADLINE_METRICS: dict[str, tuple[str, ...]] = {
    "regression": ("rmse", "mae", "r2"),
    "classification": ("accuracy", "balanced_accuracy", "f1_macro"),
}
"""Metrics a spec may name in ``evaluate.metric``, per task."""

DEFAULT_METRICS: dict[str, str] = {"regression": "rmse", "classification": "accuracy"}
"""The metric ``evaluate.metric = 'auto'`` stands for, per task."""

PROBABILITY_CLIP = 1e-15
"""Smallest probability used in the log loss (the largest is ``1 - PROBABILITY_CLIP``)."""


def score(
    task: str,
    labels: Sequence[float] | np.ndarray,
    predictions: Sequence[float] | np.ndarray,
    *,
    num_classes: int | None = None,
) -> dict[str, float]:
    """Score predictions against labels with the metrics of the task.

    Regression gives ``rmse``, ``mae`` and ``r2``. Classification gives ``accuracy``,
    ``balanced_accuracy`` and ``f1_macro``, plus ``log_loss`` when the predictions are
    probabilities. Probabilities are clipped to ``[1e-15, 1 - 1e-15]`` and renormalised
    per row, and the log loss is taken over all ``num_classes`` classes, so a split in
    which a class never occurs is still scored.

    Args:
        task: ``"regression"`` or ``"classification"``.
        labels: True values (regression) or class indices (classification), shape ``(rows,)``.
        predictions: Regression: predicted values, shape ``(rows,)`` or ``(rows, 1)``.
            Classification: probabilities ``(rows, classes)`` (a ``(rows, 1)`` column is read
            as the probability of class 1) or integer class indices ``(rows,)``.
        num_classes: Number of classes (classification). Defaults to the probability
            columns, or to the largest class index seen plus one.

    Returns:
        ``{metric name: value}`` as Python floats, in the order of
        :data:`REGRESSION_METRICS` or :data:`CLASSIFICATION_METRICS`.

    Raises:
        ValueError: When the task is unknown, the shapes do not match, or a prediction is
            not finite.

    Example:
        >>> score("classification", [0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])["accuracy"]
        0.6666666666666666
    """
    labels_array = np.asarray(labels)
    predictions_array = np.asarray(predictions)
    if labels_array.ndim != 1:
        raise ValueError(f"score: labels must be 1-D; got shape {labels_array.shape}.")
    if predictions_array.shape[:1] != labels_array.shape:
        raise ValueError(
            f"score: predictions and labels must have the same number of rows; got "
            f"{predictions_array.shape[0] if predictions_array.ndim else 0} predictions for "
            f"{labels_array.shape[0]} labels."
        )
    if labels_array.shape[0] == 0:
        raise ValueError("score: cannot score an empty split (0 rows).")
    if task == "regression":
        return _score_regression(labels_array, predictions_array)
    if task == "classification":
        return _score_classification(labels_array, predictions_array, num_classes)
    raise ValueError(f"score: task must be 'regression' or 'classification'; got {task!r}.")


def _sklearn_metrics() -> ModuleType:
    # Imported on first use, so that importing this module (for METRIC_DIRECTIONS or
    # primary_metric, e.g. by the command line) stays cheap.
    from sklearn import metrics

    return metrics


def _check_finite(predictions: np.ndarray) -> None:
    if np.issubdtype(predictions.dtype, np.number) and not np.all(np.isfinite(predictions)):
        bad = int(np.size(predictions) - np.count_nonzero(np.isfinite(predictions)))
        raise ValueError(
            f"score: predictions must be finite numbers; got {bad} NaN or infinite value(s). "
            "The model probably diverged: lower train.optimizer.learning_rate or scale the features."
        )


def _score_regression(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    if predictions.ndim == 2 and predictions.shape[1] == 1:
        predictions = predictions[:, 0]
    if predictions.ndim != 1:
        raise ValueError(
            f"score: regression predictions must have shape (rows,) or (rows, 1); got {predictions.shape}."
        )
    labels = labels.astype(np.float64)
    predictions = predictions.astype(np.float64)
    _check_finite(predictions)
    sk_metrics = _sklearn_metrics()
    return {
        "rmse": float(sk_metrics.root_mean_squared_error(labels, predictions)),
        "mae": float(sk_metrics.mean_absolute_error(labels, predictions)),
        "r2": float(sk_metrics.r2_score(labels, predictions)) if labels.shape[0] > 1 else float("nan"),
    }


def _score_classification(labels: np.ndarray, predictions: np.ndarray, num_classes: int | None) -> dict[str, float]:
    labels = _as_class_indices(labels, "labels")
    probabilities: np.ndarray | None = None
    if predictions.ndim == 2:
        probabilities = _as_probabilities(predictions)
        classes = probabilities.argmax(axis=1)
    else:
        classes = predicted_classes(predictions)
    inferred = probabilities.shape[1] if probabilities is not None else int(max(labels.max(), classes.max())) + 1
    num_classes = inferred if num_classes is None else int(num_classes)
    if probabilities is not None and probabilities.shape[1] != num_classes:
        raise ValueError(
            f"score: predictions have {probabilities.shape[1]} probability columns but num_classes is "
            f"{num_classes}; pass one column per class."
        )
    if labels.max() >= num_classes or labels.min() < 0:
        raise ValueError(f"score: labels must be class indices 0..{num_classes - 1}; got {labels.max()!r}.")
    sk_metrics = _sklearn_metrics()
    with warnings.catch_warnings():
        # A split may lack a class the model predicts; that is expected, not a problem.
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        balanced = sk_metrics.balanced_accuracy_score(labels, classes)
    result = {
        "accuracy": float(sk_metrics.accuracy_score(labels, classes)),
        "balanced_accuracy": float(balanced),
        "f1_macro": float(sk_metrics.f1_score(labels, classes, average="macro", zero_division=0)),
    }
    if probabilities is not None:
        clipped = np.clip(probabilities, PROBABILITY_CLIP, 1.0 - PROBABILITY_CLIP)
        clipped = clipped / clipped.sum(axis=1, keepdims=True)
        result["log_loss"] = float(sk_metrics.log_loss(labels, clipped, labels=list(range(num_classes))))
    return result


def _as_class_indices(values: np.ndarray, what: str) -> np.ndarray:
    if values.dtype.kind in "iub":
        return values.astype(np.int64)
    if values.dtype.kind == "f":
        _check_finite(values)
        if np.all(values == np.round(values)):
            return values.astype(np.int64)
    raise ValueError(
        f"score: {what} must be integer class indices; got dtype {values.dtype} with values such as "
        f"{values[:3].tolist()!r}. Pass probabilities as a 2-D (rows, classes) array."
    )


def _as_probabilities(predictions: np.ndarray) -> np.ndarray:
    probabilities = predictions.astype(np.float64)
    _check_finite(probabilities)
    if probabilities.shape[1] == 1:
        # A single sigmoid output: the probability of class 1.
        probabilities = np.hstack([1.0 - probabilities, probabilities])
    return probabilities


def predicted_classes(predictions: Sequence[float] | np.ndarray) -> np.ndarray:
    """Turn predictions into class indices: the argmax of probabilities, or the indices as given.

    Args:
        predictions: ``(rows, classes)`` probabilities, a ``(rows, 1)`` probability of class 1,
            or ``(rows,)`` integer class indices.

    Returns:
        int64 class indices, shape ``(rows,)``.

    Raises:
        ValueError: When 1-D predictions are not whole numbers.

    Example:
        >>> predicted_classes([[0.2, 0.8], [0.9, 0.1]]).tolist()
        [1, 0]
    """
    array = np.asarray(predictions)
    if array.ndim == 2:
        return _as_probabilities(array).argmax(axis=1).astype(np.int64)
    if array.ndim != 1:
        raise ValueError(f"predicted_classes: predictions must be 1-D or 2-D; got shape {array.shape}.")
    return _as_class_indices(array, "1-D predictions")


def primary_metric(task: str, evaluate_spec: EvaluateSpec | None, source: str = "<spec>") -> str:
    """The headline metric of a run: ``evaluate.metric`` with ``'auto'`` resolved for the task.

    ``'auto'`` means ``rmse`` for regression and ``accuracy`` for classification.

    Args:
        task: ``"regression"`` or ``"classification"`` (``Dataset.task``).
        evaluate_spec: The spec's ``[evaluate]`` section; None means all defaults.
        source: The spec's file name, shown in the error message.

    Returns:
        A metric name from :data:`HEADLINE_METRICS` for the task.

    Raises:
        SpecError: When the metric belongs to the other task (e.g. ``accuracy`` for a
            regression target), at ``evaluate.metric``.

    Example:
        >>> from dlworkflow.spec.schema import EvaluateSpec
        >>> primary_metric("regression", EvaluateSpec())
        'rmse'
        >>> primary_metric("classification", EvaluateSpec(metric="f1_macro"))
        'f1_macro'
    """
    if task not in HEADLINE_METRICS:
        raise ValueError(f"primary_metric: task must be 'regression' or 'classification'; got {task!r}.")
    metric = "auto" if evaluate_spec is None else evaluate_spec.metric
    if metric == "auto":
        return DEFAULT_METRICS[task]
    valid = HEADLINE_METRICS[task]
    if metric not in valid:
        other = next((name for name, metrics in HEADLINE_METRICS.items() if metric in metrics), None)
        what = f"must be a {task} metric"
        if other is not None:
            what += f" ({metric!r} scores {other})"
        options = ", ".join(repr(name) for name in ("auto", *valid))
        raise SpecError.single(
            source,
            "evaluate.metric",
            what,
            got=metric,
            hint=f"Valid for a {task} task: {options}. Set evaluate.metric to one of them, "
            f"or check data.task and data.target if the task is not {task}.",
        )
    return metric


def confusion(
    labels: Sequence[int] | np.ndarray,
    predicted: Sequence[int] | np.ndarray,
    num_classes: int,
) -> list[list[int]]:
    """The confusion matrix as plain nested lists (JSON-ready): rows are true, columns predicted classes.

    Args:
        labels: True class indices, shape ``(rows,)``.
        predicted: Predicted class indices ``(rows,)`` or probabilities ``(rows, classes)``.
        num_classes: Number of classes; the matrix is ``num_classes × num_classes`` even when
            a class is absent.

    Returns:
        ``matrix[true][predicted]`` = number of rows.

    Example:
        >>> confusion([0, 1, 1, 2], [0, 1, 0, 2], 3)
        [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    """
    true = _as_class_indices(np.asarray(labels), "labels")
    guessed = predicted_classes(predicted)
    matrix = _sklearn_metrics().confusion_matrix(true, guessed, labels=list(range(num_classes)))
    return [[int(count) for count in row] for row in matrix]


def per_class_accuracy(
    labels: Sequence[int] | np.ndarray,
    predicted: Sequence[int] | np.ndarray,
    num_classes: int,
    class_names: Sequence[str] | None = None,
) -> dict[str, float | None]:
    """The share of each class's rows predicted as that class (per-class recall).

    Args:
        labels: True class indices, shape ``(rows,)``.
        predicted: Predicted class indices ``(rows,)`` or probabilities ``(rows, classes)``.
        num_classes: Number of classes.
        class_names: Names in class-index order (``Dataset.class_names``); defaults to
            ``"0"``, ``"1"``, ...

    Returns:
        ``{class name: accuracy}``; None for a class with no rows in ``labels``.

    Example:
        >>> per_class_accuracy([0, 0, 1, 1], [0, 0, 1, 0], 3, ["a", "b", "c"])
        {'a': 1.0, 'b': 0.5, 'c': None}
    """
    names = [str(i) for i in range(num_classes)] if class_names is None else [str(n) for n in class_names]
    if len(names) != num_classes:
        raise ValueError(f"per_class_accuracy: {len(names)} class names for {num_classes} classes.")
    matrix = confusion(labels, predicted, num_classes)
    result: dict[str, float | None] = {}
    for index, name in enumerate(names):
        total = sum(matrix[index])
        result[name] = matrix[index][index] / total if total else None
    return result
