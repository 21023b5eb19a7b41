"""One column of a training history as a curve the diagnosis reads (:class:`HistoryCurve`).

A history is what ``fit_model`` returns: one row per epoch, an ``epoch`` column (1-based)
and Keras' keys (``loss``, ``val_loss``, metrics). A curve keeps a column's finite values
with their epochs; :func:`smoothed` and :func:`tail` are the two ways
:func:`~dlworkflow.evaluation.diagnosis.diagnose` looks past the noise of single epochs.

Pure: numpy only (pandas is only passed in).

Example:
    >>> import pandas as pd
    >>> curve = history_curve(pd.DataFrame({"loss": [3.0, 2.0, float("nan"), 1.0]}), "loss")
    >>> curve.epochs.tolist(), curve.at(3)
    ([1, 2, 4], 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

TAIL_EPOCHS = 5
"""Epochs at the end of a run whose median stands for "the end", so that one noisy epoch does not decide."""


@dataclass(frozen=True)
class HistoryCurve:
    """The finite values of one history column, with their epochs.

    Attributes:
        name: The history column, e.g. ``val_loss``.
        epochs: The 1-based epochs of the finite values, ascending.
        values: The finite values.

    Example:
        >>> curve = HistoryCurve("loss", np.array([1, 2, 4]), np.array([3.0, 2.0, 1.0]))
        >>> len(curve), curve.at(3)
        (3, 2.0)
    """

    name: str
    epochs: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def at(self, epoch: int) -> float:
        """The value at an epoch (the nearest earlier finite one; the first one before the curve starts).

        Args:
            epoch: A 1-based epoch.

        Returns:
            The value.

        Example:
            >>> HistoryCurve("loss", np.array([2, 3]), np.array([5.0, 4.0])).at(1)
            5.0
        """
        index = max(int(np.searchsorted(self.epochs, epoch, side="right")) - 1, 0)
        return float(self.values[index])


def history_epochs(history: pd.DataFrame) -> np.ndarray:
    """The 1-based epoch of each row of a history: its ``epoch`` column, else the row number.

    Args:
        history: One row per epoch.

    Returns:
        The epochs, as int64.

    Example:
        >>> import pandas as pd
        >>> history_epochs(pd.DataFrame({"loss": [3.0, 2.0]})).tolist()
        [1, 2]
    """
    if "epoch" in history.columns:
        return history["epoch"].to_numpy(dtype=np.int64)
    return np.arange(1, len(history) + 1, dtype=np.int64)


def history_curve(history: pd.DataFrame, column: str, epochs: np.ndarray | None = None) -> HistoryCurve | None:
    """The finite values of a history column as a curve, or None when it is absent or has none.

    Args:
        history: One row per epoch.
        column: The column, e.g. ``val_loss``.
        epochs: The rows' epochs (:func:`history_epochs` when None).

    Returns:
        The curve, or None.

    Example:
        >>> import pandas as pd
        >>> history_curve(pd.DataFrame({"loss": [3.0, 2.0]}), "val_loss") is None
        True
    """
    if column not in history.columns:
        return None
    if epochs is None:
        epochs = history_epochs(history)
    values = history[column].to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return None
    return HistoryCurve(column, epochs[finite], values[finite])


def diverged(history: pd.DataFrame) -> bool:
    """Whether ``loss`` or ``val_loss`` holds a NaN or infinite value.

    Args:
        history: One row per epoch.

    Returns:
        True once either loss became NaN or infinite.

    Example:
        >>> import pandas as pd
        >>> diverged(pd.DataFrame({"loss": [3.0, float("nan")]}))
        True
    """
    columns = [column for column in ("loss", "val_loss") if column in history.columns]
    return bool(columns) and not np.isfinite(history[columns].to_numpy(dtype=np.float64)).all()


def smoothed(values: np.ndarray) -> np.ndarray:
    """A running median over :data:`TAIL_EPOCHS` epochs (centred, shorter at the ends): the curve without its noise.

    Args:
        values: A curve's values, in epoch order.

    Returns:
        As many values; the values themselves when there are fewer than :data:`TAIL_EPOCHS`.

    Example:
        >>> smoothed(np.array([5.0, 4.0, 9.0, 3.0, 2.0, 1.0])).tolist()
        [5.0, 4.5, 4.0, 3.0, 2.5, 2.0]
    """
    half = TAIL_EPOCHS // 2
    if len(values) < TAIL_EPOCHS:
        return values
    padded = np.pad(values, half, constant_values=np.nan)
    return np.nanmedian(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)


def tail(curve: HistoryCurve) -> tuple[float, int]:
    """Median of the last :data:`TAIL_EPOCHS` values, and the first epoch of that tail.

    Args:
        curve: A curve.

    Returns:
        ``(median, first epoch)``.

    Example:
        >>> tail(HistoryCurve("loss", np.arange(1, 8), np.array([9.0, 8.0, 5.0, 4.0, 3.0, 2.0, 1.0])))
        (3.0, 3)
    """
    count = min(TAIL_EPOCHS, len(curve))
    return float(np.median(curve.values[-count:])), int(curve.epochs[-count])
