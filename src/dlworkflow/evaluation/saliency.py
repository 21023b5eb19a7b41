"""Saliency maps of an image classifier by occlusion: which parts of an image its prediction rests on.

Occlusion sensitivity (Zeiler & Fergus, "Visualizing and Understanding Convolutional
Networks", ECCV 2014): each image is cut into a coarse grid of cells (:data:`GRID_CELLS` ×
:data:`GRID_CELLS`, fewer for smaller images); every cell in turn is covered with the image's
own mean colour and the copy is predicted again. A cell's saliency is how much the predicted
class's probability falls with the cell covered: positive where the model finds evidence for
its answer, near 0 where it does not look, negative where the cell speaks against it.

The method needs nothing but the model's predictions (no gradients), so it gives the same
map on every Keras backend and for any layer list; its cost is bounded: ``images × cells + 1``
predictions, in batches of :data:`BATCH_SIZE`.

Nothing here imports Keras: the model comes in as a ``predict`` function of network inputs.

Example:
    >>> import numpy as np
    >>> def predict(images):  # class 1 when the top-left corner is bright
    ...     bright = images[:, :4, :4, :].mean(axis=(1, 2, 3))
    ...     return np.stack([1 - bright, bright], axis=1)
    >>> images = np.zeros((1, 8, 8, 3)); images[0, :4, :4] = 1.0
    >>> maps = occlusion_saliency(predict, images, labels=[1], class_names=("dark", "bright"))
    >>> cells = maps.maps[0].array
    >>> bool(cells[:4, :4].min() > cells[4:, 4:].max()), maps.maps[0].predicted
    (True, 'bright')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

METHOD = "occlusion"
"""The method's name in ``explanation.json``."""

CITATION = "Zeiler & Fergus (2014), Visualizing and Understanding Convolutional Networks, ECCV"
"""Where the method comes from (said in the report)."""

GRID_CELLS = 8
"""Cells along each side of an image (fewer when the image has fewer pixels)."""

MAX_IMAGES = 16
"""The most images explained at once (each costs ``GRID_CELLS²`` predictions)."""

BATCH_SIZE = 128
"""Occluded copies predicted per model call."""


@dataclass(frozen=True)
class SaliencyMap:
    """One image's occlusion map.

    Attributes:
        row: The image's position in the part (aligned with its predictions file).
        true: The true class.
        predicted: The predicted class.
        probability: The predicted class's probability on the image as it is.
        cells: Grid rows of the fall of that probability with each cell covered.

    Example:
        >>> SaliencyMap(0, "cat", "dog", 0.7, ((0.1, 0.0), (0.0, 0.0))).array.shape
        (2, 2)
    """

    row: int
    true: str
    predicted: str
    probability: float
    cells: tuple[tuple[float, ...], ...]

    @property
    def array(self) -> np.ndarray:
        """The cells as a ``(grid rows, grid columns)`` float array."""
        return np.asarray(self.cells, dtype=np.float64)


