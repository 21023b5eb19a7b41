"""PNG plots of a classification run: test images with their predictions, the confusion matrix, per-class accuracy.

The lesson finishes with images: a grid of test pictures, each titled with its true and
predicted class, wrong ones in red. :func:`image_grid` draws it, :func:`test_images_for_grid`
takes the pictures from a dataset (in memory or streamed from files),
:func:`confusion_matrix_plot` draws the counts of ``class_report(...)["confusion"]`` and
:func:`class_accuracy_plot` the bars of ``class_report(...)["per_class_accuracy"]``.

Every plot is a :class:`matplotlib.figure.Figure` drawn on its own Agg canvas: pyplot is
never imported, so no global figure state or interactive backend is touched, and plotting
works on a machine without a display. Matplotlib and Pillow are imported inside the
functions.

Example:
    >>> images = test_images_for_grid(dataset, "test", count=20)  # doctest: +SKIP
    >>> image_grid(images, true_names, predicted_names, "test_images.png")  # doctest: +SKIP
    PosixPath('test_images.png')
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.data.dataset import Dataset

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RIGHT_COLOR = "#1b7f3b"
"""Title colour of a correctly predicted image (green)."""

WRONG_COLOR = "#c62828"
"""Title colour of a wrongly predicted image (red)."""

DPI = 100
"""Resolution of the saved PNG files (pixels per inch)."""

CELL_WIDTH, CELL_HEIGHT = 2.0, 2.3
"""Inches of an image's cell in :func:`image_grid`: its title above, the image scaled into the square below."""

TITLE_HEIGHT = 40
"""Pixels at the top of a grid cell for its two-line title."""

CELL_PADDING = 8
"""Pixels kept free around an image of the grid (left, right and below)."""

TIGHT_PAD = 1.08
"""Padding around each Axes' labels in the tight layout, in font sizes (``Figure.tight_layout``'s default)."""

PNG_COMPRESSION = 1
"""zlib level of the saved PNG files: 1 writes a plot several times faster than Pillow's 6, files ~10 % larger."""

BAR_COLOR = "#1f5fa8"
"""The bars of the per-class accuracy plot (blue)."""

OVERALL_COLOR = "#c62828"
"""The overall-accuracy line of the per-class accuracy plot (red)."""


