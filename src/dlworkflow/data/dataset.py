"""The prepared, split dataset every later layer works on.

A :class:`Dataset` is what the data layer hands to models, training, evaluation and the
registry: network-ready arrays per split, the raw rows they came from (for baselines,
predictions and reports), and the facts about the data that a run records.

Example:
    >>> dataset.task, dataset.input_shape, dataset.train.size  # doctest: +SKIP
    ('regression', (89,), 767)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from dlworkflow.data.preprocessing import (
    Preprocessing,
    TablePreprocessing,
    as_preprocessing,
)
from dlworkflow.data.windows import WindowedSplit

Task = Literal["classification", "regression"]
PART_NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class Part:
    """One split of the data (train, validation or test).

    A part is either in memory (``x`` holds the inputs) or streamed (``x`` is None and
    ``files`` lists the image files, read and resized batch by batch by the training layer).

    Attributes:
        name: ``train``, ``validation`` or ``test``.
        x: Network input: float32, C-contiguous, scaled; shape ``(rows, features)`` for tables,
            ``(rows, height, width, channels)`` for images. None for a streamed part.
        y: Network target: float32 ``(rows,)`` for regression, float32 ``(rows, classes)`` for
            one-hot classes, int32 ``(rows,)`` for integer classes.
        labels: The target as values to score against: float64 for regression, int class
            index (into ``Dataset.class_names``) for classification; shape ``(rows,)``.
        frame: The raw, unscaled rows (features and any other kept columns), with the
            source table's index, aligned with ``x``. For images: one row per image with
            its label (and ``file`` for a folder), no pixels.
        files: For a streamed part, the image file paths in row order; else None.
    """

    name: str
    x: np.ndarray | None
    y: np.ndarray
    labels: np.ndarray
    frame: pd.DataFrame
    files: tuple[str, ...] | None = None

    @property
    def size(self) -> int:
        """Number of rows."""
        return int(self.labels.shape[0])

    @property
    def streamed(self) -> bool:
        """Whether the inputs are read from ``files`` batch by batch instead of held in ``x``."""
        return self.x is None


@dataclass(frozen=True)
class Dataset:
    """A prepared and split dataset, ready for a model.

    Attributes:
        name: Short label of the source (built-in name or CSV file stem).
        task: ``classification`` or ``regression``.
        target: Name of the target column (before encoding).
        feature_names: The input columns, in network order.
        class_names: Class labels in encoding order (classification), else None.
        target_encoding: ``onehot`` or ``integer`` for classification, None for regression.
        parts: ``train`` and ``test`` always; ``validation`` only when its fraction is above 0.
        preprocessing: The fitted preprocessing (:class:`~dlworkflow.data.preprocessing.TablePreprocessing`
            or :class:`~dlworkflow.data.preprocessing.ImagePreprocessing`: feature names, scaler
            statistics, target encoding, classes, image size), saved with the run as
            ``preprocessing.json`` by its ``to_dict``; nothing pickled. A dict given here is read
            with :meth:`Preprocessing.from_dict <dlworkflow.data.preprocessing.Preprocessing.from_dict>`.
        fingerprint: sha256 of the prepared table (features and target) before the split.
        test_fingerprint: sha256 of the test rows (raw features and target, in order).
        image: For image data: ``{"height", "width", "channels", "scale"}`` — the size every
            image has (after resizing) and the factor pixels are multiplied by (1/255 for
            ``scaling = "pixels"``, else 1). Streamed parts are decoded with it. None for tables.
        warnings: Things about the data a user should know that do not stop a run, each a
            whole sentence naming where and what to do (e.g. test rows repeated in training).
        window: With ``[data.window]``: the window, the kept target rows per part and the check
            that the parts' target rows are in time order (:mod:`dlworkflow.data.windows`); else None.
    """

    name: str
    task: Task
    target: str
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None
    target_encoding: Literal["onehot", "integer"] | None
    parts: dict[str, Part]
    preprocessing: Preprocessing = field(default_factory=TablePreprocessing)
    fingerprint: str = ""
    test_fingerprint: str = ""
    image: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    window: WindowedSplit | None = None

    def __post_init__(self) -> None:
        if isinstance(self.preprocessing, Mapping):
            object.__setattr__(self, "preprocessing", as_preprocessing(self.preprocessing))

    @property
    def train(self) -> Part:
        """The training split."""
        return self.parts["train"]

    @property
    def validation(self) -> Part | None:
        """The validation split, or None when the spec asks for none."""
        return self.parts.get("validation")

    @property
    def test(self) -> Part:
        """The test split."""
        return self.parts["test"]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. ``(89,)`` or ``(32, 32, 3)``."""
        if self.train.x is not None:
            return tuple(int(n) for n in self.train.x.shape[1:])
        assert self.image is not None, "a streamed part needs Dataset.image"
        return (int(self.image["height"]), int(self.image["width"]), int(self.image["channels"]))

    @property
    def output_units(self) -> int:
        """Units the output layer needs: classes for classification, 1 for regression."""
        return len(self.class_names) if self.class_names is not None else 1

    def sizes(self) -> dict[str, int]:
        """Rows per split; 0 for an absent validation split.

        Returns:
            ``{"train": ..., "validation": ..., "test": ...}``.
        """
        return {name: (self.parts[name].size if name in self.parts else 0) for name in PART_NAMES}
