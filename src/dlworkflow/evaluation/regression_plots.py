"""PNG plots of a regression run: predicted against true values, and the residuals over time.

The lesson's weather example ends with a scatter plot of predicted against true sunshine
hours, beside the same plot for "tomorrow = today" (the persistence baseline): points on the
diagonal are perfect, and a model that is no closer to it than the baseline has learned
little. :func:`predicted_vs_true_plot` draws one panel per part (training and test), the
model's points and the baseline's in a second colour, the diagonal ``y = x`` and both RMSEs
in the titles. :func:`residuals_plot` draws ``true − predicted`` along the rows of an ordered
split (or against dates), the baseline's residuals faint behind: runs of one sign show
what the model misses over time.

As in :mod:`dlworkflow.evaluation.plots`, a figure is drawn on its own Agg canvas (pyplot is
never imported) and matplotlib is imported on first use. The ``*_figure`` functions return
the figure unsaved. The baseline's predictions are passed in:
:func:`~dlworkflow.evaluation.baselines.fit_baselines` gives the fitted baselines, and
``baseline.predict(part)`` their values.

Example:
    >>> persistence = {b.name: b for b in fit_baselines(dataset, spec.evaluate)}["persistence"]  # doctest: +SKIP
    >>> predicted_vs_true_plot(
    ...     {"train": dataset.train.labels, "test": dataset.test.labels},
    ...     {"train": predictions["train"], "test": predictions["test"]},
    ...     run_dir / "predicted_vs_true.png",
    ...     baseline_by_part={name: persistence.predict(dataset.parts[name]) for name in ("train", "test")},
    ...     baseline_name="persistence", target_name=dataset.target,
    ... )  # doctest: +SKIP
    PosixPath('.../predicted_vs_true.png')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.formatting import BRIEF_DIGITS, format_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MODEL_COLOR = "#1f5fa8"
"""The model's points and residuals (blue)."""

BASELINE_COLOR = "#e07b00"
"""The baseline's points and residuals (orange)."""

DIAGONAL_COLOR = "#555555"
"""The line ``y = x`` of perfect predictions, and the zero line of the residuals (grey)."""

PART_TITLES = {"train": "training set", "validation": "validation set", "test": "test set"}
"""How a part is named in a panel title."""

ArrayLike = Sequence[float] | np.ndarray


def rmse(true: ArrayLike, predicted: ArrayLike) -> float:
    """Root mean squared error over the rows where both values are finite (NaN when there are none).

    Args:
        true: The true values.
        predicted: The predictions, one per true value.

    Returns:
        ``sqrt(mean((true − predicted)²))``.

    Example:
        >>> rmse([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
        0.816496580927726
    """
    difference = np.asarray(true, dtype=np.float64).reshape(-1) - np.asarray(predicted, dtype=np.float64).reshape(-1)
    finite = difference[np.isfinite(difference)]
    return float(np.sqrt(np.mean(finite**2))) if finite.size else float("nan")


def format_value(value: float) -> str:
    """A metric value for a title: dlworkflow's one number rule at three significant digits.

    See :func:`dlworkflow.formatting.format_number`: thousands separated, a large value rounded
    to a whole number rather than written with an exponent.

    Example:
        >>> format_value(3.87732), format_value(0.012345), format_value(12345.6)
        ('3.88', '0.0123', '12,346')
    """
    return format_number(float(value), BRIEF_DIGITS)


