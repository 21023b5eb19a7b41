"""The parts of a saved preprocessing: a table's fitted scaler, the image size, the pixel scaling.

Small frozen types, each with ``to_dict`` / ``from_dict`` writing and reading its part of
``preprocessing.json`` exactly as it has always been written (see
:mod:`dlworkflow.data.preprocessing`, which puts them together), and :class:`SavedValues`,
which checks the values read from a saved file and names the file and the key of a wrong one.

Example:
    >>> TableScaling.from_dict({"method": "none"}, feature_names=("a", "b")).scale
    (1.0, 1.0)
    >>> ImageInput.from_dict({"height": 8, "width": 6}).to_dict()
    {'height': 8, 'width': 6, 'channels': 3, 'scale': 1.0}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import DataError

if TYPE_CHECKING:
    from dlworkflow.data.scaling import Scaler

SOURCE = "<preprocessing>"
"""How messages name a preprocessing given as a dict, when no file is named."""

HINT = "Use the preprocessing.json saved with the run, unedited, or export the run again."
"""The fix every error about a saved preprocessing suggests."""


@dataclass(frozen=True)
class SavedValues:
    """Reads the values of a saved preprocessing, each checked for its type.

    A wrong value is a :class:`~dlworkflow.errors.DataError` naming the file, the key
    (``preprocessing.scaling.offset.a``) and the value, with the fix.

    Args:
        source: The file the values came from (or ``<preprocessing>`` for a dict).

    Example:
        >>> values = SavedValues("run/preprocessing.json")
        >>> values.texts(["a", "b"], "feature_names")
        ('a', 'b')
        >>> values.integer("0", "shift")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        dlworkflow.errors.DataError: run/preprocessing.json: preprocessing.shift: must be an integer; got '0'. ...
    """

    source: str = SOURCE

    def error(self, path: str, what: str, **got: Any) -> DataError:
        """A DataError at ``preprocessing.<path>`` of the file (``got=`` the value, when given).

        Example:
            >>> print(SavedValues("p.json").error("kind", "unknown kind"))  # doctest: +ELLIPSIS
            p.json: preprocessing.kind: unknown kind. Use the preprocessing.json saved with the run, ...
        """
        where = f"preprocessing.{path}" if path else "preprocessing"
        return DataError.single(self.source, where, what, hint=HINT, **got)  # type: ignore[return-value]

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        """A JSON object.

        Example:
            >>> SavedValues().mapping({"a": 1}, "image")
            {'a': 1}
        """
        if not isinstance(value, Mapping):
            raise self.error(path, "must be a JSON object", got=value)
        return value

    def text(self, value: Any, path: str) -> str:
        """A string.

        Example:
            >>> SavedValues().text("y", "target")
            'y'
        """
        if not isinstance(value, str):
            raise self.error(path, "must be a string", got=value)
        return value

    def optional_text(self, value: Any, path: str) -> str | None:
        """A string or null.

        Example:
            >>> SavedValues().optional_text(None, "target") is None
            True
        """
        return None if value is None else self.text(value, path)

    def choice(self, value: Any, options: tuple[str, ...], path: str) -> str | None:
        """One of ``options``, or null.

        Example:
            >>> SavedValues().choice("folder", ("arrays", "folder"), "origin")
            'folder'
        """
        if value is not None and value not in options:
            raise self.error(path, "must be " + " or ".join(repr(option) for option in options) + " (or null)",
                             got=value)
        return value

    def texts(self, value: Any, path: str) -> tuple[str, ...] | None:
        """A list of strings, or null (None).

        Example:
            >>> SavedValues().texts(None, "class_names") is None
            True
        """
        if value is None:
            return None
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
            raise self.error(path, "must be a list of strings", got=value)
        return tuple(value)

    def integer(self, value: Any, path: str) -> int:
        """An integer (not a boolean).

        Example:
            >>> SavedValues().integer(-1, "shift")
            -1
        """
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, "must be an integer", got=value)
        return value

    def number(self, value: Any, path: str) -> float:
        """A number, as a float.

        Example:
            >>> SavedValues().number(2, "image.scale")
            2.0
        """
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(path, "must be a number", got=value)
        return float(value)

    def numbers(self, value: Any, path: str) -> dict[str, float]:
        """A JSON object of numbers by name (null: empty).

        Example:
            >>> SavedValues().numbers({"a": 1.5}, "scaling.offset")
            {'a': 1.5}
        """
        values = self.mapping({} if value is None else value, path)
        return {str(name): self.number(number, f"{path}.{name}") for name, number in values.items()}


@dataclass(frozen=True)
class TableScaling:
    """A table's fitted scaler: ``(x - offset) / scale`` per feature (``preprocessing.scaling``).

    The state of a fitted :class:`~dlworkflow.data.scaling.Scaler`, as data.

    Attributes:
        method: The ``data.scaling`` method: ``none``, ``standardize``, ``minmax`` or a
            registered one.
        feature_names: The scaled features, in network order.
        offset: The value subtracted from each feature (mean, minimum or 0), in that order.
        scale: The divisor of each feature (standard deviation, range or 1), in that order.

    Raises:
        ValueError: when ``offset`` or ``scale`` has not one value per feature.

    Example:
        >>> scaling = TableScaling("minmax", ("a", "b"), (0.0, 1.0), (2.0, 1.0))
        >>> scaling.to_dict()
        {'method': 'minmax', 'feature_names': ['a', 'b'], 'offset': {'a': 0.0, 'b': 1.0}, 'scale': {'a': 2.0, 'b': 1.0}}
    """

    method: str = "none"
    feature_names: tuple[str, ...] = ()
    offset: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        count = len(self.feature_names)
        if len(self.offset) != count or len(self.scale) != count:
            raise ValueError(
                f"TableScaling: offset and scale need one value per feature ({count}); "
                f"got {len(self.offset)} and {len(self.scale)}."
            )

    @classmethod
    def from_scaler(cls, scaler: Scaler) -> TableScaling:
        """The state of a fitted scaler.

        Args:
            scaler: A :class:`~dlworkflow.data.scaling.Scaler` after ``fit``.

        Returns:
            Its method and statistics.

        Example:
            >>> import pandas as pd
            >>> from dlworkflow.data.scaling import Scaler
            >>> TableScaling.from_scaler(Scaler("standardize").fit(pd.DataFrame({"t": [1.0, 3.0]})))
            TableScaling(method='standardize', feature_names=('t',), offset=(2.0,), scale=(1.0,))
        """
        return cls.from_dict(scaler.to_dict())

    def to_scaler(self) -> Scaler:
        """A fitted :class:`~dlworkflow.data.scaling.Scaler` that transforms as training did.

        Returns:
            The scaler (its method checked against the registered ones).

        Raises:
            SpecError: when the method is not registered, or is for images only.

        Example:
            >>> import numpy as np
            >>> TableScaling("minmax", ("a",), (1.0,), (2.0,)).to_scaler().transform(np.array([[2.0]])).tolist()
            [[0.5]]
        """
        from dlworkflow.data.scaling import Scaler

        return Scaler.from_dict(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The scaler as JSON-compatible data, as :meth:`Scaler.to_dict <dlworkflow.data.scaling.Scaler.to_dict>` writes it.

        Returns:
            ``{"method", "feature_names", "offset": {name: value}, "scale": {name: value}}``.

        Example:
            >>> TableScaling("none", ("a",), (0.0,), (1.0,)).to_dict()["offset"]
            {'a': 0.0}
        """
        names = list(self.feature_names)
        return {
            "method": self.method,
            "feature_names": names,
            "offset": dict(zip(names, self.offset, strict=True)),
            "scale": dict(zip(names, self.scale, strict=True)),
        }

    @classmethod
    def from_dict(
        cls, data: Any, *, feature_names: tuple[str, ...] = (), source: str = SOURCE, path: str = "scaling"
    ) -> TableScaling:
        """Read a saved scaler.

        Args:
            data: The ``scaling`` dict (or None: no scaling).
            feature_names: The features when ``data`` names none (the table's).
            source: The file, for messages.
            path: The key of ``data`` in the file, for messages.

        Returns:
            The scaler's state. With method ``none`` a missing offset is 0 and a missing scale 1.

        Raises:
            DataError: for a value of the wrong type, or a fitted method whose statistics
                lack features.

        Example:
            >>> TableScaling.from_dict({"method": "none"}, feature_names=("a",))
            TableScaling(method='none', feature_names=('a',), offset=(0.0,), scale=(1.0,))
        """
        read = SavedValues(source)
        values = read.mapping({} if data is None else data, path)
        method = read.text(values.get("method", "none"), f"{path}.method")
        names = read.texts(values.get("feature_names"), f"{path}.feature_names")
        names = feature_names if names is None else names
        offset = read.numbers(values.get("offset"), f"{path}.offset")
        scale = read.numbers(values.get("scale"), f"{path}.scale")
        absent = [name for name in names if name not in offset or name not in scale]
        if method != "none" and absent:
            raise read.error(path, f"saved {method!r} statistics lack features {absent!r}")
        return cls(
            method=method,
            feature_names=names,
            offset=tuple(offset.get(name, 0.0) for name in names),
            scale=tuple(scale.get(name, 1.0) for name in names),
        )