def image_grid(
    images: Sequence[np.ndarray],
    true_names: Sequence[str],
    predicted_names: Sequence[str],
    path: str | Path,
    *,
    columns: int = 5,
) -> Path:
    """Save a PNG grid of images, each titled with its true and predicted class.

    Each image is titled ``true: cat`` over ``predicted: dog``, in green when the two agree
    and in red when they do not. The images are scaled (nearest pixel, aspect kept) into the
    squares of one picture the size of the figure, and the titles written above them: one
    image and a few texts to draw rather than an Axes per image (CIFAR's 20 images in
    0.07 s instead of 0.7 s).

    Args:
        images: ``(height, width, 3)`` RGB (or ``(height, width)`` / ``(height, width, 1)``
            grey) arrays: uint8, or floats in ``[0, 1]`` or ``[0, 255]`` (a float image whose
            largest value is above 1 is read as ``[0, 255]``).
        true_names: The true class name of each image.
        predicted_names: The predicted class name of each image.
        path: The PNG file to write (its folder must exist).
        columns: Images per row (fewer when there are fewer images).

    Returns:
        ``path`` as a Path.

    Raises:
        ValueError: When there are no images, the three sequences differ in length,
            ``columns`` is not positive, or an image is not 2-D or 3-D with 1, 3 or 4 channels.

    Example:
        >>> image_grid([np.zeros((32, 32, 3), np.uint8)], ["cat"], ["dog"], tmp / "grid.png")
        PosixPath('.../grid.png')
    """
    count = len(images)
    if count == 0:
        raise ValueError("image_grid: got no images; pass at least one.")
    if len(true_names) != count or len(predicted_names) != count:
        raise ValueError(
            f"image_grid: got {count} images, {len(true_names)} true names and {len(predicted_names)} "
            "predicted names; pass one of each per image."
        )
    if columns < 1:
        raise ValueError(f"image_grid: columns must be a positive integer; got {columns!r}.")
    pictures = [_displayable(image, index) for index, image in enumerate(images)]
    columns = min(columns, count)
    rows = -(-count // columns)
    figure = _figure(width=CELL_WIDTH * columns, height=CELL_HEIGHT * rows)
    width, height = figure.canvas.get_width_height()
    mosaic = np.full((height, width, 3), 255, dtype=np.uint8)
    cell_width, cell_height = width / columns, height / rows
    side = int(min(cell_width - 2 * CELL_PADDING, cell_height - TITLE_HEIGHT - CELL_PADDING))
    for index, (picture, true, predicted) in enumerate(zip(pictures, true_names, predicted_names, strict=True)):
        row, column = divmod(index, columns)
        centre, top = (column + 0.5) * cell_width, int(row * cell_height) + TITLE_HEIGHT
        _paste(mosaic, _fitted(picture, side), int(centre - side / 2), top, side)
        figure.text(
            centre / width, 1.0 - (top - 4) / height, f"true: {true}\npredicted: {predicted}",
            color=RIGHT_COLOR if str(true) == str(predicted) else WRONG_COLOR,
            fontsize=9, ha="center", va="bottom", multialignment="center",
        )
    figure.figimage(mosaic, xo=0, yo=0, origin="upper")
    return _save(figure, path)


def confusion_matrix_plot(
    matrix: Sequence[Sequence[int]] | np.ndarray,
    names: Sequence[str],
    path: str | Path,
    *,
    title: str = "confusion matrix",
) -> Path:
    """Save a PNG of a confusion matrix with the count written in every cell.

    Rows are true classes, columns predicted ones; darker cells hold more rows.

    Args:
        matrix: ``matrix[true][predicted]`` counts, ``classes × classes`` (as
            :func:`~dlworkflow.evaluation.metrics.confusion` returns).
        names: The class names, in class-index order.
        path: The PNG file to write (its folder must exist).
        title: The plot's title, e.g. ``"confusion matrix (test)"``.

    Returns:
        ``path`` as a Path.

    Raises:
        ValueError: When the matrix is not square or does not have one row per name.

    Example:
        >>> confusion_matrix_plot([[3, 1], [0, 4]], ["cat", "dog"], tmp / "confusion.png")
        PosixPath('.../confusion.png')
    """
    counts = np.asarray(matrix)
    classes = len(names)
    if counts.ndim != 2 or counts.shape != (classes, classes):
        raise ValueError(
            f"confusion_matrix_plot: the matrix must be {classes} × {classes} (one row and column per "
            f"class name); got shape {counts.shape}."
        )
    size = max(3.5, 0.6 * classes + 2.0)
    figure = _figure(width=size + 0.8, height=size)
    axes = figure.add_subplot(1, 1, 1)
    from matplotlib.ticker import MaxNLocator

    image = axes.imshow(counts, cmap="Blues", vmin=0, vmax=max(1, int(counts.max(initial=0))))
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, ticks=MaxNLocator(integer=True))
    positions = list(range(classes))
    axes.set_xticks(positions, labels=[str(name) for name in names], rotation=45, ha="right", rotation_mode="anchor")
    axes.set_yticks(positions, labels=[str(name) for name in names])
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    threshold = counts.max(initial=0) / 2
    fontsize = 10 if classes <= 10 else 7
    for true in positions:
        for predicted in positions:
            value = int(counts[true, predicted])
            axes.text(
                predicted, true, str(value), ha="center", va="center", fontsize=fontsize,
                color="white" if value > threshold else "black",
            )
    _tight_layout(figure)
    return _save(figure, path)


