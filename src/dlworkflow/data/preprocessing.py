"""The fitted preprocessing of a run as typed, frozen data: what ``dlw predict`` and a bundle apply.

Training fits the preprocessing (the scaler's statistics, the class order, the image size)
and saves it beside the model as ``preprocessing.json``; ``dlw predict`` and an exported
bundle read it back, without the training code and with nothing pickled. This module is
that contract: :class:`TablePreprocessing` for a table, :class:`ImagePreprocessing` for
images, both :class:`Preprocessing`, made of the parts in
:mod:`dlworkflow.data.preprocessing_parts` (:class:`TableScaling`, :class:`ImageInput`,
:class:`ImageScaling`). Each is a small frozen type with ``to_dict`` and ``from_dict`` (as
the run record's entities are), and ``to_dict`` writes exactly the JSON
written since the first release, key for key and in the same order, so
``json.dumps(preprocessing.to_dict(), indent=2)`` gives the same bytes (and a bundle's
sha256 manifest the same digests); ``target_scaling`` (:mod:`dlworkflow.data.target_scaling`)
is written only when a regression target was scaled, ``encoding``
(:class:`~dlworkflow.data.column_encoding.TableEncoding`) only when a column is not a plain number::

    table   {"feature_names", "target", "shift", "task", "target_encoding", "class_names",
             "scaling": {"method", "feature_names", "offset": {name: value}, "scale": {name: value}}
             [, "target_scaling": {"method", "offset", "scale"}] [, "encoding": {"columns", ...}]}
    images  {"kind": "images", "origin", "image": {"height", "width", "channels", "scale"},
             "class_names", "target", "task", "target_encoding", "scaling": {"method", "scale"}}

:meth:`Preprocessing.from_dict` reads both shapes (a table has no ``kind``). It also reads
the shorter forms written by hand, e.g. ``"scaling": {"method": "none"}`` (the features are
then kept as they are); these are written back in full. Top-level keys this version does
not know are kept in ``extra`` and written back after the known ones; unknown keys inside
``scaling`` and ``image`` are ignored. A value of the wrong type is a
:class:`~dlworkflow.errors.DataError` naming the file and the key.

The data layer's preprocessing never imports Keras; :meth:`TableScaling.to_scaler` imports
the scaler (scikit-learn) when called.

Example:
    >>> saved = {"feature_names": ["a"], "target": "y", "shift": 0, "task": "regression",
    ...          "target_encoding": None, "class_names": None,
    ...          "scaling": {"method": "standardize", "feature_names": ["a"],
    ...                      "offset": {"a": 2.0}, "scale": {"a": 4.0}}}
    >>> preprocessing = Preprocessing.from_dict(saved)
    >>> preprocessing.is_images, preprocessing.feature_names, preprocessing.scaling.offset
    (False, ('a',), (2.0,))
    >>> preprocessing.to_dict() == saved
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dlworkflow.data.column_encoding import TableEncoding
from dlworkflow.data.preprocessing_parts import (
    SOURCE,
    ImageInput,
    ImageScaling,
    SavedValues,
    TableScaling,
)
from dlworkflow.data.target_scaling import TargetScaling
from dlworkflow.data.windows import Windows

__all__ = [
    "IMAGES", "ImageInput", "ImagePreprocessing", "ImageScaling", "Preprocessing", "TablePreprocessing",
    "TableScaling", "TargetScaling", "as_preprocessing",
]

IMAGES = "images"
"""``kind`` of an image run's preprocessing (a table's has no ``kind``)."""

TABLE = "table"
""":attr:`Preprocessing.kind` of a table's preprocessing (not written to the JSON)."""

ORIGINS = ("arrays", "folder")
"""``origin`` of image preprocessing: arrays (``.npz``, a Keras image set) or a folder of files."""

TASKS = ("classification", "regression")
"""The tasks a preprocessing may name."""

TARGET_ENCODINGS = ("onehot", "integer")
"""The target encodings of a classification."""


