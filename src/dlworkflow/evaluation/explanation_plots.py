"""Plots of ``dlw explain``: the columns' permutation importances as bars.

Drawn like every other plot (:mod:`dlworkflow.evaluation.plots`): a figure on its own Agg
canvas, no pyplot.

Example:
    >>> importance_figure(result).savefig("feature_importance.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dlworkflow.evaluation.plots import DPI

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from dlworkflow.evaluation.permutation_importance import PermutationImportance

MAX_BARS = 40
"""The most columns drawn (the most important); the rest are said in the title."""


def importance_figure(result: PermutationImportance) -> Figure:
    """Horizontal bars of the most important columns, the spread over repeats as error bars.

    Args:
        result: From :func:`~dlworkflow.evaluation.permutation_importance.permutation_importance`.

    Returns:
        The figure (a notebook shows it; ``savefig`` writes it).

    Example:
        >>> from dlworkflow.evaluation.permutation_importance import ColumnImportance, PermutationImportance
        >>> result = PermutationImportance("rmse", "validation", 50, 3, 2.0, (ColumnImportance("a", 0.4, 0.1),))
        >>> len(importance_figure(result).axes)
        1
    """
    from dlworkflow.evaluation.notebook_figure import NotebookFigure

    shown = result.columns[:MAX_BARS]
    figure = NotebookFigure(figsize=(8.0, 1.2 + 0.28 * max(len(shown), 1)), dpi=DPI)
    axes = figure.add_subplot()
    positions = list(range(len(shown)))[::-1]
    axes.barh(positions, [column.importance for column in shown], xerr=[column.spread for column in shown],
              color="#4C72B0", ecolor="#333333", capsize=2)
    axes.set_yticks(positions, [column.column for column in shown], fontsize=8)
    axes.axvline(0.0, color="#999999", linewidth=0.8)
    axes.set_xlabel(f"{result.metric} worse when the column is shuffled (mean ± sd of {result.repeats})")
    more = f"; {len(result.columns) - len(shown)} more not shown" if len(result.columns) > len(shown) else ""
    axes.set_title(f"Permutation importance on {result.rows} {result.part} rows "
                   f"({result.metric} {result.score:.4g} as they are{more})", fontsize=10)
    figure.tight_layout()
    return figure


def save_importance_plot(result: PermutationImportance, path: str | Path) -> Path:
    """Draw :func:`importance_figure` into a PNG file.

    Example:
        >>> save_importance_plot(result, run_dir / "feature_importance.png")  # doctest: +SKIP
    """
    target = Path(path)
    importance_figure(result).savefig(target, format="png", dpi=DPI)
    return target
