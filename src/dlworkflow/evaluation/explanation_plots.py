"""Plots of ``dlw explain``: the columns' permutation importances as bars, images' saliency maps as a grid.

Drawn like every other plot (:mod:`dlworkflow.evaluation.plots`): a figure on its own Agg
canvas, no pyplot.

Example:
    >>> importance_figure(result).savefig("feature_importance.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dlworkflow.evaluation.plots import DPI, _save, _tight_layout

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

    from dlworkflow.evaluation.permutation_importance import PermutationImportance
    from dlworkflow.evaluation.saliency import SaliencyMaps

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
    _tight_layout(figure)
    return figure


def save_importance_plot(result: PermutationImportance, path: str | Path) -> Path:
    """Draw :func:`importance_figure` into a PNG file.

    Example:
        >>> save_importance_plot(result, run_dir / "feature_importance.png")  # doctest: +SKIP
    """
    return _save(importance_figure(result), path)


IMAGES_PER_ROW = 4
"""Images per row of the saliency grid (each drawn twice: as it is, and with its map laid over it)."""

RIGHT_COLOR, WRONG_COLOR = "#1b7f3b", "#c62828"
"""Title colours of a right and a wrong prediction (as in ``test_images.png``)."""


def saliency_figure(maps: SaliencyMaps, pictures: list[np.ndarray]) -> Figure:
    """Each image beside its occlusion map laid over it, titled with its true and predicted class.

    The map is drawn in a diverging colour scale centred on 0, the same for every image: red
    where covering the cell lowers the predicted class's probability (evidence the model uses),
    blue where it raises it.

    Args:
        maps: From :func:`~dlworkflow.evaluation.saliency.occlusion_saliency`.
        pictures: The same images as displayable uint8 arrays ``(height, width, channels)``.

    Returns:
        The figure.

    Example:
        >>> import numpy as np
        >>> from dlworkflow.evaluation.saliency import SaliencyMap, SaliencyMaps
        >>> maps = SaliencyMaps("validation", (1, 2), (SaliencyMap(0, "cat", "dog", 0.6, ((0.1, -0.1),)),))
        >>> len(saliency_figure(maps, [np.zeros((4, 4, 3), np.uint8)]).axes)
        3
    """
    import numpy as np

    from dlworkflow.evaluation.notebook_figure import NotebookFigure
    from dlworkflow.evaluation.saliency import pixel_map

    count = len(maps.maps)
    per_row = min(IMAGES_PER_ROW, count)
    rows = -(-count // per_row)
    figure = NotebookFigure(figsize=(4.2 * per_row, 2.4 * rows + 0.6), dpi=DPI)
    largest = max((float(np.abs(item.array).max()) for item in maps.maps), default=0.0) or 1.0
    shown = None
    for index, (item, picture) in enumerate(zip(maps.maps, pictures, strict=True)):
        grey = picture[:, :, 0] if picture.ndim == 3 and picture.shape[2] == 1 else picture
        colour = RIGHT_COLOR if item.true == item.predicted else WRONG_COLOR
        original = figure.add_subplot(rows, 2 * per_row, 2 * index + 1)
        original.imshow(grey, cmap="gray" if grey.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
        original.set_title(f"true: {item.true}\npredicted: {item.predicted} ({item.probability:.2f})",
                           color=colour, fontsize=8)
        overlay = figure.add_subplot(rows, 2 * per_row, 2 * index + 2)
        overlay.imshow(grey, cmap="gray" if grey.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
        heat = pixel_map(item.array, picture.shape[0], picture.shape[1])
        shown = overlay.imshow(heat, cmap="RdBu_r", vmin=-largest, vmax=largest, alpha=0.55, interpolation="nearest")
        overlay.set_title("occlusion map", fontsize=8)
        for axes in (original, overlay):
            axes.set_axis_off()
    if shown is not None:
        figure.colorbar(shown, ax=figure.axes, shrink=0.6, label="fall of the predicted class's probability")
    figure.suptitle(f"Occlusion saliency on {count} {maps.part} images ({maps.grid[0]}×{maps.grid[1]} cells, "
                    "each covered with the image's mean colour)", fontsize=10)
    return figure


def save_saliency_grid(maps: SaliencyMaps, pictures: list[np.ndarray], path: str | Path) -> Path:
    """Draw :func:`saliency_figure` into a PNG file.

    Example:
        >>> save_saliency_grid(maps, pictures, run_dir / "saliency_maps.png")  # doctest: +SKIP
    """
    return _save(saliency_figure(maps, pictures), path)
