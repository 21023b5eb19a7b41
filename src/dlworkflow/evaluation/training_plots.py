"""PNG plot of a run's training history: loss and each metric, training against validation, per epoch.

The workshop looks at these curves after every fit: the training loss going down, the
validation loss bottoming out and rising again when the model overfits. :func:`history_plot`
draws one panel per quantity (``loss`` first, then each metric in the history's order), the
training curve solid and the validation curve dashed in a lighter shade of the same colour.
The epoch whose weights early stopping kept, the epoch where it stopped and, with
``[train.fine_tune]``, the start of the fine-tune stage are marked with vertical lines that
the first panel's legend names.

Like :mod:`dlworkflow.evaluation.plots`, a figure is drawn on its own Agg canvas (pyplot is
never imported) and matplotlib is imported on first use, so importing this module loads
neither matplotlib nor Keras. :func:`history_figure` returns the figure unsaved, for a
notebook or a report.

Example:
    >>> result = fit_model(model, spec, dataset, quiet=True)  # doctest: +SKIP
    >>> history_plot(result.history, run_dir / "history.png", best_epoch=result.best_epoch,
    ...              evaluated_epoch=result.evaluated_epoch, stopped_early=result.stopped_early,
    ...              stages=result.stages)  # doctest: +SKIP
    PosixPath('.../history.png')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CURVE_COLORS: tuple[tuple[str, str], ...] = (
    ("#1f5fa8", "#6fa8dc"),  # blue
    ("#b4500f", "#f0a35e"),  # orange
    ("#6a3d9a", "#b39ddb"),  # purple
    ("#00695c", "#4db6ac"),  # teal
    ("#8d4e2a", "#c99a7a"),  # brown
    ("#a31545", "#f48fb1"),  # pink
)
"""(training, validation) colours of the panels in turn: the validation shade is the lighter one."""

BEST_EPOCH_COLOR = "#2e7d32"
"""The vertical line at the best epoch (green)."""

EARLY_STOP_COLOR = "#c62828"
"""The vertical line at the epoch where early stopping ended training (red)."""

STAGE_COLOR = "#555555"
"""The vertical line where the next training stage (fine-tune) starts (grey)."""

NOT_QUANTITIES = ("epoch", "stage")
"""History columns that are not curves."""

VALIDATION_PREFIX = "val_"
"""Keras' prefix of a quantity measured on the validation data."""

MARKERS_UP_TO = 40
"""Curves of at most this many epochs show a dot at every epoch (so a single epoch is visible)."""

PANEL_COLUMNS = 3
"""Panels per row at most."""


def history_plot(
    history: pd.DataFrame,
    path: str | Path,
    *,
    best_epoch: int | None = None,
    evaluated_epoch: int | None = None,
    stopped_early: bool = False,
    stages: Mapping[str, int] | None = None,
) -> Path:
    """Save a PNG of the training curves: one panel per quantity, training vs validation.

    See :func:`history_figure` for what is drawn.

    Args:
        history: :attr:`TrainingResult.history <dlworkflow.training.trainer.TrainingResult.history>`
            (or ``history.csv`` read back): one row per epoch, an optional ``epoch`` column
            (1-based; the row number when absent), an optional ``stage`` column, then Keras'
            keys (``loss``, metrics, their ``val_`` twins).
        path: The PNG file to write (its folder must exist).
        best_epoch: The epoch early stopping found best (``TrainingResult.best_epoch``), or None.
        evaluated_epoch: The epoch whose weights the model holds (``TrainingResult.evaluated_epoch``).
        stopped_early: Whether early stopping ended training (``TrainingResult.stopped_early``).
        stages: Epochs per stage in order (``TrainingResult.stages``); None reads the history's
            ``stage`` column when it has one.

    Returns:
        ``path`` as a Path.

    Raises:
        ValueError: As :func:`history_figure`.

    Example:
        >>> import pandas as pd
        >>> history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.5, 2.6]})
        >>> history_plot(history, tmp / "history.png", best_epoch=2)
        PosixPath('.../history.png')
    """
    from dlworkflow.evaluation.plots import _save

    figure = history_figure(
        history, best_epoch=best_epoch, evaluated_epoch=evaluated_epoch, stopped_early=stopped_early, stages=stages
    )
    return _save(figure, path)


