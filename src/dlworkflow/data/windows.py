"""Time windows: each sample is the rows up to and including the row whose (shifted) target is predicted.

``[data.window] size = 7`` turns a table of days into samples of shape ``(7, features)``: the
sample of row *i* is rows *i - 6 … i* (with ``stride = s``: rows *i - 6s, …, i - s, i*), and
its target is row *i*'s (shifted) target, as without a window. The pipeline applies
:class:`Windows` after the split and the scaler, so:

* the scaler is fitted on the training rows only, on the 2-D table, as without a window;
* a window reaches back into rows of an earlier part (the past is known when the day comes)
  and never forward: every row of a window is at or before its target row;
* a row whose window would start before the table's first row has no complete window and is
  left out (the first ``span - 1`` rows, all training rows with an ordered split).

:func:`make_windows` builds the windows from one ``sliding_window_view`` of the scaled table
(numpy's stride tricks: a view, no copy) and copies only the windows asked for.

Example:
    >>> values = np.arange(10, dtype=np.float32).reshape(5, 2)
    >>> windows = Windows(size=3)
    >>> ends = windows.complete(np.arange(5))
    >>> ends.tolist()
    [2, 3, 4]
    >>> make_windows(values, ends, 3)[0].tolist()
    [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.errors import DataError


@dataclass(frozen=True)
class Windows:
    """The window of past rows each sample is: its ``size`` and the ``stride`` between its rows.

    Attributes:
        size: Rows in a window (the target row and ``size - 1`` rows before it).
        stride: Rows between two rows of a window (1: consecutive rows).

    Example:
        >>> Windows(size=7, stride=2).span
        13
        >>> Windows.from_dict(Windows(size=7).to_dict())
        Windows(size=7, stride=1)
    """

    size: int
    stride: int = 1

    @classmethod
    def from_spec(cls, window: Any) -> Windows | None:
        """The windows a ``[data.window]`` section asks for, or None without one.

        Example:
            >>> from dlworkflow.spec.data_sections import WindowSpec
            >>> Windows.from_spec(WindowSpec(size=7)), Windows.from_spec(None)
            (Windows(size=7, stride=1), None)
        """
        return None if window is None else cls(size=int(window.size), stride=int(window.stride))

    @property
    def span(self) -> int:
        """Rows from a window's first row to its last, both counted: ``(size - 1) * stride + 1``."""
        return (self.size - 1) * self.stride + 1

    def complete(self, positions: np.ndarray) -> np.ndarray:
        """The positions (of the whole table) whose window starts at or after the table's first row.

        Args:
            positions: Row positions of one part.

        Returns:
            Those with a complete window, in the given order.
        """
        positions = np.asarray(positions, dtype=np.int64)
        return positions[positions >= self.span - 1]

    def split(self, positions: Mapping[str, np.ndarray], *, source: str = "<spec>") -> WindowedSplit:
        """Keep the target rows of each part that have a complete window, after checking the parts' time order.

        Args:
            positions: Part name → row positions of the prepared table (from the split).
            source: The spec file, for messages.

        Returns:
            The kept positions per part and what was checked and left out.

        Raises:
            DataError: at ``split.type`` when a part's target rows do not all follow the previous
                part's (a splitter that shuffles), or at ``data.window.size`` when a part keeps no row.

        Example:
            >>> windowed = Windows(size=3).split({"train": np.arange(6), "test": np.arange(6, 8)})
            >>> windowed.positions["train"].tolist(), windowed.left_out, windowed.time_ordered
            ([2, 3, 4, 5], 2, True)
        """
        if not time_ordered(positions):
            raise DataError.single(
                source, "split.type", "data.window needs every training target row before every validation one and "
                "those before every test one, but this split mixes them", hint="Use type = 'ordered' in [split].",
            )
        kept = {name: self.complete(rows) for name, rows in positions.items()}
        for name, rows in kept.items():
            if len(positions[name]) and not len(rows):
                raise DataError.single(
                    source, "data.window.size", f"no {name} row has {self.span} rows up to it: the table is too short "
                    "for this window", got=self.size, hint="Use a smaller window, or more rows (data.rows).",
                )
        left_out = sum(len(positions[name]) - len(rows) for name, rows in kept.items())
        return WindowedSplit(self, kept, time_ordered=True, left_out=left_out)

    def notes(self, windowed: WindowedSplit, *, source: str = "<spec>") -> tuple[str, ...]:
        """The dataset warning about the rows left out for lack of a complete window (none when none was).

        Example:
            >>> windows = Windows(size=3)
            >>> windows.notes(windows.split({"train": np.arange(6), "test": np.arange(6, 8)}), source="w.toml")[0][:40]
            'w.toml: data.window: the first 2 rows ha'
        """
        if not windowed.left_out:
            return ()
        rows = f"{windowed.left_out} rows have" if windowed.left_out > 1 else "row has"
        every = "" if self.stride == 1 else f" every {self.stride} rows"
        note = (f"{source}: data.window: the first {rows} no {self.span} rows up to them (a window of {self.size} "
                f"rows{every}) and are left out as targets; they still serve as the past of later windows.")
        return (note,)

    def to_dict(self) -> dict[str, int]:
        """``{"size", "stride"}``: the ``window`` key of ``preprocessing.json``."""
        return {"size": self.size, "stride": self.stride}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, *, source: str = "preprocessing.json") -> Windows | None:
        """Read a saved window (None when there is none).

        Raises:
            DataError: when ``size`` or ``stride`` is not a whole number of the right size.

        Example:
            >>> Windows.from_dict({"size": 1})
            Traceback (most recent call last):
            ...
            dlworkflow.errors.DataError: preprocessing.json: window.size: must be a whole number of at least 2; got 1. ...
        """
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise DataError.single(source, "window", "must be a table {size, stride}", got=data,
                                   hint="Export the run again to rewrite its preprocessing.json.")
        values = {}
        for key, least, default in (("size", 2, None), ("stride", 1, 1)):
            value = data.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise DataError.single(source, f"window.{key}", f"must be a whole number of at least {least}",
                                       got=value, hint="Export the run again to rewrite its preprocessing.json.")
            values[key] = value
        return cls(**values)


