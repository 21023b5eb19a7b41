"""Time order: ``split.order_by`` sorts a table by a date column, and a shuffled split of time is flagged.

A table of days (the weather data) is a time series only if its rows are in time order. The
``ordered`` split keeps train before validation before test, and ``data.shift = -1`` makes row
*i* predict row *i + 1*: both trust the row order. ``split.order_by = "DATE"`` makes that order
the column's, whatever order the file has:

* the column is read from the table as loaded (it may be in ``data.drop``);
* dates are parsed with pandas: a datetime column as is, text with ``pd.to_datetime``, integers
  that all look like ``yyyymmdd`` (the weather data's ``DATE``) with ``format="%Y%m%d"``; other
  numbers (a day or hour count) are their own order;
* rows with the same date keep their file order (a stable sort);
* the rows are sorted *before* the shift, so "tomorrow" is the next date, not the next line.

``order_by`` belongs to the ``ordered`` split: a splitter that shuffles (``random``,
``stratified``) would throw the order away, so the pair is refused. The opposite slip, a
shifted target or a persistence baseline with a shuffled split, is allowed but warned about
(:func:`time_order_warnings`): the test days then lie between training days, and the score
is better than a forecast of days after the training data would be.

Example:
    >>> table = pd.DataFrame({"DATE": [20000103, 20000101, 20000102], "t": [3.0, 1.0, 2.0]})
    >>> time_order(table, "DATE").tolist()
    [1, 2, 0]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dlworkflow.errors import DataError, Problem, SpecError
from dlworkflow.spec.registries import SPLIT_TYPES
from dlworkflow.spec.schema import SplitSpec

YYYYMMDD = (10000101, 99991231)
"""Integers in this range are read as ``yyyymmdd`` dates (the weather data's ``DATE``), when all of them parse."""


def ordering_column(split: SplitSpec, *, source: str = "<spec>") -> str | None:
    """``split.order_by``, checked against the split type: only a split that keeps row order uses it.

    Args:
        split: The ``[split]`` section.
        source: The spec file, for the message.

    Returns:
        The column to order the rows by, or None.

    Raises:
        SpecError: at ``split.order_by`` when the split type shuffles the rows (``random``,
            ``stratified``, or a registered splitter whose ``shuffle`` is true).

    Example:
        >>> ordering_column(SplitSpec(type="ordered", order_by="DATE"))
        'DATE'
    """
    if split.order_by is None or split.type not in SPLIT_TYPES:
        return split.order_by
    if getattr(SPLIT_TYPES[split.type], "shuffle", False):
        raise SpecError.single(
            source, "split.order_by", f"orders the rows of an 'ordered' split, but type = {split.type!r} shuffles "
            "them, so the order would not be used", got=split.order_by,
            hint="Set type = 'ordered' in [split] (train, then validation, then test, in this column's order), "
            "or remove split.order_by.",
        )
    return split.order_by


def time_order(table: pd.DataFrame, order_by: str, *, source: str = "<spec>", table_name: str = "the table") -> np.ndarray:
    """Row positions that put ``table`` in the order of its ``order_by`` column (stable: ties keep file order).

    Args:
        table: The table as loaded.
        order_by: ``split.order_by``: a column of dates (or of numbers that count time).
        source: The spec file, for messages.
        table_name: The dataset's name, for messages.

    Returns:
        Positions ``0 .. len(table) - 1`` in time order.

    Raises:
        DataError: at ``split.order_by`` when the table has no such column, a row has no value
            in it, or a value is not a date (naming the column, the value and its row).

    Example:
        >>> table = pd.DataFrame({"day": ["2000-01-02", "2000-01-01", "2000-01-02"]})
        >>> time_order(table, "day").tolist()
        [1, 0, 2]
    """
    columns = [str(column) for column in table.columns]
    if order_by not in columns:
        raise DataError.single(
            source, "split.order_by", f"no column {order_by!r} in {table_name} to order the rows by", got=order_by,
            hint=_column_hint(order_by, columns),
        )
    column = table[order_by]
    if isinstance(column, pd.DataFrame):
        raise DataError.single(
            source, "split.order_by", f"{table_name} has {column.shape[1]} columns named {order_by!r}",
            got=order_by, hint="Give each column its own name in the file.",
        )
    missing = column.isna().to_numpy()
    if missing.any():
        raise DataError.single(
            source, "split.order_by", f"{int(missing.sum())} rows of {table_name} have no value in {order_by!r} "
            f"(the first at row {int(np.flatnonzero(missing)[0])}), so they have no place in time", got=order_by,
            hint="Fill in the dates, or remove those rows from the file.",
        )
    values = _time_values(column, order_by, source=source, table_name=table_name)
    return np.argsort(values, kind="stable")


def time_order_warnings(
    split: SplitSpec, *, shift: int = 0, persistence: str | None = None, source: str = "<spec>"
) -> tuple[str, ...]:
    """Warn when a time series (a shifted target, a persistence baseline) is split by shuffling rows.

    With ``data.shift = -1`` the target is tomorrow's value; a ``random`` split then trains on
    the days around every test day (its neighbours before and after), which a real forecast
    never has. The persistence baseline ("tomorrow = today") is a time-series baseline for the
    same reason. Neither stops the run: the lesson does it, and the score is still a score, but
    it is not a forecast's, so the run says so.

    Args:
        split: The ``[split]`` section.
        shift: ``data.shift``.
        persistence: ``evaluate.persistence``.
        source: The spec file, for the message.

    Returns:
        One message when the split shuffles and a shift or a persistence baseline is used; none otherwise.

    Example:
        >>> (message,) = time_order_warnings(SplitSpec(type="random"), shift=-1, source="w.toml")
        >>> message.split(":")[:2]
        ['w.toml', ' split.type']
        >>> time_order_warnings(SplitSpec(type="ordered"), shift=-1)
        ()
    """
    if split.type not in SPLIT_TYPES or not getattr(SPLIT_TYPES[split.type], "shuffle", False):
        return ()
    used = [f"data.shift = {shift}"] if shift else []
    if persistence is not None:
        used.append(f"the persistence baseline ({persistence!r})")
    if not used:
        return ()
    verb = "treats" if len(used) == 1 else "treat"
    return (str(Problem(
        source, "split.type", f"{' and '.join(used)} {verb} the rows as a time series, but the {split.type!r} split "
        "shuffles them: test days lie between training days, so the test score is not that of a forecast "
        "of days after the training data (it is usually better)",
        got=split.type, hint="Use type = 'ordered' in [split] (add order_by = 'DATE' when the file's rows are not "
        "in date order) to test on the latest days only.",
    )),)


def _time_values(column: pd.Series, name: str, *, source: str, table_name: str) -> np.ndarray:
    """The column as values whose numeric order is time order (datetime64 or numbers)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy()
    if pd.api.types.is_bool_dtype(column):
        raise DataError.single(
            source, "split.order_by", f"column {name!r} of {table_name} holds true/false values, not dates", got=name,
            hint="Name a column of dates, or of numbers that count time.",
        )
    if pd.api.types.is_numeric_dtype(column):
        if pd.api.types.is_integer_dtype(column) and column.between(*YYYYMMDD).all():
            parsed = pd.to_datetime(column.astype("int64").astype(str), format="%Y%m%d", errors="coerce")
            return _parsed(column, parsed, name, "yyyymmdd dates", source=source, table_name=table_name)
        return column.to_numpy(dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": each value is parsed on its own
        parsed = pd.to_datetime(column.astype(str), errors="coerce")
    return _parsed(column, parsed, name, "dates", source=source, table_name=table_name)


def _parsed(
    column: pd.Series, parsed: pd.Series, name: str, what: str, *, source: str, table_name: str
) -> np.ndarray:
    failed = parsed.isna().to_numpy()
    if failed.any():
        first = int(np.flatnonzero(failed)[0])
        raise DataError.single(
            source, "split.order_by", f"column {name!r} of {table_name} is read as {what}, but {int(failed.sum())} "
            f"value(s) are not: the first is {column.iloc[[first]].tolist()[0]!r} at row {first}", got=name,
            hint="Write the dates in one format (ISO 2000-01-31 is safest; yyyymmdd integers work too), "
            "or name a column of numbers that count time.",
        )
    return parsed.to_numpy()


def _column_hint(name: str, columns: Sequence[str]) -> str:
    from dlworkflow.data.preparation import column_hint

    return column_hint(name, columns, "Name the table's date column (it may also be in data.drop).")