class Preprocessing:
    """The fitted preprocessing of a run: :class:`TablePreprocessing` or :class:`ImagePreprocessing`.

    Both carry ``target``, ``task``, ``target_encoding``, ``class_names``, ``scaling``
    (with its ``method``) and ``extra`` (the top-level keys this version does not know,
    kept), and write themselves with ``to_dict``. Read either with :meth:`from_dict`.

    Example:
        >>> Preprocessing.from_dict({"kind": "images", "origin": "folder", "image": {"height": 8, "width": 8},
        ...                          "class_names": ["cat", "dog"]}).is_images
        True
    """

    kind: ClassVar[str]
    target: str | None
    task: str | None
    target_encoding: str | None
    class_names: tuple[str, ...] | None
    scaling: TableScaling | ImageScaling
    extra: Mapping[str, Any]
    target_scaling: TargetScaling = TargetScaling()  # a table's field; images' targets are classes

    @property
    def is_images(self) -> bool:
        """Whether the model takes images (else a table's rows)."""
        return self.kind == IMAGES

    def to_dict(self) -> dict[str, Any]:
        """The preprocessing as JSON-compatible data (``preprocessing.json``); see the subclasses."""
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: Any, *, source: str = SOURCE) -> Preprocessing:
        """Read a saved preprocessing of either kind (``preprocessing.json`` parsed).

        Args:
            data: The dict: with ``"kind": "images"`` an image run's, without ``kind`` a table's.
            source: The file it came from, for messages.

        Returns:
            A :class:`TablePreprocessing` or an :class:`ImagePreprocessing`.

        Raises:
            DataError: when ``data`` is not a dict, names an unknown kind, or holds a value
                of the wrong type (naming the key).

        Example:
            >>> type(Preprocessing.from_dict({"feature_names": ["a"], "target": "y"})).__name__
            'TablePreprocessing'
        """
        read = SavedValues(source)
        kind = read.mapping(data, "").get("kind")
        if kind == IMAGES:
            return ImagePreprocessing.from_dict(data, source=source)
        if kind is None or kind == TABLE:
            return TablePreprocessing.from_dict(data, source=source)
        raise read.error("kind", f"must be {IMAGES!r}, or left out for a table (a newer dlworkflow may know it)",
                         got=kind)


TABLE_KEYS = (
    "feature_names", "target", "shift", "task", "target_encoding", "class_names", "scaling", "target_scaling", "encoding",
    "window",
)
"""The keys of a table's preprocessing, in the order they are written."""

IMAGE_KEYS = ("kind", "origin", "image", "class_names", "target", "task", "target_encoding", "scaling")
"""The keys of an image run's preprocessing, in the order they are written."""