@dataclass(frozen=True)
class ImageInput:
    """The size every image has when it enters the network, and the factor its pixels get.

    The same facts as ``Dataset.image``; ``preprocessing.image`` in the JSON.

    Attributes:
        height: Image height after resizing, in pixels.
        width: Image width after resizing, in pixels.
        channels: Colour channels (3 for RGB).
        scale: The factor pixels are multiplied by (1/255 for ``scaling = "pixels"``, else 1).

    Example:
        >>> ImageInput(32, 32, 3, 1.0).to_dict()
        {'height': 32, 'width': 32, 'channels': 3, 'scale': 1.0}
    """

    height: int
    width: int
    channels: int = 3
    scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The image facts as JSON-compatible data (also the form ``Dataset.image`` and the training layer use).

        Returns:
            ``{"height", "width", "channels", "scale"}``.

        Example:
            >>> ImageInput(8, 6).to_dict()["channels"]
            3
        """
        return {"height": self.height, "width": self.width, "channels": self.channels, "scale": self.scale}

    @classmethod
    def from_dict(cls, data: Any, *, source: str = SOURCE, path: str = "image") -> ImageInput:
        """Read saved image facts (``Dataset.image`` or ``preprocessing.image``).

        Args:
            data: ``{"height", "width"[, "channels"][, "scale"]}``; channels default to 3, scale to 1.
            source: The file, for messages.
            path: The key of ``data`` in the file, for messages.

        Returns:
            The image facts.

        Raises:
            DataError: when the height or width is missing, or a value has the wrong type.

        Example:
            >>> ImageInput.from_dict({"height": 8, "width": 8, "channels": 1, "scale": 0.5})
            ImageInput(height=8, width=8, channels=1, scale=0.5)
        """
        read = SavedValues(source)
        values = read.mapping(data, path)
        return cls(
            height=read.integer(values.get("height"), f"{path}.height"),
            width=read.integer(values.get("width"), f"{path}.width"),
            channels=read.integer(values.get("channels", 3), f"{path}.channels"),
            scale=read.number(values.get("scale", 1.0), f"{path}.scale"),
        )


@dataclass(frozen=True)
class ImageScaling:
    """How image pixels are scaled (``preprocessing.scaling`` of images): ``(pixels - offset) * scale``.

    Attributes:
        method: The ``data.scaling`` method: ``none``, ``pixels``, ``minmax`` or a registered one.
        scale: The factor pixels are multiplied by.
        offset: The value subtracted first: the training minimum for ``minmax``, else 0
            (written to the JSON only when it is not 0).

    Example:
        >>> ImageScaling("pixels", 1 / 255).to_dict()
        {'method': 'pixels', 'scale': 0.00392156862745098}
    """

    method: str = "none"
    scale: float = 1.0
    offset: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The scaling as JSON-compatible data.

        Returns:
            ``{"method", "scale"}``.

        Example:
            >>> ImageScaling().to_dict()
            {'method': 'none', 'scale': 1.0}
        """
        return {"method": self.method, "scale": self.scale, **({"offset": self.offset} if self.offset else {})}

    @classmethod
    def from_dict(cls, data: Any, *, scale: float = 1.0, source: str = SOURCE, path: str = "scaling") -> ImageScaling:
        """Read a saved image scaling.

        Args:
            data: ``{"method"[, "scale"][, "offset"]}``, or None (no scaling).
            scale: The factor when ``data`` gives none (the image's).
            source: The file, for messages.
            path: The key of ``data`` in the file, for messages.

        Returns:
            The scaling.

        Raises:
            DataError: when a value has the wrong type.

        Example:
            >>> ImageScaling.from_dict({"method": "pixels"}, scale=0.5)
            ImageScaling(method='pixels', scale=0.5, offset=0.0)
        """
        read = SavedValues(source)
        values = read.mapping({} if data is None else data, path)
        return cls(
            method=read.text(values.get("method", "none"), f"{path}.method"),
            scale=read.number(values.get("scale", scale), f"{path}.scale"),
            offset=read.number(values.get("offset", 0.0), f"{path}.offset"),
        )