def predicted_vs_true_plot(
    true_by_part: Mapping[str, ArrayLike],
    predicted_by_part: Mapping[str, ArrayLike],
    path: str | Path,
    *,
    baseline_by_part: Mapping[str, ArrayLike] | None = None,
    baseline_name: str | None = None,
    target_name: str = "target",
) -> Path:
    """Save a PNG of predicted against true values, one panel per part, with a baseline's points.

    See :func:`predicted_vs_true_figure` for what is drawn.

    Args:
        true_by_part: ``{part name: true values}`` (``Part.labels``), e.g. ``train`` and ``test``.
        predicted_by_part: ``{part name: the model's predictions}`` (``(rows,)`` or ``(rows, 1)``).
        path: The PNG file to write (its folder must exist).
        baseline_by_part: ``{part name: a baseline's predictions}``, e.g. persistence; None for none.
        baseline_name: The baseline's name for the legend and titles (default ``baseline``).
        target_name: The target's name, for the axis labels.

    Returns:
        ``path`` as a Path.

    Raises:
        ValueError: As :func:`predicted_vs_true_figure`.

    Example:
        >>> predicted_vs_true_plot({"test": [1.0, 2.0]}, {"test": [1.5, 2.5]}, tmp / "scatter.png")
        PosixPath('.../scatter.png')
    """
    from dlworkflow.evaluation.plots import _save

    figure = predicted_vs_true_figure(
        true_by_part, predicted_by_part, baseline_by_part=baseline_by_part, baseline_name=baseline_name,
        target_name=target_name,
    )
    return _save(figure, path)


def predicted_vs_true_figure(
    true_by_part: Mapping[str, ArrayLike],
    predicted_by_part: Mapping[str, ArrayLike],
    *,
    baseline_by_part: Mapping[str, ArrayLike] | None = None,
    baseline_name: str | None = None,
    target_name: str = "target",
) -> Figure:
    """Predicted against true values as an unsaved figure: one square panel per part.

    A panel per part of ``predicted_by_part``, in its order, titled with the part
    (``training set``), its rows and the model's RMSE, and the baseline's RMSE when it has
    the baseline's predictions for that part. The model's points are blue, the baseline's
    orange behind them, the diagonal ``y = x`` grey and dashed; both axes share the same range.

    Args:
        true_by_part: ``{part name: true values}``.
        predicted_by_part: ``{part name: predictions}``; every part must have true values.
        baseline_by_part: ``{part name: baseline predictions}``; parts it lacks show no baseline.
        baseline_name: The baseline's name (default ``baseline``).
        target_name: The target's name, for the axis labels.

    Returns:
        The figure; ``figure.axes`` holds one panel per part.

    Raises:
        ValueError: When there is no part, a part has no true values, or the values of a
            part differ in length.

    Example:
        >>> figure = predicted_vs_true_figure({"test": [1.0, 3.0]}, {"test": [2.0, 2.0]})
        >>> figure.axes[0].get_title()
        'test set (2 rows)\\nmodel RMSE 1'
    """
    from dlworkflow.evaluation.plots import (  # here: plots loads dlworkflow.data
        _figure,
        _tight_layout,
    )

    if not predicted_by_part:
        raise ValueError("predicted_vs_true_figure: got no part; pass the predictions of at least one part.")
    name = baseline_name or "baseline"
    baselines = dict(baseline_by_part or {})
    parts = []
    for part in predicted_by_part:
        if part not in true_by_part:
            raise ValueError(
                f"predicted_vs_true_figure: the {part!r} part has predictions but no true values; "
                f"true values are given for {', '.join(map(repr, true_by_part)) or 'no part'}."
            )
        true = _values(true_by_part[part], f"true values of the {part!r} part")
        predicted = _values(predicted_by_part[part], f"predictions of the {part!r} part", rows=true.size)
        baseline = None
        if part in baselines:
            baseline = _values(baselines[part], f"{name} predictions of the {part!r} part", rows=true.size)
        parts.append((part, true, predicted, baseline))

    figure = _figure(width=4.6 * len(parts), height=4.9)
    for index, (part, true, predicted, baseline) in enumerate(parts):
        axes = figure.add_subplot(1, len(parts), index + 1)
        size = 12 if true.size <= 2000 else 4
        title = f"{PART_TITLES.get(part, part)} ({true.size:,} rows)\nmodel RMSE {format_value(rmse(true, predicted))}"
        shown = [true, predicted]
        if baseline is not None:
            axes.scatter(true, baseline, s=size, color=BASELINE_COLOR, alpha=0.45, linewidths=0, label=name)
            title += f" · {name} RMSE {format_value(rmse(true, baseline))}"
            shown.append(baseline)
        axes.scatter(true, predicted, s=size, color=MODEL_COLOR, alpha=0.6, linewidths=0, label="model")
        low, high = _range(shown)
        axes.plot([low, high], [low, high], color=DIAGONAL_COLOR, linestyle="--", linewidth=1.0, label="y = x")
        axes.set_xlim(low, high)
        axes.set_ylim(low, high)
        axes.set_aspect("equal", adjustable="box")
        axes.set_title(title, fontsize=10)
        axes.set_xlabel(f"true {target_name}")
        axes.set_ylabel(f"predicted {target_name}")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, loc="upper left")
    _tight_layout(figure)
    return figure


