"""The plots a run leaves in its folder beside the training curves: classes and regression.

A plot is drawn from what the run saves, so one that cannot be written (a full disk) is left
out, not the run (:class:`PlotWriter`), and :func:`redraw_missing_plots` draws it later from
the saved history and predictions (``dlw report``).

Example:
    >>> save_regression_plots(PlotWriter(folder), spec, dataset, predictions, headline)  # doctest: +SKIP
    >>> redraw_missing_plots(record, run_dir)  # doctest: +SKIP
    ['history.png']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Dataset
    from dlworkflow.registry import RunFolder
    from dlworkflow.registry.record import RunRecord
    from dlworkflow.registry.record_sections import Headline
    from dlworkflow.spec import Spec


@contextlib.contextmanager
def without_partial_file(path: Path) -> Iterator[Path]:
    """Remove ``path`` when the block writing it fails with an OSError (re-raised): nothing half-written stays.

    Example:
        >>> target = Path("/nonexistent/plot.png")
        >>> with without_partial_file(target) as path:
        ...     path.name
        'plot.png'
    """
    try:
        yield path
    except OSError:
        path.unlink(missing_ok=True)
        raise


class PlotWriter:
    """Draws a run's plots into its folder; a plot that cannot be written is left out and noted, not fatal.

    Args:
        folder: The run's staging folder.

    Attributes:
        folder: The folder.
        missing: ``{plot file name: why it is missing}``.

    Example:
        >>> plots = PlotWriter(folder)  # doctest: +SKIP
        >>> with plots.drawing("history.png") as path:  # doctest: +SKIP
        ...     history_plot(history, path)
        >>> plots.warnings()  # doctest: +SKIP
        []
    """

    def __init__(self, folder: RunFolder):
        self.folder = folder
        self.missing: dict[str, str] = {}

    @contextlib.contextmanager
    def drawing(self, name: str) -> Iterator[Path]:
        """The path to draw plot ``name`` to; an OSError while drawing it removes the partial file and is noted."""
        path = self.folder.path(name)
        try:
            with without_partial_file(path):
                yield path
        except OSError as err:
            self.missing[name] = err.strerror or str(err)

    def warnings(self) -> list[str]:
        """One warning naming the plots not drawn and why, or none.

        Example:
            >>> writer = PlotWriter(None)
            >>> writer.missing = {"history.png": "No space left on device"}
            >>> writer.warnings()
            ['plots not drawn (No space left on device): history.png; `dlw report` draws them again']
        """
        if not self.missing:
            return []
        reasons = ", ".join(sorted(set(self.missing.values())))
        return [f"plots not drawn ({reasons}): {', '.join(self.missing)}; `dlw report` draws them again"]


def save_regression_plots(
    plots: PlotWriter, spec: Spec, dataset: Dataset, predictions: dict[str, np.ndarray], headline: Headline,
    *, baseline_predictions: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Predicted against true (training and test) and test residuals in time order, beside the best baseline.

    Args:
        plots: Draws into the run's staging folder.
        spec: The run's spec.
        dataset: The prepared dataset.
        predictions: ``{part: predictions}``; needs ``test``.
        headline: The run's headline (its ``baseline`` is drawn beside the model).
        baseline_predictions: ``{part: predictions}`` of the headline's baseline (``train`` and
            ``test``) as the score stage made them; None fits the baseline again (see
            :func:`headline_baseline_predictions`).
    """
    if dataset.task != "regression":
        return
    from dlworkflow.evaluation.regression_plots import (
        predicted_vs_true_plot,
        residuals_plot,
    )
    from dlworkflow.registry import artifacts

    parts = [name for name in ("train", "test") if name in predictions]
    if baseline_predictions is None:
        baseline_predictions = headline_baseline_predictions(spec, dataset, headline, parts)
    baseline_name = headline.baseline if baseline_predictions else None
    with plots.drawing(artifacts.PREDICTED_VS_TRUE_PLOT) as path:
        predicted_vs_true_plot(
            {name: dataset.parts[name].labels for name in parts},
            {name: predictions[name] for name in parts},
            path,
            baseline_by_part={name: baseline_predictions[name] for name in parts if name in baseline_predictions},
            baseline_name=baseline_name,
            target_name=dataset.target,
        )
    test = dataset.test
    # Table rows keep their source row number, so residuals come out in time order whatever the split.
    with plots.drawing(artifacts.RESIDUALS_PLOT) as path:
        residuals_plot(
            test.labels, predictions["test"], path, order=test.frame.index.to_numpy(),
            baseline=baseline_predictions.get("test"), baseline_name=baseline_name,
        )


def headline_baseline_predictions(
    spec: Spec, dataset: Dataset, headline: Headline, parts: Sequence[str]
) -> dict[str, np.ndarray]:
    """The headline's baseline fitted on the training part again, and its predictions of ``parts`` (none: ``{}``).

    The fit runs with one BLAS thread: a least-squares fit of a few hundred rows takes a few
    milliseconds so, but up to 0.4 s with OpenBLAS's threads competing with Keras' (a 2-core
    machine, a warm worker's fork).

    Args:
        spec: The run's spec.
        dataset: The prepared dataset.
        headline: The run's headline; its ``baseline`` names the baseline.
        parts: The parts to predict.

    Returns:
        ``{part: predictions}``, or ``{}`` when the headline has no baseline of this dataset.

    Example:
        >>> headline_baseline_predictions(spec, dataset, record.headline, ["train", "test"])  # doctest: +SKIP
        {'train': array([...]), 'test': array([...])}
    """
    from threadpoolctl import threadpool_limits

    from dlworkflow.evaluation import baselines_for

    chosen = [b for b in baselines_for(dataset, spec.evaluate, source=spec.source) if b.name == headline.baseline]
    if not chosen:
        return {}
    with threadpool_limits(limits=1, user_api="blas"):
        baseline = chosen[0].fit(dataset.train)
        return {name: np.asarray(baseline.predict(dataset.parts[name])) for name in parts}