def class_accuracy_plot(
    per_class_accuracy: Mapping[str, float | None],
    path: str | Path,
    *,
    overall_accuracy: float | None = None,
    title: str = "accuracy per class (test set)",
) -> Path:
    """Save a PNG of horizontal bars, one per class, of the share of its rows predicted right.

    See :func:`class_accuracy_figure` for what is drawn.

    Args:
        per_class_accuracy: ``{class name: accuracy or None}`` in class order, as
            ``class_report(...)["per_class_accuracy"]["test"]`` gives it (None: no rows).
        path: The PNG file to write (its folder must exist).
        overall_accuracy: The accuracy over all rows (``metrics["test"]["accuracy"]``), drawn
            as a line; None draws the mean of the classes (the balanced accuracy) instead.
        title: The plot's title.

    Returns:
        ``path`` as a Path.

    Raises:
        ValueError: As :func:`class_accuracy_figure`.

    Example:
        >>> class_accuracy_plot({"cat": 0.75, "dog": 1.0}, tmp / "bars.png", overall_accuracy=0.875)
        PosixPath('.../bars.png')
    """
    figure = class_accuracy_figure(per_class_accuracy, overall_accuracy=overall_accuracy, title=title)
    return _save(figure, path)


def class_accuracy_figure(
    per_class_accuracy: Mapping[str, float | None],
    *,
    overall_accuracy: float | None = None,
    title: str = "accuracy per class (test set)",
) -> Figure:
    """Per-class accuracy as an unsaved figure: horizontal bars, first class on top.

    Each bar ends with its value (``0.75``); a class without rows in the part shows
    ``no rows`` instead of a bar. A red dashed vertical line marks ``overall accuracy 0.88``
    or, without ``overall_accuracy``, ``mean over classes 0.85``.

    Args:
        per_class_accuracy: ``{class name: accuracy in [0, 1] or None}``, in class order.
        overall_accuracy: The accuracy over all rows, or None for the mean of the classes.
        title: The plot's title.

    Returns:
        The figure, with one axes.

    Raises:
        ValueError: When there is no class, or an accuracy lies outside ``[0, 1]``.

    Example:
        >>> figure = class_accuracy_figure({"cat": 0.75, "dog": 1.0}, overall_accuracy=0.875)
        >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
        ['overall accuracy 0.875']
    """
    names = [str(name) for name in per_class_accuracy]
    if not names:
        raise ValueError("class_accuracy_plot: got no class; pass class_report(...)['per_class_accuracy'][part].")
    values = [None if value is None else float(value) for value in per_class_accuracy.values()]
    for name, value in zip(names, values, strict=True):
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"class_accuracy_plot: the accuracy of class {name!r} must lie in [0, 1]; got {value!r}.")
    if overall_accuracy is not None and not 0.0 <= overall_accuracy <= 1.0:
        raise ValueError(f"class_accuracy_plot: overall_accuracy must lie in [0, 1]; got {overall_accuracy!r}.")
    known = [value for value in values if value is not None]
    if overall_accuracy is not None:
        line, label = float(overall_accuracy), f"overall accuracy {float(overall_accuracy):.3g}"
    elif known:
        line = float(np.mean(known))
        label = f"mean over classes {line:.3g}"
    else:
        line, label = None, ""

    count = len(names)
    figure = _figure(width=6.4, height=max(2.4, 0.32 * count + 1.3))
    axes = figure.add_subplot(1, 1, 1)
    positions = np.arange(count)
    axes.barh(positions, [0.0 if value is None else value for value in values], color=BAR_COLOR, height=0.7)
    fontsize = 8 if count <= 30 else 6
    for position, value in zip(positions, values, strict=True):
        text = "no rows" if value is None else f"{value:.2f}"
        color = "grey" if value is None else "black"
        axes.text((value or 0.0) + 0.01, position, text, va="center", fontsize=fontsize, color=color)
    if line is not None:
        axes.axvline(line, color=OVERALL_COLOR, linestyle="--", linewidth=1.5, label=label)
        axes.legend(fontsize=8, loc="best")
    axes.set_yticks(positions, labels=names, fontsize=fontsize + 1)
    axes.set_ylim(count - 0.5, -0.5)  # the first class on top
    axes.set_xlim(0.0, 1.12)
    axes.set_xticks([0.0, 0.25, 0.5, 0.75, 1.0])
    axes.set_xlabel("accuracy (share of the class's rows predicted as the class)")
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    _tight_layout(figure)
    return figure