def residuals_plot(
    true: ArrayLike,
    predicted: ArrayLike,
    path: str | Path,
    *,
    order: Sequence[Any] | np.ndarray | None = None,
    baseline: ArrayLike | None = None,
    baseline_name: str | None = None,
    title: str = "residuals (true − predicted), test set",
) -> Path:
    """Save a PNG of the residuals ``true − predicted`` over time, the baseline's faint behind.

    See :func:`residuals_figure` for what is drawn.

    Args:
        true: The true values of one part, in its row order (``Part.labels``).
        predicted: The model's predictions, one per row (``(rows,)`` or ``(rows, 1)``).
        path: The PNG file to write (its folder must exist).
        order: Where each row lies in time: dates (datetime64, pandas timestamps or date
            strings) or numbers, e.g. ``part.frame.index``; None plots the rows in the
            order given.
        baseline: A baseline's predictions for the same rows (e.g. persistence); None for none.
        baseline_name: The baseline's name for the legend (default ``baseline``).
        title: The plot's title.

    Returns:
        ``path`` as a Path.

    Raises:
        ValueError: As :func:`residuals_figure`.

    Example:
        >>> residuals_plot([1.0, 2.0, 4.0], [1.5, 2.0, 3.0], tmp / "residuals.png")
        PosixPath('.../residuals.png')
    """
    from dlworkflow.evaluation.plots import _save

    figure = residuals_figure(true, predicted, order=order, baseline=baseline, baseline_name=baseline_name, title=title)
    return _save(figure, path)


