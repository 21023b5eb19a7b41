"""Evaluation layer: metrics, baselines with a model's predict interface, the comparison of both,
the per-class report and the plots of a classification run.

It receives predictions as numpy arrays and never imports Keras. Names are loaded on first
use, so ``import dlworkflow.evaluation`` stays cheap: the metric names, directions,
:func:`primary_metric` and the comparison functions need neither scikit-learn nor pandas;
:func:`score` loads scikit-learn, the baselines load scikit-learn and pandas, and the
plots load matplotlib (Agg, no pyplot) and Pillow only when called.

Example:
    >>> from dlworkflow.evaluation import score, skill_score
    >>> score("regression", [1.0, 3.0], [1.0, 2.0])["mae"]
    0.5
    >>> skill_score("rmse", 3.0, 4.0)
    0.25
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlworkflow.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from dlworkflow.evaluation.baselines import (
        BASELINES,
        MAX_BASELINE_VALUES,
        Baseline,
        LinearRegressionBaseline,
        LogisticRegressionBaseline,
        MajorityClassBaseline,
        MeanBaseline,
        PersistenceBaseline,
        baselines_for,
        evaluate_baselines,
        fit_baselines,
        register_baseline,
        skipped_baselines,
    )
    from dlworkflow.evaluation.classes import class_report
    from dlworkflow.evaluation.comparison import best_baseline, compare_to_baselines, skill_score
    from dlworkflow.evaluation.metrics import (
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
    from dlworkflow.evaluation.plots import confusion_matrix_plot, image_grid, test_images_for_grid

_EXPORTS: dict[str, str] = {
    "BASELINES": "baselines",
    "MAX_BASELINE_VALUES": "baselines",
    "Baseline": "baselines",
    "LinearRegressionBaseline": "baselines",
    "LogisticRegressionBaseline": "baselines",
    "MajorityClassBaseline": "baselines",
    "MeanBaseline": "baselines",
    "PersistenceBaseline": "baselines",
    "baselines_for": "baselines",
    "evaluate_baselines": "baselines",
    "fit_baselines": "baselines",
    "register_baseline": "baselines",
    "skipped_baselines": "baselines",
    "class_report": "classes",
    "best_baseline": "comparison",
    "compare_to_baselines": "comparison",
    "skill_score": "comparison",
    "CLASSIFICATION_METRICS": "metrics",
    "HEADLINE_METRICS": "metrics",
    "METRIC_DIRECTIONS": "metrics",
    "REGRESSION_METRICS": "metrics",
    "confusion": "metrics",
    "per_class_accuracy": "metrics",
    "predicted_classes": "metrics",
    "primary_metric": "metrics",
    "score": "metrics",
    "confusion_matrix_plot": "plots",
    "image_grid": "plots",
    "test_images_for_grid": "plots",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(
    __name__, globals(), {name: f"{__name__}.{module}" for name, module in _EXPORTS.items()}
)