def history_figure(
    history: pd.DataFrame,
    *,
    best_epoch: int | None = None,
    evaluated_epoch: int | None = None,
    stopped_early: bool = False,
    stages: Mapping[str, int] | None = None,
) -> Figure:
    """The training curves as an unsaved figure (on its own Agg canvas).

    One panel per quantity: ``loss`` first, then every other numeric column in the
    history's order, each with its ``val_`` twin; a ``val_`` column without a training twin
    gets a panel of its own. The training curve is solid, the validation curve dashed in a
    lighter shade of the same colour; NaN and infinite values leave gaps. Up to
    :data:`PANEL_COLUMNS` panels per row. Marked on every panel, and named in the first
    panel's legend:

    * ``best epoch N`` — a green vertical line at ``best_epoch`` (``(evaluated)`` added when
      its weights are the ones evaluated);
    * ``evaluated (epoch N)`` — a ring on each curve at ``evaluated_epoch``, when it is not
      the best epoch;
    * ``stopped early (epoch N)`` — a red dotted line at the last epoch, when ``stopped_early``;
    * ``fine_tune from epoch N`` — a grey dash-dot line between two stages.

    Args:
        history: One row per epoch (see :func:`history_plot`).
        best_epoch: The best epoch, or None for no mark.
        evaluated_epoch: The epoch whose weights are evaluated, or None for no mark.
        stopped_early: Whether to mark the last epoch as where early stopping ended training.
        stages: ``{stage name: epochs}`` in order; None reads the ``stage`` column.

    Returns:
        The figure; ``figure.axes`` holds one panel per quantity, in order.

    Raises:
        ValueError: When the history has no rows or no numeric quantity, a marked epoch is
            not one of its epochs, or ``stages`` does not add up to its number of rows.

    Example:
        >>> import pandas as pd
        >>> history = pd.DataFrame({"loss": [3.0, 2.0], "rmse": [1.7, 1.4], "val_loss": [3.1, 2.5]})
        >>> [axes.get_title() for axes in history_figure(history).axes]
        ['loss', 'rmse']
    """
    from matplotlib.ticker import MaxNLocator

    from dlworkflow.evaluation.plots import (  # here: plots loads dlworkflow.data
        _figure,
        _tight_layout,
    )

    rows = len(history)
    if rows == 0:
        raise ValueError("history_figure: the history has no rows; pass at least one epoch.")
    epochs = _epochs(history)
    panels = _panels(history)
    if not panels:
        raise ValueError(
            "history_figure: the history has no numeric quantity to plot; got columns "
            f"{[str(column) for column in history.columns]!r}."
        )
    for name, epoch in (("best_epoch", best_epoch), ("evaluated_epoch", evaluated_epoch)):
        if epoch is not None and epoch not in set(epochs.tolist()):
            raise ValueError(
                f"history_figure: {name} must be one of the history's epochs "
                f"({int(epochs.min())} to {int(epochs.max())}); got {epoch!r}."
            )
    boundaries = _stage_boundaries(history, stages, epochs)

    columns = min(PANEL_COLUMNS, len(panels))
    panel_rows = math.ceil(len(panels) / columns)
    figure = _figure(width=4.8 * columns, height=3.4 * panel_rows)
    markers = "o" if rows <= MARKERS_UP_TO else None
    for index, (title, training, validation) in enumerate(panels):
        axes = figure.add_subplot(panel_rows, columns, index + 1)
        dark, light = CURVE_COLORS[index % len(CURVE_COLORS)]
        curves = []
        for column, label, color, style in ((training, "training", dark, "-"), (validation, "validation", light, "--")):
            if column is None:
                continue
            values = _finite(history[column])
            (line,) = axes.plot(
                epochs, values, linestyle=style, color=color, marker=markers, markersize=3, linewidth=1.5, label=label
            )
            curves.append((line, values))
        if not any(np.isfinite(values).any() for _, values in curves):
            axes.text(0.5, 0.5, "no finite values", transform=axes.transAxes, ha="center", va="center", color="grey")
        marks = _mark_epochs(axes, curves, epochs, best_epoch, evaluated_epoch, stopped_early, boundaries)
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if epochs.min() == epochs.max():  # one epoch: a unit-wide range, so that the ticks are whole epochs
            axes.set_xlim(epochs.min() - 1, epochs.max() + 1)
        axes.grid(alpha=0.3)
        axes.legend(handles=[line for line, _ in curves] + (marks if index == 0 else []), fontsize=8)
    _tight_layout(figure)
    return figure