def residuals_figure(
    true: ArrayLike,
    predicted: ArrayLike,
    *,
    order: Sequence[Any] | np.ndarray | None = None,
    baseline: ArrayLike | None = None,
    baseline_name: str | None = None,
    title: str = "residuals (true − predicted), test set",
) -> Figure:
    """The residuals over time as an unsaved figure.

    The model's residuals ``true − predicted`` are a blue line with a dot per row, the
    baseline's residuals a faint orange line behind them, and zero a grey line. Rows are
    sorted by ``order`` when it is given and not already increasing. The legend gives each
    series' RMSE.

    Args:
        true: The true values.
        predicted: The model's predictions, one per true value.
        order: Dates or numbers, one per row (see :func:`residuals_plot`); None for row order.
        baseline: A baseline's predictions, one per true value; None for none.
        baseline_name: The baseline's name (default ``baseline``).
        title: The plot's title.

    Returns:
        The figure, with one axes.

    Raises:
        ValueError: When there are no rows, the values differ in length, or ``order`` holds
            values that are neither numbers nor dates.

    Example:
        >>> figure = residuals_figure([1.0, 2.0], [0.5, 2.5], baseline=[1.0, 1.0])
        >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
        ['baseline (RMSE 0.707)', 'model (RMSE 0.5)']
    """
    from matplotlib.ticker import MaxNLocator

    from dlworkflow.evaluation.plots import (  # here: plots loads dlworkflow.data
        _figure,
        _tight_layout,
    )

    true_values = _values(true, "true values")
    if true_values.size == 0:
        raise ValueError("residuals_figure: got no rows; pass the values of at least one row.")
    residuals = true_values - _values(predicted, "predictions", rows=true_values.size)
    baseline_residuals = None
    name = baseline_name or "baseline"
    if baseline is not None:
        baseline_residuals = true_values - _values(baseline, f"{name} predictions", rows=true_values.size)
    positions, label = _positions(order, true_values.size)
    if order is not None and positions.size > 1 and np.any(positions[1:] < positions[:-1]):
        sort = np.argsort(positions, kind="stable")
        positions, residuals = positions[sort], residuals[sort]
        baseline_residuals = None if baseline_residuals is None else baseline_residuals[sort]

    figure = _figure(width=10.0, height=3.8)
    axes = figure.add_subplot(1, 1, 1)
    axes.axhline(0.0, color=DIAGONAL_COLOR, linewidth=1.0)
    marker = "o" if residuals.size <= 2000 else None
    if baseline_residuals is not None:
        axes.plot(
            positions, _finite(baseline_residuals), color=BASELINE_COLOR, alpha=0.35, linewidth=1.0, marker=marker,
            markersize=2, label=f"{name} (RMSE {format_value(_root_mean_square(baseline_residuals))})", zorder=1,
        )
    axes.plot(
        positions, _finite(residuals), color=MODEL_COLOR, linewidth=0.9, marker=marker, markersize=2.5,
        label=f"model (RMSE {format_value(_root_mean_square(residuals))})", zorder=2,
    )
    if not np.issubdtype(positions.dtype, np.datetime64):
        axes.xaxis.set_major_locator(MaxNLocator(integer=bool(np.issubdtype(positions.dtype, np.integer))))
    else:
        figure.autofmt_xdate()
    axes.set_title(title)
    axes.set_xlabel(label)
    axes.set_ylabel("true − predicted")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="upper right")
    _tight_layout(figure)
    return figure


def _values(values: ArrayLike, what: str, *, rows: int | None = None) -> np.ndarray:
    """A 1-D float64 array of ``values`` (``(rows, 1)`` flattened), checked against ``rows``."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"regression plot: the {what} must have shape (rows,) or (rows, 1); got {array.shape}.")
    if rows is not None and array.size != rows:
        raise ValueError(
            f"regression plot: got {array.size} {what} for {rows} true values; pass one per row, in the same order."
        )
    return array


def _finite(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


def _root_mean_square(residuals: np.ndarray) -> float:
    return rmse(residuals, np.zeros_like(residuals))


def _range(arrays: list[np.ndarray]) -> tuple[float, float]:
    """A common axis range over the finite values, with a 4 % margin."""
    values = np.concatenate(arrays)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    margin = 0.04 * (high - low) if high > low else max(0.5, 0.04 * abs(high))
    return low - margin, high + margin


def _positions(order: Sequence[Any] | np.ndarray | None, rows: int) -> tuple[np.ndarray, str]:
    """The x value of each row and the axis label: row numbers, numbers, or datetime64 dates."""
    if order is None:
        return np.arange(rows), "row (in split order)"
    label = str(getattr(order, "name", None) or "")
    array = np.asarray(order)
    if array.shape != (rows,):
        raise ValueError(f"residuals_figure: order must have one value per row ({rows}); got shape {array.shape}.")
    if np.issubdtype(array.dtype, np.datetime64):
        return array, label or "date"
    if np.issubdtype(array.dtype, np.number) and not np.issubdtype(array.dtype, np.bool_):
        return array, label or "order"
    import pandas as pd

    try:
        dates = pd.to_datetime(pd.Series(array.tolist()), format="mixed")
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"residuals_figure: order must hold numbers or dates; got {array[:3].tolist()!r}... which are neither. "
            "Pass dates (pandas.to_datetime of the date column), numbers, or None for the row order."
        ) from err
    return dates.to_numpy(dtype="datetime64[ns]"), label or "date"