def warm_up_drawing() -> None:
    """Draw one small figure into memory, so that a process forked afterwards draws its first plot sooner.

    A process's first figure costs about 0.1 s more than the next ones (matplotlib fills its
    caches of styles, markers and text layout on first use). A warm worker (``dlw worker``)
    calls this once before it forks commands; each command's plots then start warm. Fonts are
    loaded again in every fork (matplotlib clears its font cache there), so nothing is shared
    that a fork could break.

    Example:
        >>> warm_up_drawing()
    """
    import io

    figure = _figure(width=3.0, height=2.0)
    axes = figure.add_subplot(1, 1, 1)
    axes.plot([1, 2, 3], [3.0, 1.0, 2.0], marker="o", linestyle="--", label="training")
    axes.scatter([1, 2], [2.0, 1.0], s=12, alpha=0.5, label="model")
    axes.axvline(2, color=RIGHT_COLOR, label="best epoch 2")
    axes.set_title("warm-up")
    axes.set_xlabel("epoch")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    _tight_layout(figure)
    figure.savefig(io.BytesIO(), format="png", dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESSION})


def test_images_for_grid(dataset: Dataset, part_name: str = "test", count: int = 20) -> list[np.ndarray]:
    """The first ``count`` images of a part as displayable uint8 arrays, for :func:`image_grid`.

    An in-memory part's ``x`` is unscaled (divided by ``Dataset.image["scale"]``, its
    ``"offset"`` added back: undoing ``pixels`` or ``minmax``). Values that lie in 0–255 and
    reach above :data:`~dlworkflow.data.image_preparation.FAR_BELOW_255` are shown as they are;
    images on another scale (digits' 0–16, 0–1, 12-bit) are stretched for display, the smallest
    value of the images shown black and the largest white (one range for all, so their
    brightness can be compared). A streamed part's first files are read with Pillow,
    converted to RGB (or grey for one channel) and resized (bilinear) to the dataset's image
    size, as the network sees them.

    Args:
        dataset: A dataset of images (``Dataset.image`` is set).
        part_name: ``train``, ``validation`` or ``test``.
        count: How many images at most (fewer when the part is smaller).

    Returns:
        ``(height, width, channels)`` uint8 arrays, in the part's row order (aligned with its
        ``labels`` and the model's predictions).

    Raises:
        ValueError: When the dataset holds no images, the part does not exist, or ``count``
            is negative.
        OSError: When a streamed image file cannot be read.

    Example:
        >>> [image.shape for image in test_images_for_grid(dataset, count=2)]  # doctest: +SKIP
        [(32, 32, 3), (32, 32, 3)]
    """
    if dataset.image is None:
        raise ValueError(f"test_images_for_grid: the dataset {dataset.name!r} holds no images (Dataset.image is None).")
    if part_name not in dataset.parts:
        raise ValueError(
            f"test_images_for_grid: the dataset has no {part_name!r} part; "
            f"its parts are {', '.join(map(repr, dataset.parts))}."
        )
    if count < 0:
        raise ValueError(f"test_images_for_grid: count must be 0 or more; got {count!r}.")
    part = dataset.parts[part_name]
    if part.x is not None:
        scale = float(dataset.image.get("scale") or 1.0)
        pixels = np.asarray(part.x[:count], dtype=np.float64) / scale + float(dataset.image.get("offset") or 0.0)
        return [np.clip(np.rint(image), 0, 255).astype(np.uint8) for image in _for_display(pixels)]
    return [_read_image(path, dataset.image) for path in (part.files or ())[:count]]


test_images_for_grid.__test__ = False  # type: ignore[attr-defined]  # a library function, not a pytest test


def _for_display(pixels: np.ndarray) -> np.ndarray:
    """Pixels on a 0–255 scale: as they are when they use it, else their common range stretched to it."""
    from dlworkflow.data.image_preparation import FAR_BELOW_255, PIXEL_RANGE

    finite = pixels[np.isfinite(pixels)]
    if finite.size == 0:
        return np.zeros_like(pixels)
    low, high = float(finite.min()), float(finite.max())
    if PIXEL_RANGE[0] - 0.5 <= low and high <= PIXEL_RANGE[1] + 0.5 and high > FAR_BELOW_255:  # rounds into 0–255
        return pixels
    stretched = (pixels - low) * (255.0 / (high - low)) if high > low else np.zeros_like(pixels)
    return np.nan_to_num(stretched, nan=0.0, posinf=255.0, neginf=0.0)