@dataclass(frozen=True)
class SaliencyMaps:
    """Occlusion maps of a few images of one part.

    Attributes:
        part: ``validation`` or ``test``.
        grid: ``(rows, columns)`` of cells per image.
        maps: One map per image, in the part's order.
        method: :data:`METHOD`.

    Example:
        >>> maps = SaliencyMaps("validation", (1, 1), (SaliencyMap(3, "a", "a", 0.9, ((0.2,),)),))
        >>> SaliencyMaps.from_dict(maps.to_dict()) == maps
        True
    """

    part: str
    grid: tuple[int, int]
    maps: tuple[SaliencyMap, ...]
    method: str = METHOD

    def to_dict(self) -> dict[str, Any]:
        """As JSON-compatible data (``explanation.json``'s ``saliency``)."""
        return {"method": self.method, "citation": CITATION, "part": self.part, "grid": list(self.grid),
                "fill": "the image's mean colour", "images": len(self.maps),
                "maps": [{**asdict(item), "cells": [list(row) for row in item.cells]} for item in self.maps]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SaliencyMaps:
        """Read :meth:`to_dict`'s data back."""
        maps = tuple(
            SaliencyMap(int(item["row"]), str(item["true"]), str(item["predicted"]), float(item["probability"]),
                        tuple(tuple(float(value) for value in row) for row in item["cells"]))
            for item in data["maps"]
        )
        rows, columns = data["grid"]
        return cls(str(data["part"]), (int(rows), int(columns)), maps, str(data.get("method", METHOD)))


def cell_edges(size: int, cells: int) -> np.ndarray:
    """Where the cells along one side begin and end: ``cells + 1`` pixel positions.

    Example:
        >>> cell_edges(10, 4).tolist()
        [0, 2, 5, 8, 10]
    """
    return np.rint(np.linspace(0, size, cells + 1)).astype(int)


def occlusion_saliency(
    predict: Callable[[np.ndarray], np.ndarray],
    images: np.ndarray,
    *,
    labels: Sequence[int],
    class_names: Sequence[str],
    part: str = "validation",
    grid: int = GRID_CELLS,
    batch_size: int = BATCH_SIZE,
) -> SaliencyMaps:
    """Occlusion maps of images: the fall of the predicted class's probability with each grid cell covered.

    Args:
        predict: The model as a function of network inputs ``(n, height, width, channels)``,
            giving ``(n, classes)`` probabilities (or ``(n,)`` for one sigmoid unit).
        images: The network inputs of the images (scaled as the model takes them).
        labels: Their true class indices.
        class_names: The class labels in output order.
        part: Which part the images are, for the record.
        grid: Cells along each side (at most the image's pixels).
        batch_size: Occluded copies per ``predict`` call.

    Returns:
        The maps, one per image.

    Example:
        >>> flat = lambda images: np.full((len(images), 2), 0.5)
        >>> occlusion_saliency(flat, np.zeros((2, 4, 4, 1)), labels=[0, 1], class_names="ab").grid
        (4, 4)
    """
    images = np.asarray(images)
    height, width = int(images.shape[1]), int(images.shape[2])
    rows, columns = min(grid, height), min(grid, width)
    row_edges, column_edges = cell_edges(height, rows), cell_edges(width, columns)
    probabilities = _probabilities(predict(images))
    predicted = probabilities.argmax(axis=1)
    maps = []
    for index, image in enumerate(images):
        fill = image.reshape(-1, image.shape[-1]).mean(axis=0) if image.ndim == 3 else image.mean()
        copies = np.repeat(image[np.newaxis], rows * columns, axis=0)
        for cell in range(rows * columns):
            top, left = divmod(cell, columns)
            copies[cell, row_edges[top]:row_edges[top + 1], column_edges[left]:column_edges[left + 1]] = fill
        covered = np.concatenate([_probabilities(predict(copies[start:start + batch_size]))
                                  for start in range(0, len(copies), batch_size)])
        chosen = int(predicted[index])
        falls = (probabilities[index, chosen] - covered[:, chosen]).reshape(rows, columns)
        maps.append(SaliencyMap(
            index, str(class_names[int(labels[index])]), str(class_names[chosen]),
            float(probabilities[index, chosen]), tuple(tuple(float(value) for value in row) for row in falls),
        ))
    return SaliencyMaps(part, (rows, columns), tuple(maps))


def pixel_map(cells: np.ndarray, height: int, width: int) -> np.ndarray:
    """A cell grid spread over the image's pixels (each pixel gets its cell's value).

    Example:
        >>> pixel_map(np.array([[1.0, 2.0]]), 2, 3).tolist()
        [[1.0, 1.0, 2.0], [1.0, 1.0, 2.0]]
    """
    rows, columns = cells.shape
    row_of = np.searchsorted(cell_edges(height, rows), np.arange(height), side="right") - 1
    column_of = np.searchsorted(cell_edges(width, columns), np.arange(width), side="right") - 1
    return cells[np.ix_(row_of, column_of)]


def _probabilities(output: np.ndarray) -> np.ndarray:
    """Class probabilities ``(n, classes)``: one sigmoid unit becomes two columns."""
    values = np.asarray(output, dtype=np.float64)
    if values.ndim == 1 or values.shape[-1] == 1:
        positive = values.reshape(-1)
        return np.stack([1.0 - positive, positive], axis=1)
    return values.reshape(values.shape[0], -1)