@dataclass(frozen=True)
class TablePreprocessing(Preprocessing):
    """A table run's preprocessing: the features, the target and the fitted scaler.

    Attributes:
        feature_names: The input columns, in network order.
        target: The target column (before encoding).
        shift: ``data.shift``: the target is the value ``-shift`` rows later (0: the same row).
        task: ``classification`` or ``regression``.
        target_encoding: ``onehot`` or ``integer`` for classification, None for regression.
        class_names: Class labels in output order (classification), else None.
        scaling: The fitted scaler's state.
        extra: Keys of the saved dict this version does not know, written back after the others.
        target_scaling: The regression target's fitted scaling (the network's outputs go through
            its ``inverse``); written only when it is not ``none``.
        encoding: The fitted column encodings (:mod:`dlworkflow.data.column_encoding`), applied
            before the scaler (whose features are then the encoded columns); written only when a
            column is not a plain number or a gap was imputed.
        window: ``[data.window]``: the model takes the rows up to each predicted row
            (:class:`~dlworkflow.data.windows.Windows`); written only when set.

    Example:
        >>> table = TablePreprocessing(("a", "b"), "y", scaling=TableScaling("none", ("a", "b"), (0.0, 0.0), (1.0, 1.0)))
        >>> list(table.to_dict())
        ['feature_names', 'target', 'shift', 'task', 'target_encoding', 'class_names', 'scaling']
        >>> TablePreprocessing.from_dict(table.to_dict()) == table
        True
    """

    kind: ClassVar[str] = TABLE
    feature_names: tuple[str, ...] = ()
    target: str | None = None
    shift: int = 0
    task: str | None = None
    target_encoding: str | None = None
    class_names: tuple[str, ...] | None = None
    scaling: TableScaling = field(default_factory=TableScaling)
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)
    target_scaling: TargetScaling = field(default_factory=TargetScaling)
    encoding: TableEncoding | None = None
    window: Windows | None = None

    def to_dict(self) -> dict[str, Any]:
        """The preprocessing as JSON-compatible data, in the layout ``preprocessing.json`` has always had.

        Returns:
            ``{"feature_names", "target", "shift", "task", "target_encoding", "class_names",
            "scaling"}``, ``"target_scaling"`` when the target was scaled, then the ``extra`` keys.

        Example:
            >>> TablePreprocessing(("a",), "y", scaling=TableScaling("none", ("a",), (0.0,), (1.0,))).to_dict()["target"]
            'y'
        """
        return {
            "feature_names": list(self.feature_names),
            "target": self.target,
            "shift": self.shift,
            "task": self.task,
            "target_encoding": self.target_encoding,
            "class_names": None if self.class_names is None else list(self.class_names),
            "scaling": self.scaling.to_dict(),
            **({} if self.target_scaling.is_identity else {"target_scaling": self.target_scaling.to_dict()}),
            **({} if self.encoding is None else {"encoding": self.encoding.to_dict()}),
            **({} if self.window is None else {"window": self.window.to_dict()}),
            **{key: value for key, value in self.extra.items() if key not in TABLE_KEYS},
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = SOURCE) -> TablePreprocessing:
        """Read a table run's saved preprocessing.

        Args:
            data: The dict :meth:`to_dict` writes; any key may be left out (no features, no
                target, shift 0, no scaling — the features as they are).
            source: The file it came from, for messages.

        Returns:
            The preprocessing.

        Raises:
            DataError: for a value of the wrong type, naming the key.

        Example:
            >>> TablePreprocessing.from_dict({"feature_names": ["a"], "scaling": {"method": "none"}}).scaling
            TableScaling(method='none', feature_names=('a',), offset=(0.0,), scale=(1.0,))
        """
        read = SavedValues(source)
        values = read.mapping(data, "")
        feature_names = read.texts(values.get("feature_names"), "feature_names") or ()
        return cls(
            feature_names=feature_names,
            target=read.optional_text(values.get("target"), "target"),
            shift=read.integer(values.get("shift", 0), "shift"),
            task=read.choice(values.get("task"), TASKS, "task"),
            target_encoding=read.choice(values.get("target_encoding"), TARGET_ENCODINGS, "target_encoding"),
            class_names=read.texts(values.get("class_names"), "class_names"),
            scaling=TableScaling.from_dict(values.get("scaling"), feature_names=feature_names, source=source),
            extra={key: value for key, value in values.items() if key not in TABLE_KEYS},
            target_scaling=TargetScaling.from_dict(values.get("target_scaling"), source=source),
            encoding=None if values.get("encoding") is None else TableEncoding.from_dict(values["encoding"],
                                                                                         source=source),
            window=Windows.from_dict(values.get("window"), source=source),
        )


