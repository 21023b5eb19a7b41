"""The plots a run leaves in its folder beside the training curves: classes and regression.

Example:
    >>> save_regression_plots(folder, spec, dataset, predictions, headline)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Dataset
    from dlworkflow.registry import RunFolder
    from dlworkflow.registry.record_sections import Headline
    from dlworkflow.spec import Spec


def save_regression_plots(
    folder: RunFolder, spec: Spec, dataset: Dataset, predictions: dict[str, np.ndarray], headline: Headline
) -> None:
    """Predicted against true (training and test) and test residuals in time order, beside the best baseline.

    Args:
        folder: The run's staging folder.
        spec: The run's spec.
        dataset: The prepared dataset.
        predictions: ``{part: predictions}``; needs ``test``.
        headline: The run's headline (its ``baseline`` is drawn beside the model).
    """
    if dataset.task != "regression":
        return
    from dlworkflow.evaluation import baselines_for
    from dlworkflow.evaluation.regression_plots import predicted_vs_true_plot, residuals_plot
    from dlworkflow.registry import artifacts

    chosen = [b for b in baselines_for(dataset, spec.evaluate, source=spec.source) if b.name == headline.baseline]
    baseline = chosen[0].fit(dataset.train) if chosen else None
    parts = [name for name in ("train", "test") if name in predictions]
    predicted_vs_true_plot(
        {name: dataset.parts[name].labels for name in parts},
        {name: predictions[name] for name in parts},
        folder.path(artifacts.PREDICTED_VS_TRUE_PLOT),
        baseline_by_part={name: baseline.predict(dataset.parts[name]) for name in parts} if baseline else None,
        baseline_name=baseline.name if baseline else None,
        target_name=dataset.target,
    )
    test = dataset.test
    # Table rows keep their source row number, so residuals come out in time order whatever the split.
    residuals_plot(
        test.labels, predictions["test"], folder.path(artifacts.RESIDUALS_PLOT), order=test.frame.index.to_numpy(),
        baseline=baseline.predict(test) if baseline else None, baseline_name=baseline.name if baseline else None,
    )


def save_class_plots(
    folder: RunFolder, dataset: Dataset, predictions: dict[str, np.ndarray], classes: dict[str, Any] | None,
    metrics: dict[str, dict[str, float]],
) -> None:
    """The test set's confusion matrix and accuracy per class, and for images a grid of test images.

    Args:
        folder: The run's staging folder.
        dataset: The prepared dataset.
        predictions: ``{part: predictions}``; needs ``test``.
        classes: The run's class report (None for regression: nothing is drawn).
        metrics: The run's metrics (the overall test accuracy is marked).
    """
    if classes is None:
        return
    from dlworkflow.evaluation.plots import (
        class_accuracy_plot,
        confusion_matrix_plot,
        image_grid,
        test_images_for_grid,
    )
    from dlworkflow.registry import artifacts

    names = classes["names"]
    confusion_matrix_plot(
        classes["confusion"]["test"], names, folder.path(artifacts.CONFUSION_PLOT), title="confusion matrix (test set)"
    )
    class_accuracy_plot(
        classes["per_class_accuracy"]["test"], folder.path(artifacts.CLASS_ACCURACY_PLOT),
        overall_accuracy=(metrics.get("test") or {}).get("accuracy"),
    )
    if dataset.image is None:
        return
    images = test_images_for_grid(dataset, "test", count=20)
    predicted = np.argmax(predictions["test"][: len(images)], axis=1)
    true_names = [names[label] for label in dataset.test.labels[: len(images)]]
    image_grid(images, true_names, [names[index] for index in predicted], folder.path(artifacts.IMAGE_GRID))
