"""Regression target scaling (``data.target_scaling``), fitted on the training rows and saved as plain JSON.

A network's last Dense unit starts near 0 with a spread near 1; a target such as scikit-learn's
diabetes progression (25–346, mean 152, standard deviation 77) takes many epochs to reach,
and the mean squared error's gradients are thousands of times larger than for a unit-scale
target. ``target_scaling = "standardize"`` trains on ``(y - mean) / std`` of the training rows
instead; :meth:`TargetScaling.inverse` maps the network's outputs back, so predictions,
metrics, plots and ``dlw predict`` stay in the target's own units. The baselines never see
the scaled target: they are fitted on the labels.

:class:`TargetScaling` is the fitted state (``method``, ``offset``, ``scale``), written into
``preprocessing.json`` as ``"target_scaling": {"method", "offset", "scale"}`` when it is not
``none`` (so a run without it writes the same file as before). :func:`target_spread_notes`
says when the training target's spread is far from 1 and ``target_scaling`` would help.

Example:
    >>> scaling = TargetScaling.fit("standardize", [100.0, 200.0, 300.0])
    >>> scaling.transform([100.0, 300.0]).tolist()
    [-1.2247449159622192, 1.2247449159622192]
    >>> scaling.inverse(scaling.transform([100.0, 300.0])).round(3).tolist()
    [100.0, 300.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.errors import DataError, Problem, SpecError

TARGET_SCALING_METHODS: tuple[str, ...] = ("none", "standardize")
"""The values of ``data.target_scaling``."""

FAR_FROM_UNIT = 10.0
"""A training target whose standard deviation is above this, or below its inverse, is far from unit scale:
:func:`target_spread_notes` suggests ``target_scaling = "standardize"`` and the diagnosis names it as a cause.
The lesson's sunshine hours (standard deviation about 4.5) stay below it, so its numbers stay as they are."""

SQUARED_ERRORS = frozenset({"mse", "mean_squared_error", "MeanSquaredError"})
"""Keras metric and loss names in the target's squared units (multiplied by ``scale ** 2`` to go back)."""

LINEAR_ERRORS = frozenset({
    "mae", "mean_absolute_error", "MeanAbsoluteError", "rmse", "root_mean_squared_error", "RootMeanSquaredError",
})
"""Keras metric and loss names in the target's units (multiplied by ``scale`` to go back)."""

SCALE_FREE = frozenset({"r2", "r2_score", "R2Score"})
"""Keras metric names that do not depend on the target's units."""

STANDARDIZED_SUFFIX = "_standardized"
"""Added to a Keras value that cannot be put back into the target's units (e.g. a Huber loss)."""