def save_class_plots(
    plots: PlotWriter, dataset: Dataset, predictions: dict[str, np.ndarray], classes: dict[str, Any] | None,
    metrics: dict[str, dict[str, float]],
) -> None:
    """The test set's confusion matrix and accuracy per class, and for images a grid of test images.

    Args:
        plots: Draws into the run's staging folder.
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
    with plots.drawing(artifacts.CONFUSION_PLOT) as path:
        confusion_matrix_plot(classes["confusion"]["test"], names, path, title="confusion matrix (test set)")
    with plots.drawing(artifacts.CLASS_ACCURACY_PLOT) as path:
        class_accuracy_plot(classes["per_class_accuracy"]["test"], path,
                            overall_accuracy=(metrics.get("test") or {}).get("accuracy"))
    if dataset.image is None:
        return
    with plots.drawing(artifacts.IMAGE_GRID) as path:
        images = test_images_for_grid(dataset, "test", count=20)
        predicted = np.argmax(predictions["test"][: len(images)], axis=1)
        true_names = [names[label] for label in dataset.test.labels[: len(images)]]
        image_grid(images, true_names, [names[index] for index in predicted], path)


def redraw_missing_plots(record: RunRecord, run_dir: Path) -> list[str]:
    """Draw the plots a finished run's folder lacks (a full disk at its end) from its saved history and predictions.

    The training curves come from ``history.csv``; for a run scored on test, the class plots
    from the record's class report, the regression plots from ``predictions_*.csv`` (without
    the baseline's points, which need the data). The grid of test images needs the images and
    is not redrawn. A plot that still cannot be written is left out again.

    Args:
        record: The run's record.
        run_dir: The run's folder.

    Returns:
        The plots drawn.

    Example:
        >>> redraw_missing_plots(record, Path(record.artifacts.dir))  # doctest: +SKIP
        ['history.png', 'residuals.png']
    """
    from dlworkflow.registry import artifacts

    if record.status != "finished" or not run_dir.is_dir():
        return []
    drawers = {artifacts.HISTORY_PLOT: _history_plot}
    if record.test_set.fingerprint and record.classes:
        drawers.update({artifacts.CONFUSION_PLOT: _confusion_plot, artifacts.CLASS_ACCURACY_PLOT: _accuracy_plot})
    elif record.test_set.fingerprint and record.data.task == "regression":
        drawers.update({artifacts.PREDICTED_VS_TRUE_PLOT: _predicted_plot, artifacts.RESIDUALS_PLOT: _residuals_plot})
    drawn = []
    for name, draw in drawers.items():
        path = run_dir / name
        if path.exists():
            continue
        try:
            with without_partial_file(path):
                done = draw(record, run_dir, path)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a saved file missing or unreadable, or still no space: the report goes without it
        if done:
            drawn.append(name)
    return drawn


def _history_plot(record: RunRecord, run_dir: Path, path: Path) -> bool:
    import pandas as pd

    from dlworkflow.evaluation.training_plots import history_plot
    from dlworkflow.registry import artifacts

    training = record.training
    history_plot(pd.read_csv(run_dir / artifacts.HISTORY), path, best_epoch=training.best_epoch,
                 evaluated_epoch=training.evaluated_epoch, stopped_early=bool(training.stopped_early),
                 stages=training.stages or None)
    return True


def _confusion_plot(record: RunRecord, run_dir: Path, path: Path) -> bool:
    from dlworkflow.evaluation.plots import confusion_matrix_plot

    classes = record.classes or {}
    confusion_matrix_plot(classes["confusion"]["test"], classes["names"], path, title="confusion matrix (test set)")
    return True


def _accuracy_plot(record: RunRecord, run_dir: Path, path: Path) -> bool:
    from dlworkflow.evaluation.plots import class_accuracy_plot

    classes = record.classes or {}
    class_accuracy_plot(classes["per_class_accuracy"]["test"], path,
                        overall_accuracy=(record.metrics.get("test") or {}).get("accuracy"))
    return True


def _saved_predictions(record: RunRecord, run_dir: Path, part: str) -> Any:
    import pandas as pd

    from dlworkflow.registry import artifacts

    return pd.read_csv(run_dir / artifacts.predictions_file(part))


def _predicted_plot(record: RunRecord, run_dir: Path, path: Path) -> bool:
    from dlworkflow.evaluation.regression_plots import predicted_vs_true_plot

    target = record.data.target or "target"
    frames = {part: _saved_predictions(record, run_dir, part) for part in ("train", "test")}
    predicted_vs_true_plot({part: frame[target].to_numpy() for part, frame in frames.items()},
                           {part: frame["prediction"].to_numpy() for part, frame in frames.items()},
                           path, target_name=target)
    return True


def _residuals_plot(record: RunRecord, run_dir: Path, path: Path) -> bool:
    from dlworkflow.evaluation.regression_plots import residuals_plot

    test = _saved_predictions(record, run_dir, "test")
    residuals_plot(test[record.data.target or "target"].to_numpy(), test["prediction"].to_numpy(), path,
                   order=test["row"].to_numpy())
    return True