@dataclass(frozen=True)
class WindowedSplit:
    """The parts of a windowed dataset: the target rows kept, and what the run records about them.

    Attributes:
        windows: The window.
        positions: Part name → the kept target rows (positions of the prepared table).
        time_ordered: Whether every training target row precedes every validation one, and those every test one.
        left_out: Target rows left out for lack of a complete window.
    """

    windows: Windows
    positions: Mapping[str, np.ndarray]
    time_ordered: bool
    left_out: int


def make_windows(values: np.ndarray, end_positions: np.ndarray, size: int, stride: int = 1) -> np.ndarray:
    """The windows ending at the given rows of a 2-D table: ``(len(end_positions), size, features)``.

    One ``numpy.lib.stride_tricks.sliding_window_view`` of ``values`` (a view) is indexed at the
    windows' first rows; only the result is a copy, float32 and C-contiguous.

    Args:
        values: The scaled table, ``(rows, features)``.
        end_positions: The last row of each window; each at least ``(size - 1) * stride``.
        size: Rows per window.
        stride: Rows between two rows of a window.

    Returns:
        The windows, oldest row first.

    Raises:
        ValueError: when a window would start before row 0 or end after the last row.

    Example:
        >>> make_windows(np.arange(6.0).reshape(6, 1), np.array([4, 5]), 2, stride=2)[:, :, 0].tolist()
        [[2.0, 4.0], [3.0, 5.0]]
    """
    values = np.asarray(values)
    ends = np.asarray(end_positions, dtype=np.int64)
    span = (size - 1) * stride + 1
    if ends.size and (ends.min() < span - 1 or ends.max() >= len(values)):
        raise ValueError(f"window ends must lie in [{span - 1}, {len(values) - 1}]; got {ends.min()}..{ends.max()}")
    if not ends.size or len(values) < span:
        return np.zeros((0, size, values.shape[1]), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(values.astype(np.float32, copy=False), span, axis=0)
    rows_first = view.transpose(0, 2, 1)[:, ::stride, :]  # (rows - span + 1, size, features), still a view
    return np.ascontiguousarray(rows_first[ends - (span - 1)])  # the one copy: the chosen windows


def time_ordered(positions: Mapping[str, np.ndarray]) -> bool:
    """Whether every training target row comes before every validation one, and those before every test one.

    Args:
        positions: Part name → row positions (of the ordered table).

    Returns:
        ``max(train) < min(validation) <= max(validation) < min(test)`` over the parts present.

    Example:
        >>> time_ordered({"train": np.array([0, 1]), "test": np.array([2])})
        True
        >>> time_ordered({"train": np.array([0, 2]), "test": np.array([1])})
        False
    """
    previous = -1
    for name in ("train", "validation", "test"):
        rows = positions.get(name)
        if rows is None or not len(rows):
            continue
        if int(np.min(rows)) <= previous:
            return False
        previous = int(np.max(rows))
    return True


def new_row_windows(
    x: np.ndarray, frame: pd.DataFrame, windows: Windows | None, *, source: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """New consecutive rows as a windowed model takes them: one window per row that has a complete one.

    ``dlw predict`` on a CSV of consecutive rows (oldest first) predicts for row ``span`` onwards
    (counting from 1): each of those rows ends a complete window. Without a window the rows are
    returned as they are.

    Args:
        x: The scaled rows, ``(rows, features)``.
        frame: The rows as given, aligned with ``x``.
        windows: The saved window, or None.
        source: The file the rows came from, for the message.

    Returns:
        ``(windows, size, features)`` and the rows that end them (the frame's last rows).

    Raises:
        DataError: when there are fewer rows than one window needs.

    Example:
        >>> frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
        >>> x, ends = new_row_windows(frame.to_numpy(np.float32), frame, Windows(size=2), source="new.csv")
        >>> x.shape, ends.index.tolist()
        ((2, 2, 1), [1, 2])
    """
    if windows is None:
        return x, frame
    if len(frame) < windows.span:
        spanning = "" if windows.stride == 1 else f" (one every {windows.stride}, spanning {windows.span} rows)"
        raise DataError.single(
            source, "rows", f"the model takes a window of {windows.size} rows{spanning}, but the file has "
            f"{len(frame)} row(s): no row has a complete window", got=len(frame),
            hint=f"Give at least {windows.span} consecutive rows, oldest first; each row from row {windows.span} on "
            "gets a prediction.",
        )
    ends = np.arange(windows.span - 1, len(frame))
    return make_windows(x, ends, windows.size, windows.stride), frame.iloc[windows.span - 1:]