@dataclass(frozen=True)
class TargetScaling:
    """A regression target's fitted scaling: the network learns ``(y - offset) / scale``.

    Attributes:
        method: ``none`` (the target as it is) or ``standardize``.
        offset: The training target's mean (0 for ``none``).
        scale: The training target's standard deviation (1 for ``none`` or a constant target).

    Example:
        >>> TargetScaling("standardize", 150.0, 75.0).inverse(np.array([[0.0], [1.0]])).tolist()
        [[150.0], [225.0]]
        >>> TargetScaling().is_identity
        True
    """

    method: str = "none"
    offset: float = 0.0
    scale: float = 1.0

    @property
    def is_identity(self) -> bool:
        """Whether the network learns the target as it is (``method = "none"``)."""
        return self.method == "none"

    @classmethod
    def fit(cls, method: str, values: Sequence[float] | np.ndarray) -> TargetScaling:
        """The scaling of ``method`` with statistics from the training target.

        The statistics are scikit-learn ``StandardScaler``'s (population standard deviation;
        1 for a constant target), as the features' ``standardize`` has them.

        Args:
            method: A value of :data:`TARGET_SCALING_METHODS`.
            values: The training rows' target values, in the target's own units.

        Returns:
            The fitted scaling.

        Raises:
            ValueError: for an unknown method (the spec layer refuses it first).

        Example:
            >>> TargetScaling.fit("standardize", [1.0, 3.0])
            TargetScaling(method='standardize', offset=2.0, scale=1.0)
            >>> TargetScaling.fit("none", [1.0, 3.0])
            TargetScaling(method='none', offset=0.0, scale=1.0)
        """
        if method not in TARGET_SCALING_METHODS:
            raise ValueError(f"TargetScaling.fit: unknown method {method!r}; known: {TARGET_SCALING_METHODS}.")
        if method == "none":
            return cls()
        from sklearn.preprocessing import StandardScaler

        fitted = StandardScaler().fit(np.asarray(values, dtype=np.float64).reshape(-1, 1))
        return cls(method, float(fitted.mean_[0]), float(fitted.scale_[0]))

    def transform(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        """The network's target: ``(values - offset) / scale`` as float32 (the shape kept).

        Example:
            >>> TargetScaling("standardize", 10.0, 2.0).transform([12.0]).tolist()
            [1.0]
        """
        return np.ascontiguousarray((np.asarray(values, dtype=np.float64) - self.offset) / self.scale, dtype=np.float32)

    def inverse(self, predictions: Sequence[float] | np.ndarray) -> np.ndarray:
        """The network's outputs in the target's own units (float64, the shape kept; as given for ``none``).

        Example:
            >>> TargetScaling("standardize", 10.0, 2.0).inverse(np.array([1.0, -1.0])).tolist()
            [12.0, 8.0]
        """
        if self.is_identity:
            return np.asarray(predictions)
        return np.asarray(predictions, dtype=np.float64) * self.scale + self.offset

    def keras_values(self, values: Mapping[str, float], loss: str) -> dict[str, float]:
        """Keras' loss and metrics of a standardized target, put back into the target's units.

        Keras computed them on the standardized target. A squared error is multiplied by
        ``scale ** 2``, an absolute or root mean squared error by ``scale``, R² stays; any other
        value keeps its number under ``<name>_standardized``, so it is not read as one in the
        target's units.

        Args:
            values: ``{name: value}`` from ``model.evaluate(..., return_dict=True)``.
            loss: The Keras loss name ``loss`` stands for (e.g. ``mse``).

        Returns:
            The values; unchanged when the target is not scaled.

        Example:
            >>> TargetScaling("standardize", 0.0, 10.0).keras_values({"loss": 0.5, "mae": 0.2}, "mse")
            {'loss': 50.0, 'mae': 2.0}
            >>> TargetScaling("standardize", 0.0, 10.0).keras_values({"loss": 0.5}, "huber")
            {'loss_standardized': 0.5}
        """
        if self.is_identity:
            return dict(values)
        converted: dict[str, float] = {}
        for name, value in values.items():
            new_name, factor = self._in_units(name, loss)
            converted[new_name] = float(value) * factor
        return converted

    def history_in_units(self, history: pd.DataFrame, loss: str) -> pd.DataFrame:
        """A Keras history (one row per epoch) put back into the target's units, column by column.

        Each column, with or without its ``val_`` prefix, is converted as :meth:`keras_values`
        converts a value; ``epoch`` and ``learning_rate`` stay. So the loss curves, the history
        plot and ``history.csv`` speak the target's units, as the run's scores do.

        Args:
            history: The history, e.g. columns ``epoch, loss, mae, val_loss, val_mae``.
            loss: The Keras loss name ``loss`` stands for (e.g. ``mse``).

        Returns:
            A new frame; the same frame when the target is not scaled.

        Example:
            >>> frame = pd.DataFrame({"epoch": [1], "loss": [0.5], "val_mae": [0.1]})
            >>> TargetScaling("standardize", 0.0, 10.0).history_in_units(frame, "mse").to_dict("records")
            [{'epoch': 1, 'loss': 50.0, 'val_mae': 1.0}]
        """
        if self.is_identity:
            return history
        columns: dict[str, Any] = {}
        for name in history.columns:
            if name in ("epoch", "learning_rate"):
                columns[name] = history[name]
                continue
            prefix = "val_" if name.startswith("val_") else ""
            new_name, factor = self._in_units(name.removeprefix(prefix), loss)
            columns[prefix + new_name] = history[name] * factor
        return pd.DataFrame(columns, index=history.index)

    def _in_units(self, name: str, loss: str) -> tuple[str, float]:
        """A Keras value's name in the target's units and the factor that puts it there."""
        kind = loss if name == "loss" else name
        if kind in SQUARED_ERRORS:
            return name, self.scale**2
        if kind in LINEAR_ERRORS:
            return name, self.scale
        if kind in SCALE_FREE:
            return name, 1.0
        return f"{name}{STANDARDIZED_SUFFIX}", 1.0

    def to_dict(self) -> dict[str, Any]:
        """The scaling as JSON-compatible data: ``{"method", "offset", "scale"}``.

        Example:
            >>> TargetScaling("standardize", 152.1, 77.0).to_dict()
            {'method': 'standardize', 'offset': 152.1, 'scale': 77.0}
        """
        return {"method": self.method, "offset": self.offset, "scale": self.scale}

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<preprocessing>", path: str = "target_scaling") -> TargetScaling:
        """Read a saved target scaling (None: the target as it is).

        Args:
            data: ``{"method", "offset", "scale"}`` as :meth:`to_dict` writes it, or None.
            source: The file it came from, for messages.
            path: Its key in the file, for messages.

        Returns:
            The scaling.

        Raises:
            DataError: for an unknown method, a value that is not a number, or a scale that is
                not a positive finite number, naming the file and the key.

        Example:
            >>> TargetScaling.from_dict({"method": "standardize", "offset": 2, "scale": 0.5})
            TargetScaling(method='standardize', offset=2.0, scale=0.5)
            >>> TargetScaling.from_dict(None).is_identity
            True
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise _saved_error(source, path, "must be a JSON object", data)
        method = data.get("method", "none")
        if method not in TARGET_SCALING_METHODS:
            raise _saved_error(source, f"{path}.method", f"must be one of {', '.join(map(repr, TARGET_SCALING_METHODS))}",
                               method)
        numbers = {}
        for key, default in (("offset", 0.0), ("scale", 1.0)):
            value = data.get(key, default)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise _saved_error(source, f"{path}.{key}", "must be a finite number", value)
            numbers[key] = float(value)
        if numbers["scale"] <= 0:
            raise _saved_error(source, f"{path}.scale", "must be above 0", numbers["scale"])
        return cls(method, numbers["offset"], numbers["scale"])


def _saved_error(source: str, path: str, what: str, got: Any) -> DataError:
    return DataError.single(  # type: ignore[return-value]
        source, f"preprocessing.{path}", what, got=got,
        hint="Use the preprocessing.json saved with the run, unedited, or export the run again.",
    )


def check_target_scaling(method: str, task: str, *, source: str = "<spec>") -> None:
    """Refuse a target scaling for a classification (classes are not numbers to scale).

    Args:
        method: ``data.target_scaling``.
        task: The task of the data (``classification`` when detected from a text target, or for images).
        source: The spec file, for the message.

    Raises:
        SpecError: at ``data.target_scaling`` when ``method`` is not ``none`` for a classification.

    Example:
        >>> check_target_scaling("standardize", "classification")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        dlworkflow.errors.SpecError: <spec>: data.target_scaling: applies to a regression target only, ...
    """
    if method != "none" and task == "classification":
        raise SpecError.single(
            source, "data.target_scaling", "applies to a regression target only, and this data is a classification",
            got=method, hint="Remove target_scaling from [data] (class targets are one-hot or integer codes).",
        )


def target_spread_notes(
    task: str, values: Sequence[float] | np.ndarray, method: str, *, source: str = "<spec>"
) -> tuple[str, ...]:
    """A suggestion when a regression target's training spread is far from 1 and it is not scaled.

    Args:
        task: The data's task (a classification gets none).
        values: The training rows' target values.
        method: ``data.target_scaling``.
        source: The spec file, named in the suggestion.

    Returns:
        One sentence naming the spread and the setting to try, or nothing (a classification, a
        target scaled already or near unit scale: see :data:`FAR_FROM_UNIT`).

    Example:
        >>> target_spread_notes("regression", [25.0, 150.0, 346.0], "none")  # doctest: +ELLIPSIS
        ("<spec>: data.target_scaling: the training target's standard deviation is 132 (mean 174), far from 1, ...",)
        >>> target_spread_notes("regression", [1.0, 4.0, 9.0], "none")
        ()
    """
    array = np.asarray(values, dtype=np.float64)
    if task != "regression" or method != "none" or array.size < 2:
        return ()
    spread, mean = float(np.std(array)), float(np.mean(array))
    if not far_from_unit(spread):
        return ()
    return (str(Problem(
        source, "data.target_scaling", f"the training target's standard deviation is {spread:.3g} (mean {mean:.3g}), "
        "far from 1, so the network's output has a long way to go",
        hint="Try target_scaling = 'standardize' in [data]: the network learns (target - mean) / std, and "
        "predictions and metrics stay in the target's own units.",
    )),)


def far_from_unit(spread: float) -> bool:
    """Whether a standard deviation is far from 1 (:data:`FAR_FROM_UNIT`); 0 (a constant) is not.

    Example:
        >>> far_from_unit(77.0), far_from_unit(4.5), far_from_unit(0.01), far_from_unit(0.0)
        (True, False, True, False)
    """
    return bool(spread) and not 1 / FAR_FROM_UNIT <= spread <= FAR_FROM_UNIT