def overlaid_histories_plot(histories: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Save the loss curves of several runs in one figure (``dlw compare``).

    Two panels: training loss and validation loss, one colour per run (in the given order),
    so that which run learns faster, and which one overfits, shows at a glance.

    Args:
        histories: ``{label: history}``, e.g. ``{"weather (20261123-2201)": history}``.
        path: Where the PNG goes.

    Returns:
        ``path``.

    Raises:
        ValueError: when no history has a ``loss`` column.

    Example:
        >>> overlaid_histories_plot({"a": history_a, "b": history_b}, "compare.png")  # doctest: +SKIP
        PosixPath('compare.png')
    """
    from dlworkflow.evaluation.plots import _save

    return _save(overlaid_histories_figure(histories), path)


def overlaid_histories_figure(histories: Mapping[str, pd.DataFrame]) -> Figure:
    """The figure of :func:`overlaid_histories_plot`, unsaved.

    Example:
        >>> [axes.get_title() for axes in overlaid_histories_figure({"a": history}).axes]  # doctest: +SKIP
        ['loss (training)', 'val_loss (validation)']
    """
    from matplotlib.ticker import MaxNLocator

    from dlworkflow.evaluation.plots import _figure, _tight_layout

    usable = {label: history for label, history in histories.items() if "loss" in history.columns}
    if not usable:
        raise ValueError(f"no history has a 'loss' column; got {len(histories)} histories")
    columns = ["loss"] + (["val_loss"] if any("val_loss" in h.columns for h in usable.values()) else [])
    figure = _figure(width=4.8 * len(columns), height=3.6)
    for index, column in enumerate(columns):
        axes = figure.add_subplot(1, len(columns), index + 1)
        for number, (label, history) in enumerate(usable.items()):
            if column in history.columns:
                color = CURVE_COLORS[number % len(CURVE_COLORS)][0]
                axes.plot(_epochs(history), _finite(history[column]), color=color, linewidth=1.5, label=label)
        axes.set_title(f"{column} ({'validation' if column.startswith(VALIDATION_PREFIX) else 'training'})")
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    _tight_layout(figure)
    return figure


def _epochs(history: pd.DataFrame) -> np.ndarray:
    if "epoch" in history.columns:
        return np.asarray(history["epoch"], dtype=np.int64)
    return np.arange(1, len(history) + 1, dtype=np.int64)


def _numeric(history: pd.DataFrame, column: Any) -> bool:
    dtype = np.asarray(history[column]).dtype
    return bool(np.issubdtype(dtype, np.number))


def _panels(history: pd.DataFrame) -> list[tuple[str, str | None, str | None]]:
    """``(title, training column, validation column)`` per panel: loss first, then the history's order."""
    names = [str(column) for column in history.columns if str(column) not in NOT_QUANTITIES]
    numeric = [name for name in names if _numeric(history, name)]
    training = [name for name in numeric if not name.startswith(VALIDATION_PREFIX)]
    training.sort(key=lambda name: name != "loss")  # stable: loss first, the rest in order
    panels: list[tuple[str, str | None, str | None]] = []
    for name in training:
        twin = VALIDATION_PREFIX + name
        panels.append((name, name, twin if twin in numeric else None))
    for name in numeric:
        if name.startswith(VALIDATION_PREFIX) and name[len(VALIDATION_PREFIX) :] not in training:
            panels.append((name, None, name))
    return panels


def _finite(values: Sequence[float] | Any) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, np.nan)


def _stage_boundaries(
    history: pd.DataFrame, stages: Mapping[str, int] | None, epochs: np.ndarray
) -> list[tuple[str, int]]:
    """``(stage name, its first epoch)`` for every stage after the first."""
    if stages is None:
        if "stage" not in history.columns:
            return []
        names = [str(name) for name in history["stage"]]
        return [(names[row], int(epochs[row])) for row in range(1, len(names)) if names[row] != names[row - 1]]
    counts = [(str(name), int(count)) for name, count in stages.items()]
    if sum(count for _, count in counts) != len(epochs):
        raise ValueError(
            f"history_figure: stages {dict(stages)!r} add up to {sum(count for _, count in counts)} epochs; "
            f"the history has {len(epochs)} rows. Pass TrainingResult.stages with its own history."
        )
    boundaries = []
    row = 0
    for position, (name, count) in enumerate(counts):
        if position > 0 and count > 0:
            boundaries.append((name, int(epochs[row])))
        row += count
    return boundaries


def _mark_epochs(
    axes: Axes,
    curves: list[tuple[Any, np.ndarray]],
    epochs: np.ndarray,
    best_epoch: int | None,
    evaluated_epoch: int | None,
    stopped_early: bool,
    boundaries: list[tuple[str, int]],
) -> list[Any]:
    """Draw the vertical marks (and the evaluated ring) on one panel; return their legend handles."""
    handles = []
    for name, first in boundaries:
        label = f"{name} from epoch {first}"
        handles.append(axes.axvline(first - 0.5, color=STAGE_COLOR, linestyle="-.", linewidth=1.2, label=label))
    if best_epoch is not None:
        label = f"best epoch {best_epoch}" + (" (evaluated)" if evaluated_epoch == best_epoch else "")
        handles.append(axes.axvline(best_epoch, color=BEST_EPOCH_COLOR, linewidth=1.2, label=label))
    if stopped_early:
        last = int(epochs[-1])
        label = f"stopped early (epoch {last})"
        handles.append(axes.axvline(last, color=EARLY_STOP_COLOR, linestyle=":", linewidth=1.5, label=label))
    if evaluated_epoch is not None and evaluated_epoch != best_epoch:
        row = int(np.flatnonzero(epochs == evaluated_epoch)[0])
        points = [(evaluated_epoch, values[row]) for _, values in curves if np.isfinite(values[row])]
        if points:
            x, y = zip(*points, strict=True)
            (ring,) = axes.plot(
                x, y, linestyle="none", marker="o", markersize=8, markerfacecolor="none", markeredgecolor="black",
                label=f"evaluated (epoch {evaluated_epoch})",
            )
            handles.append(ring)
    return handles