@dataclass(frozen=True)
class ImagePreprocessing(Preprocessing):
    """An image run's preprocessing: the image size, the pixel scaling and the classes.

    Attributes:
        origin: ``arrays`` (an ``.npz`` file or a Keras image set: new files are decoded with
            Pillow) or ``folder`` (image files: new files are streamed as training streamed them).
        image: The size every image is resized to, its channels and the pixel factor.
        class_names: Class labels in output order.
        target_encoding: ``integer`` or ``onehot``.
        target: The label column of a part's frame (``label``).
        task: ``classification``.
        scaling: The pixel scaling.
        extra: Keys of the saved dict this version does not know, written back after the others.

    Example:
        >>> images = ImagePreprocessing("folder", ImageInput(8, 8, 3, 1 / 255), ("cat", "dog"),
        ...                             scaling=ImageScaling("pixels", 1 / 255))
        >>> list(images.to_dict())
        ['kind', 'origin', 'image', 'class_names', 'target', 'task', 'target_encoding', 'scaling']
        >>> ImagePreprocessing.from_dict(images.to_dict()) == images
        True
    """

    kind: ClassVar[str] = IMAGES
    origin: str
    image: ImageInput
    class_names: tuple[str, ...]
    target_encoding: str = "integer"
    target: str = "label"
    task: str = "classification"
    scaling: ImageScaling = field(default_factory=ImageScaling)
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The preprocessing as JSON-compatible data, in the layout ``preprocessing.json`` has always had.

        Returns:
            ``{"kind": "images", "origin", "image", "class_names", "target", "task",
            "target_encoding", "scaling": {"method", "scale"}}`` then the ``extra`` keys.

        Example:
            >>> ImagePreprocessing("arrays", ImageInput(4, 4), ("a", "b")).to_dict()["image"]
            {'height': 4, 'width': 4, 'channels': 3, 'scale': 1.0}
        """
        return {
            "kind": IMAGES,
            "origin": self.origin,
            "image": self.image.to_dict(),
            "class_names": list(self.class_names),
            "target": self.target,
            "task": self.task,
            "target_encoding": self.target_encoding,
            "scaling": self.scaling.to_dict(),
            **{key: value for key, value in self.extra.items() if key not in IMAGE_KEYS},
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = SOURCE) -> ImagePreprocessing:
        """Read an image run's saved preprocessing.

        Args:
            data: The dict :meth:`to_dict` writes. ``image`` (its height and width) is
                required; ``origin`` defaults to ``arrays``, the scaling to the image's factor
                with method ``none``, the target encoding to ``integer``.
            source: The file it came from, for messages.

        Returns:
            The preprocessing.

        Raises:
            DataError: when ``image`` is missing, or a value has the wrong type (naming the key).

        Example:
            >>> saved = {"kind": "images", "origin": "folder", "image": {"height": 8, "width": 8},
            ...          "class_names": ["cat", "dog"], "scaling": {"method": "pixels", "scale": 0.5}}
            >>> ImagePreprocessing.from_dict(saved).scaling.method
            'pixels'
        """
        read = SavedValues(source)
        values = read.mapping(data, "")
        image = ImageInput.from_dict(values.get("image"), source=source)
        return cls(
            origin=read.choice(values.get("origin"), ORIGINS, "origin") or ORIGINS[0],
            image=image,
            class_names=read.texts(values.get("class_names"), "class_names") or (),
            target_encoding=read.choice(values.get("target_encoding"), TARGET_ENCODINGS, "target_encoding") or "integer",
            target=read.text(values.get("target", "label"), "target"),
            task=read.choice(values.get("task"), TASKS, "task") or "classification",
            scaling=ImageScaling.from_dict(values.get("scaling"), scale=image.scale, source=source),
            extra={key: value for key, value in values.items() if key not in IMAGE_KEYS},
        )


def as_preprocessing(value: Preprocessing | Mapping[str, Any], *, source: str = SOURCE) -> Preprocessing:
    """The typed preprocessing of a value that is one already or a saved dict.

    The functions that apply a saved preprocessing (``prepare_rows``, ``prepare_images``,
    ``model_card``, ...) take either, so a dict from ``preprocessing.json`` can be given as is.

    Args:
        value: A :class:`Preprocessing`, or a dict as :meth:`Preprocessing.from_dict` reads.
        source: Where a dict came from, for messages.

    Returns:
        The preprocessing.

    Raises:
        DataError: when a dict cannot be read (see :meth:`Preprocessing.from_dict`).

    Example:
        >>> as_preprocessing({"feature_names": ["a"]}).feature_names
        ('a',)
    """
    if isinstance(value, Preprocessing):
        return value
    return Preprocessing.from_dict(value, source=source)
