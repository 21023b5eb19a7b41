"""Feature scaling, fitted on the training split only and saved as plain JSON.

A :class:`Scaler` holds one ``offset`` and one ``scale`` per feature and computes
``(x - offset) / scale``. The statistics are those of scikit-learn's ``StandardScaler``
(mean and standard deviation) or ``MinMaxScaler`` (minimum and range), computed the same way
with numpy alone (to the bit: a test compares them), so that preparing a table does not import
scikit-learn; a constant column gets scale 1, so nothing is divided by zero. ``to_dict`` / ``from_dict`` round-trip through
JSON, so a run saves its scaler without pickle.

Example:
    >>> import pandas as pd
    >>> train = pd.DataFrame({"a": [0.0, 2.0, 4.0], "b": [1.0, 1.0, 1.0]})
    >>> scaler = Scaler("minmax").fit(train)
    >>> scaler.transform(train).tolist()
    [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.errors import DataError, SpecError, suggestion
from dlworkflow.spec import registries
from dlworkflow.spec.registries import Registry

Statistics = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""Training features (float64, rows x features) → (offset, scale) per feature."""

ImageStatistics = Callable[[np.ndarray], tuple[float, float]]
"""Training images (any shape and numeric type) → one (offset, divisor) for every pixel."""


def _no_scaling(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(x.shape[1]), np.ones(x.shape[1])


def _standardize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation per column, as scikit-learn's ``StandardScaler`` computes them, to the bit.

    The corrected two-pass algorithm (Chan, Golub and LeVeque) of ``StandardScaler.fit``: the mean
    from the column sums, the variance from the squared deviations less the square of their sum
    over the count. A column whose variance is within rounding of a constant's gets scale 1.
    Missing values (NaN) are left out of their column's statistics.
    """
    missing = np.isnan(x)
    add = np.nansum if missing.any() else np.sum
    count = x.shape[0] - add(missing.astype(x.dtype), axis=0)
    mean = add(x, axis=0) / count
    deviations = x - mean
    correction = add(deviations, axis=0)
    deviations **= 2
    variance = (add(deviations, axis=0) - correction**2 / count) / count
    count = count[0] if count.size and count.max() == count.min() else count
    eps = np.finfo(np.float64).eps
    constant = variance <= count * eps * variance + (count * mean * eps) ** 2
    return mean, np.where(constant, 1.0, np.sqrt(variance))


def _minmax(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and range per column (missing values left out), as scikit-learn's ``MinMaxScaler``; range 0 → 1."""
    data_min, data_max = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    data_range = data_max - data_min
    return data_min, np.where(data_range == 0.0, 1.0, data_range)


def _image_minmax(images: np.ndarray) -> tuple[float, float]:
    low, high = float(np.min(images)), float(np.max(images))
    return low, (high - low) or 1.0


@dataclass(frozen=True)
class ScalingMethod:
    """One ``data.scaling`` value: what it does to a table's features and to images.

    Args:
        description: A few words for messages, e.g. ``"divide by 255"``.
        statistics: Tables: training features → per-feature ``(offset, scale)``; None when the
            method does not apply to tables.
        image_divisor: Images: pixels are divided by this (in float32; nothing is fitted); None
            when the method does not apply to images or is fitted (``image_statistics``).
        image_statistics: Images: training images → one ``(offset, divisor)`` for every pixel,
            fitted on the training images only; None when nothing is fitted.

    Example:
        >>> SCALING_METHODS["pixels"].image_factor, SCALING_METHODS["pixels"].for_tables
        (0.00392156862745098, False)
    """

    description: str
    statistics: Statistics | None = None
    image_divisor: float | None = None
    image_statistics: ImageStatistics | None = None

    @property
    def for_tables(self) -> bool:
        """Whether a table's features can be scaled this way."""
        return self.statistics is not None

    @property
    def for_images(self) -> bool:
        """Whether images can be scaled this way (by a fixed divisor or fitted statistics)."""
        return self.image_divisor is not None or self.image_statistics is not None

    @property
    def image_factor(self) -> float | None:
        """The factor pixels are multiplied by (``1 / image_divisor``), as streamed images are scaled; None when fitted."""
        return None if self.image_divisor is None else 1.0 / self.image_divisor


NO_SCALING = ScalingMethod("keep the values", statistics=_no_scaling, image_divisor=1.0)
"""``data.scaling = "none"``: tables and images as they are."""

STANDARDIZE = ScalingMethod("subtract the training mean, divide by the standard deviation", statistics=_standardize)
"""``data.scaling = "standardize"``: scikit-learn's ``StandardScaler`` statistics, tables only."""

MINMAX = ScalingMethod("map the training range to [0, 1]", statistics=_minmax, image_statistics=_image_minmax)
"""``data.scaling = "minmax"``: scikit-learn's ``MinMaxScaler`` statistics per column of a table; for images
one minimum and maximum over every training pixel (images scaled 0–16 become 0–1)."""

PIXELS = ScalingMethod("divide by 255", image_divisor=255.0)
"""``data.scaling = "pixels"``: the lesson's ``train_images / 255.0``, images only."""

SCALING_METHODS: Registry[ScalingMethod] = registries.SCALING_METHODS
"""``data.scaling`` → :class:`ScalingMethod`: the spec layer's open registry
(:data:`dlworkflow.spec.registries.SCALING_METHODS`), whose names the spec is validated against.

Register another method with one entry — a :class:`ScalingMethod` in a module of its own::

    SCALING_METHODS.register("robust", "mypackage.robust_scaling:ROBUST")
"""


def table_methods() -> list[str]:
    """The registered ``data.scaling`` names that apply to tables.

    Example:
        >>> table_methods()
        ['none', 'standardize', 'minmax']
    """
    return [name for name in SCALING_METHODS if SCALING_METHODS[name].for_tables]


class Scaler:
    """Scales features as ``(x - offset) / scale``, with statistics from the training split.

    Args:
        method: A key of :data:`SCALING_METHODS` that applies to tables: ``none``,
            ``standardize``, ``minmax`` or a registered one.

    Attributes:
        method: The scaling method.
        feature_names: The features, in column order (set by :meth:`fit`).
        offset: Per-feature value subtracted (mean or minimum; 0 for ``none``).
        scale: Per-feature divisor (standard deviation or range; 1 for ``none`` or a
            constant column).

    Raises:
        SpecError: at ``data.scaling`` when the method is unknown or is for images only.

    Example:
        >>> import pandas as pd
        >>> scaler = Scaler("standardize").fit(pd.DataFrame({"t": [1.0, 3.0]}))
        >>> scaler.to_dict()
        {'method': 'standardize', 'feature_names': ['t'], 'offset': {'t': 2.0}, 'scale': {'t': 1.0}}
    """

    def __init__(self, method: str = "none"):
        if method not in SCALING_METHODS:
            raise SpecError.single(
                "<scaler>", "data.scaling", "unknown scaling method", got=method, hint=SCALING_METHODS.hint(method),
            )
        if not SCALING_METHODS[method].for_tables:
            raise SpecError.single(
                "<scaler>", "data.scaling", f"{method!r} ({SCALING_METHODS[method].description}) applies to images only",
                got=method, hint=suggestion(method, table_methods()),
            )
        self.method = method
        self.feature_names: tuple[str, ...] | None = None
        self.offset: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, features: pd.DataFrame, *, keep: Sequence[str] = ()) -> Scaler:
        """Compute the statistics from the training rows.

        Args:
            features: The training split's raw (encoded) feature columns.
            keep: Columns left as they are (offset 0, scale 1): one-hot, 0/1 and index columns.

        Returns:
            This scaler, fitted.

        Example:
            >>> import pandas as pd
            >>> Scaler("minmax").fit(pd.DataFrame({"a": [2.0, 6.0]})).scale.tolist()
            [4.0]
        """
        x = features.to_numpy(dtype=np.float64)
        offset, scale = SCALING_METHODS[self.method].statistics(x)  # type: ignore[misc]
        self.feature_names = tuple(str(name) for name in features.columns)
        self.offset = np.asarray(offset, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        kept = np.isin(np.array(self.feature_names, dtype=object), list(keep))
        self.offset[kept], self.scale[kept] = 0.0, 1.0
        return self

    def transform(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Scale features with the fitted statistics.

        Args:
            features: A DataFrame holding the fitted feature columns (selected by name, extra
                columns ignored) or an array with one column per feature, in order.

        Returns:
            A float32, C-contiguous array of shape ``(rows, features)``.

        Raises:
            DataError: when a fitted feature is missing or the width differs.

        Example:
            >>> import pandas as pd
            >>> scaler = Scaler("standardize").fit(pd.DataFrame({"a": [0.0, 2.0]}))
            >>> scaler.transform(np.array([[4.0]])).tolist()
            [[3.0]]
        """
        if self.feature_names is None or self.offset is None or self.scale is None:
            raise RuntimeError("Scaler.transform called before fit (or from_dict)")
        if isinstance(features, pd.DataFrame):
            missing = [name for name in self.feature_names if name not in features.columns]
            if missing:
                raise DataError.single(
                    "<scaler>", "data", f"the table lacks fitted feature columns {missing!r}",
                    hint="Give a table with the same feature columns as the training data.",
                )
            x = features[list(self.feature_names)].to_numpy(dtype=np.float64)
        else:
            x = np.asarray(features, dtype=np.float64)
            if x.ndim != 2 or x.shape[1] != len(self.feature_names):
                raise DataError.single(
                    "<scaler>", "data", f"expected an array of shape (rows, {len(self.feature_names)})",
                    got=x.shape, hint="Pass the feature columns in training order.",
                )
        return np.ascontiguousarray((x - self.offset) / self.scale, dtype=np.float32)

    def fit_transform(self, features: pd.DataFrame) -> np.ndarray:
        """Fit on ``features`` and return them scaled (see :meth:`fit`, :meth:`transform`).

        Example:
            >>> import pandas as pd
            >>> Scaler().fit_transform(pd.DataFrame({"a": [1, 2]})).dtype
            dtype('float32')
        """
        return self.fit(features).transform(features)

    def to_dict(self) -> dict[str, Any]:
        """The fitted scaler as JSON-compatible data.

        Returns:
            ``{"method", "feature_names", "offset": {name: value}, "scale": {name: value}}``.

        Example:
            >>> Scaler.from_dict({"method": "none", "feature_names": ["a"]}).to_dict()["scale"]
            {'a': 1.0}
        """
        names = list(self.feature_names or ())
        offset = [] if self.offset is None else self.offset.tolist()
        scale = [] if self.scale is None else self.scale.tolist()
        return {
            "method": self.method,
            "feature_names": names,
            "offset": {name: float(value) for name, value in zip(names, offset, strict=True)},
            "scale": {name: float(value) for name, value in zip(names, scale, strict=True)},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scaler:
        """Rebuild a fitted scaler from :meth:`to_dict` output.

        Args:
            data: The saved dict. For ``none`` the offsets and scales may be left out.

        Returns:
            A fitted scaler.

        Example:
            >>> saved = {"method": "minmax", "feature_names": ["a"], "offset": {"a": 1.0}, "scale": {"a": 2.0}}
            >>> Scaler.from_dict(saved).transform(np.array([[2.0]])).tolist()
            [[0.5]]
        """
        scaler = cls(str(data.get("method", "none")))
        names: Sequence[str] = tuple(data.get("feature_names", ()))
        offset = data.get("offset") or {}
        scale = data.get("scale") or {}
        absent = [name for name in names if name not in offset or name not in scale]
        if scaler.method != "none" and absent:
            raise DataError.single(
                "<scaler>", "preprocessing.scaling", f"saved {scaler.method!r} statistics lack features {absent!r}",
                hint="Use the preprocessing saved with the same run, unedited.",
            )
        scaler.feature_names = tuple(names)
        scaler.offset = np.array([float(offset.get(name, 0.0)) for name in names], dtype=np.float64)
        scaler.scale = np.array([float(scale.get(name, 1.0)) for name in names], dtype=np.float64)
        return scaler

    def __repr__(self) -> str:
        fitted = "unfitted" if self.feature_names is None else f"{len(self.feature_names)} features"
        return f"Scaler({self.method!r}, {fitted})"