def _read_image(path: str, image: dict[str, Any]) -> np.ndarray:
    from PIL import Image

    height, width, channels = int(image["height"]), int(image["width"]), int(image.get("channels", 3))
    with Image.open(path) as opened:
        converted = opened.convert("L" if channels == 1 else "RGB")
        if converted.size != (width, height):
            converted = converted.resize((width, height), Image.Resampling.BILINEAR)
        pixels = np.asarray(converted, dtype=np.uint8)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _displayable(image: np.ndarray, index: int) -> np.ndarray:
    """An image as uint8 ``(h, w)`` (grey) or ``(h, w, 3|4)``, from uint8 or float pixels."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(
            f"image_grid: image {index} must have shape (height, width), (height, width, 1), "
            f"(height, width, 3) or (height, width, 4); got {array.shape}."
        )
    if array.dtype == np.uint8:
        return array
    values = np.nan_to_num(array.astype(np.float64), nan=0.0)
    if values.size and values.max() <= 1.0:
        values = values * 255.0
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _figure(width: float, height: float) -> Figure:
    """A figure on its own Agg canvas (no pyplot, no global backend) that a notebook shows as PNG."""
    from dlworkflow.evaluation.notebook_figure import NotebookFigure

    return NotebookFigure(figsize=(width, height), dpi=DPI)


def _save(figure: Figure, path: str | Path) -> Path:
    target = Path(path)
    figure.savefig(target, format="png", dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESSION})
    return target


def _tight_layout(figure: Figure) -> None:
    """``Figure.tight_layout``'s margins, computed once and without the placeholder layout engine it leaves.

    ``TightLayoutEngine`` measures every Axes twice (its second pass, with the margins of the
    first as its frame, gives the same margins again), and after ``Figure.tight_layout`` the
    figure keeps a placeholder engine that makes ``savefig`` draw the whole figure once more,
    without rendering, before it draws it into the file. Here one measuring pass gives the
    same margins (``tests/evaluation/test_plots.py`` compares them); a matplotlib without the
    helper this calls gets the engine's own layout.
    """
    try:
        from matplotlib._tight_layout import (
            get_subplotspec_list,
            get_tight_layout_figure,
        )
    except ImportError:  # pragma: no cover - another matplotlib layout
        from matplotlib.layout_engine import TightLayoutEngine

        TightLayoutEngine().execute(figure)
        return
    renderer = figure.canvas.get_renderer()
    with getattr(renderer, "_draw_disabled", contextlib.nullcontext)():
        margins = get_tight_layout_figure(
            figure, figure.axes, get_subplotspec_list(figure.axes), renderer, pad=TIGHT_PAD, h_pad=None, w_pad=None,
            rect=None,
        )
    if margins:
        figure.subplots_adjust(**margins)


def _fitted(picture: np.ndarray, side: int) -> np.ndarray:
    """An image scaled (nearest pixel) to fit a ``side`` square, aspect kept, as uint8 RGB on white."""
    if picture.ndim == 2:
        picture = np.repeat(picture[:, :, None], 3, axis=2)
    elif picture.shape[2] == 4:
        alpha = picture[:, :, 3:].astype(np.float64) / 255.0
        picture = np.rint(picture[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    height, width = picture.shape[:2]
    scale = side / max(height, width)
    rows = (np.arange(max(1, round(height * scale))) + 0.5) / scale
    columns = (np.arange(max(1, round(width * scale))) + 0.5) / scale
    return picture[np.minimum(rows.astype(int), height - 1)][:, np.minimum(columns.astype(int), width - 1)]


def _paste(mosaic: np.ndarray, picture: np.ndarray, left: int, top: int, side: int) -> None:
    """Put ``picture`` centred into the ``side`` square at ``(left, top)`` of the mosaic."""
    height, width = picture.shape[:2]
    top, left = top + (side - height) // 2, left + (side - width) // 2
    mosaic[top : top + height, left : left + width] = picture
