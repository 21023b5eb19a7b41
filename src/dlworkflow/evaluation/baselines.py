"""Baselines: simple predictors a network has to beat, with the same predict interface as a model.

A baseline is fitted on the training part only and predicts arrays shaped like a model's
predictions: 1-D float64 values for regression, ``(rows, classes)`` probabilities for
classification. So every baseline is scored by the very same
:func:`~dlworkflow.evaluation.metrics.score` call as the network (after scikit-learn's
``sklearn/dummy.py``).

Built in:

* classification: ``majority_class`` (always the most frequent training class) and
  ``logistic_regression`` (a linear model on the same features; for images, on the
  flattened pixels, with a bounded cost: see :class:`LogisticRegressionBaseline`);
* regression: ``mean`` (always the training mean), ``linear_regression`` and
  ``persistence`` ("tomorrow = today": the current value of ``evaluate.persistence``,
  as in the lesson's weather example);
* text (whenever the data has a text column, :mod:`~dlworkflow.evaluation.text_baselines`):
  ``tf_idf_logistic_regression`` (classification) and ``tf_idf_ridge`` (regression), TF-IDF
  of the training rows' raw words and word pairs, then a linear model. ``logistic_regression``
  and ``linear_regression`` step aside when the network's inputs are token ids.

``majority_class`` and ``mean`` need the labels only, so they run on streamed images too
(``Part.x`` is None). A baseline that needs the inputs in memory says why it cannot run
through :meth:`Baseline.skip_reason` — streamed images, or more than
:data:`MAX_BASELINE_VALUES` input values in a part — and :func:`skipped_baselines` collects
those reasons for the run record, so a results table never silently lacks a baseline.

The registry is open: decorate a :class:`Baseline` subclass with
:func:`register_baseline` and it joins every run of its task. A spec adds its own with
``[evaluate] baselines = ["module:Class"]`` (:mod:`~dlworkflow.evaluation.user_baselines`:
the class is imported and run — your code), fitted, scored and recorded beside these.

Example:
    >>> results = evaluate_baselines(dataset, spec.evaluate)  # doctest: +SKIP
    >>> results["persistence"]["test"]["rmse"]  # doctest: +SKIP
    3.877323350410224
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from dlworkflow.data.dataset import PART_NAMES, Dataset
from dlworkflow.evaluation.baseline import (  # noqa: F401  (re-exported: the public home of these names)
    BASELINES,
    MAX_BASELINE_VALUES,
    STREAMED_REASON,
    Baseline,
    register_baseline,
)
from dlworkflow.evaluation.classification_baselines import (  # noqa: F401
    LogisticRegressionBaseline,
    MajorityClassBaseline,
)
from dlworkflow.evaluation.metrics import score
from dlworkflow.evaluation.regression_baselines import (  # noqa: F401
    LinearRegressionBaseline,
    MeanBaseline,
    PersistenceBaseline,
)
from dlworkflow.evaluation.text_baselines import (  # noqa: F401
    TfIdfLogisticRegressionBaseline,
    TfIdfRidgeBaseline,
)
from dlworkflow.evaluation.user_baselines import UserBaseline, user_baselines  # noqa: F401

if TYPE_CHECKING:
    from dlworkflow.spec.schema import EvaluateSpec


def baselines_for(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    *,
    source: str = "<spec>",
    registry: Mapping[str, type[Baseline]] | None = None,
) -> list[Baseline]:
    """The unfitted baselines that apply to a dataset, in registry order.

    Classification: ``majority_class``, ``logistic_regression``. Regression: ``mean``,
    ``linear_regression``, and ``persistence`` when ``evaluate.persistence`` is set. With a
    text column, ``tf_idf_logistic_regression`` or ``tf_idf_ridge`` too. Plus
    every registered user baseline of the task, then those ``evaluate.baselines`` names. A baseline whose
    :meth:`~Baseline.skip_reason` gives a reason (e.g. ``logistic_regression`` on streamed
    images) is left out; :func:`skipped_baselines` lists those. Cheap: call it before
    training to check ``[evaluate]`` early.

    Args:
        dataset: The prepared, split dataset.
        evaluate_spec: The spec's ``[evaluate]`` section (None: all defaults).
        source: The spec's file name, for error messages.
        registry: Baselines to choose from (default: :data:`BASELINES`).

    Returns:
        Baseline objects, not yet fitted.

    Raises:
        SpecError: When ``evaluate.persistence`` names a missing column or the task is
            classification, or an ``evaluate.baselines`` entry cannot be imported or used.

    Example:
        >>> [b.name for b in baselines_for(dataset, spec.evaluate)]  # doctest: +SKIP
        ['mean', 'linear_regression', 'persistence']
    """
    return [
        baseline
        for baseline, reason in _applicable(dataset, evaluate_spec, source, registry)
        if reason is None
    ]


def skipped_baselines(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    *,
    source: str = "<spec>",
    registry: Mapping[str, type[Baseline]] | None = None,
) -> dict[str, str]:
    """The baselines of the dataset's task that cannot run on it, and why.

    :func:`evaluate_baselines` leaves them out; the run record keeps this dict (as
    ``baselines_skipped``) so a results table can say ``logistic_regression: skipped (images
    streamed from disk ...)`` instead of silently lacking a row. Cheap: it fits nothing.

    Args:
        dataset: The prepared, split dataset.
        evaluate_spec: The spec's ``[evaluate]`` section (None: all defaults).
        source: The spec's file name, for error messages.
        registry: Baselines to choose from (default: :data:`BASELINES`).

    Returns:
        ``{baseline name: reason}`` in registry order; empty when every baseline runs.

    Raises:
        SpecError: When ``[evaluate]`` asks for a baseline that cannot be built.

    Example:
        >>> skipped_baselines(folder_dataset, spec.evaluate)  # doctest: +SKIP
        {'logistic_regression': 'images streamed from disk (no pixel array in memory to fit on)'}
    """
    return {
        baseline.name: reason
        for baseline, reason in _applicable(dataset, evaluate_spec, source, registry)
        if reason is not None
    }


def _applicable(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    source: str,
    registry: Mapping[str, type[Baseline]] | None,
) -> list[tuple[Baseline, str | None]]:
    """Every baseline of the dataset's task, then the spec's own, with its skip reason (None: it runs)."""
    found = []
    classes = BASELINES if registry is None else registry
    for cls in classes.values():
        baseline = cls.from_dataset(dataset, evaluate_spec, source)
        if baseline is not None:
            found.append((baseline, baseline.skip_reason(dataset)))
    for baseline in user_baselines(dataset, evaluate_spec, source=source, taken=classes):
        found.append((baseline, baseline.skip_reason(dataset)))
    return found


def fit_baselines(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    *,
    source: str = "<spec>",
    registry: Mapping[str, type[Baseline]] | None = None,
) -> list[Baseline]:
    """:func:`baselines_for`, each fitted on the training part only.

    Use it to get the baselines' predictions (for plots); :func:`evaluate_baselines` scores them.

    Args:
        dataset: The prepared, split dataset.
        evaluate_spec: The spec's ``[evaluate]`` section (None: all defaults).
        source: The spec's file name, for error messages.
        registry: Baselines to choose from (default: :data:`BASELINES`).

    Returns:
        Fitted baselines.

    Example:
        >>> persistence = fit_baselines(dataset, spec.evaluate)[-1]  # doctest: +SKIP
        >>> persistence.predict(dataset.test).shape  # doctest: +SKIP
        (165,)
    """
    return [
        baseline.fit(dataset.train)
        for baseline in baselines_for(dataset, evaluate_spec, source=source, registry=registry)
    ]


def evaluate_baselines(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    *,
    source: str = "<spec>",
    registry: Mapping[str, type[Baseline]] | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """Fit every applicable baseline on the training part and score it on every part.

    Baselines that cannot run on this dataset (see :func:`skipped_baselines`) are left out.

    Args:
        dataset: The prepared, split dataset.
        evaluate_spec: The spec's ``[evaluate]`` section (None: all defaults).
        source: The spec's file name, for error messages.
        registry: Baselines to choose from (default: :data:`BASELINES`).

    Returns:
        ``{baseline name: {part name: {metric: value}}}``; part names in the order
        ``train``, ``validation`` (only when the dataset has one), ``test``.

    Raises:
        SpecError: When ``[evaluate]`` asks for a baseline that cannot be built.

    Example:
        >>> results = evaluate_baselines(dataset, spec.evaluate)  # doctest: +SKIP
        >>> round(results["persistence"]["test"]["rmse"], 2)  # doctest: +SKIP
        3.88
    """
    num_classes = dataset.output_units if dataset.task == "classification" else None
    results: dict[str, dict[str, dict[str, float]]] = {}
    for baseline in fit_baselines(dataset, evaluate_spec, source=source, registry=registry):
        results[baseline.name] = {
            part_name: score(
                dataset.task,
                dataset.parts[part_name].labels,
                baseline.predict(dataset.parts[part_name]),
                num_classes=num_classes,
            )
            for part_name in PART_NAMES
            if part_name in dataset.parts
        }
    return results
