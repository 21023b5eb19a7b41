"""Column types: what each feature column of a table holds, inferred or set in ``data.columns``.

A table's feature columns are typed before anything is fitted: ``number``, ``category``,
``boolean``, ``date``, ``text`` or ``ignore`` (:data:`COLUMN_TYPES`). The type decides the
encoding (:mod:`dlworkflow.data.column_encoding`). Inference is conservative, so that a table
of numbers is read exactly as before:

- a numeric column is a ``number`` (never reinterpreted as categories unless ``data.columns``
  says so), except an integer column named like an id (``Id``, ``*_id``) that is unique on
  every row, which is ``ignore`` (id-like);
- pandas booleans, and text holding only true/false, yes/no or 0/1, are ``boolean``;
- pandas datetimes, and text that parses as ISO dates (or with ``data.date_format``), are ``date``;
- long free text (several words on average) is ``text`` (token ids or a term vector,
  :mod:`dlworkflow.data.text_encoding`);
- other text unique on every row is ``ignore`` (id-like); other text is a ``category``.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"mass": [3.1, 4.2, 3.3], "island": ["Dream", "Biscoe", "Dream"],
    ...                       "ok": ["yes", "no", "yes"]})
    >>> [(p.name, p.type) for p in column_profiles(frame)]
    [('mass', 'number'), ('island', 'category'), ('ok', 'boolean')]
    >>> column_profiles(frame, {"mass": "ignore"})[0].reason
    'set in data.columns'
"""

from __future__ import annotations

import fnmatch
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from dlworkflow.errors import DataError, suggestion

COLUMN_TYPES = ("number", "category", "boolean", "date", "text", "ignore")
"""The types a column may have (``data.columns`` values)."""

TRUE_WORDS = frozenset({"true", "yes", "1", "t", "y"})
"""Text read as a true boolean (compared lowercased, stripped)."""

FALSE_WORDS = frozenset({"false", "no", "0", "f", "n"})
"""Text read as a false boolean (compared lowercased, stripped)."""

TEXT_WORDS = 4.0
"""Text whose values average at least this many words is free ``text``, not a category."""

MIN_ID_ROWS = 20
"""A column is called id-like (unique on every row) only in a table of at least this many rows."""

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
"""Text that looks like an ISO date (``2024-05-01``, ``2024-05-01 12:30``)."""

SET_IN_SPEC = "set in data.columns"
"""The reason of a type the spec set."""


@dataclass(frozen=True)
class ColumnProfile:
    """One feature column's type and the facts it was inferred from.

    Attributes:
        name: The column.
        type: One of :data:`COLUMN_TYPES`.
        inferred: False when ``data.columns`` set the type.
        reason: Why it has that type, for people (``"3 distinct strings"``).
        rows: Rows looked at.
        missing: Rows with no value.
        distinct: Distinct values (missing not counted).

    Example:
        >>> ColumnProfile("island", "category", True, "3 distinct strings", 344, 0, 3).type
        'category'
    """

    name: str
    type: str
    inferred: bool
    reason: str
    rows: int
    missing: int
    distinct: int


def column_profiles(
    frame: pd.DataFrame,
    overrides: Mapping[str, str] = {},
    *,
    source: str = "<spec>",
    date_format: str | None = None,
) -> tuple[ColumnProfile, ...]:
    """The type of every column of ``frame``, inferred or taken from ``overrides``.

    Args:
        frame: The feature columns (the target left out).
        overrides: ``data.columns``: column names or glob patterns → type; the first entry
            that matches a column wins. A name that matches no column is an error.
        source: The spec file, for messages.
        date_format: ``data.date_format`` (a ``strftime`` format) for text dates.

    Returns:
        One profile per column, in ``frame`` order.

    Raises:
        DataError: at ``data.columns.<name>`` for an unknown type or a name that matches no
            column, or when a column typed ``date`` does not parse.

    Example:
        >>> frame = pd.DataFrame({"Id": range(30), "day": ["2024-01-01"] * 30})
        >>> [(p.type, p.reason) for p in column_profiles(frame)]  # doctest: +NORMALIZE_WHITESPACE
        [('ignore', 'unique on every row and named like an id: id-like, ignored'),
         ('date', 'text dates (ISO)')]
    """
    columns = [str(name) for name in frame.columns]
    chosen = _overrides(columns, overrides, source)
    profiles = []
    for name in columns:
        column = frame[name]
        missing = int(column.isna().sum())
        distinct = int(column.nunique(dropna=True))
        if name in chosen:
            kind, reason, inferred = chosen[name], SET_IN_SPEC, False
            if kind == "date":
                parse_dates(column, date_format, source=source, path=f"data.columns.{name}")
        else:
            kind, reason = _infer(name, column, distinct, date_format)
            inferred = True
        profiles.append(ColumnProfile(name, kind, inferred, reason, len(column), missing, distinct))
    return tuple(profiles)


def parse_dates(
    column: pd.Series, date_format: str | None = None, *, source: str = "<spec>", path: str = "data.date_format"
) -> pd.Series:
    """A column as pandas datetimes (missing values stay missing).

    Args:
        column: Datetimes, or text in ISO form or in ``date_format``.
        date_format: A ``strftime`` format such as ``"%d/%m/%Y"``; None: ISO 8601.
        source: The spec (or input) file, for messages.
        path: The spec path a failure is reported at.

    Returns:
        ``datetime64`` values.

    Raises:
        DataError: naming the column and a value that does not parse.

    Example:
        >>> parse_dates(pd.Series(["01/02/2024"]), "%d/%m/%Y").dt.month.tolist()
        [2]
    """
    if pd.api.types.is_datetime64_any_dtype(column):
        return column
    if pd.api.types.is_numeric_dtype(column) and date_format is None:
        date_format = "%Y%m%d"  # an integer typed 'date' is read as 20240131
    text = column.astype("string").str.strip()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.to_datetime(text, format=date_format or "ISO8601")
    except (ValueError, TypeError) as error:
        bad = next((value for value in text.dropna() if _unparsed(value, date_format)), None)
        raise DataError.single(
            source, path, f"column {column.name!r} does not parse as dates with "
            f"{'format ' + repr(date_format) if date_format else 'ISO 8601 (YYYY-MM-DD)'}: {error}",
            got=bad,
            hint="Set data.date_format to the dates' strftime format (e.g. '%d/%m/%Y'), "
            "or type the column 'category' or 'ignore' in data.columns.",
        ) from None


def _unparsed(value: str, date_format: str | None) -> bool:
    try:
        pd.to_datetime(value, format=date_format or "ISO8601")
    except (ValueError, TypeError):
        return True
    return False


def _overrides(columns: list[str], overrides: Mapping[str, str], source: str) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for pattern, kind in overrides.items():
        if kind not in COLUMN_TYPES:
            raise DataError.single(
                source, f"data.columns.{pattern}", "unknown column type", got=kind,
                hint=suggestion(kind, COLUMN_TYPES),
            )
        matched = fnmatch.filter(columns, pattern) if any(c in pattern for c in "*?[") else (
            [pattern] if pattern in columns else [])
        if not matched:
            raise DataError.single(
                source, f"data.columns.{pattern}", "names no feature column of the table",
                got=pattern, hint=suggestion(pattern, columns, show_options=20)
                or "Name a feature column (not the target, nor one data.drop removes), or a glob pattern.",
            )
        for name in matched:
            chosen.setdefault(name, kind)
    return chosen


def _infer(name: str, column: pd.Series, distinct: int, date_format: str | None) -> tuple[str, str]:
    present = column.dropna()
    if pd.api.types.is_bool_dtype(column):
        return "boolean", "true/false values"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "date", "datetime values"
    if pd.api.types.is_numeric_dtype(column):
        if (_id_name(name) and pd.api.types.is_integer_dtype(column) and len(present) >= MIN_ID_ROWS
                and distinct == len(present)):
            return "ignore", "unique on every row and named like an id: id-like, ignored"
        return "number", "numbers"
    text = present.astype(str).str.strip()
    if len(text) and distinct <= 2 and set(text.str.lower()) <= TRUE_WORDS | FALSE_WORDS and (
            not set(text.str.lower()) <= {"t", "f", "y", "n"} or distinct == 2):
        return "boolean", f"{distinct} distinct yes/no values"
    if len(text) and _dates(text, date_format):
        return "date", f"text dates ({date_format or 'ISO'})"
    if len(text) and text.str.split().str.len().mean() >= TEXT_WORDS:
        return "text", f"free text ({text.str.split().str.len().mean():.1f} words on average)"
    if len(text) >= MIN_ID_ROWS and distinct == len(text):
        return "ignore", "unique on every row: id-like, ignored"
    return "category", f"{distinct} distinct strings"


def _id_name(name: str) -> bool:
    lowered = name.lower()
    return lowered == "id" or lowered.endswith(("_id", " id")) or name.endswith("Id")


def _dates(text: pd.Series, date_format: str | None) -> bool:
    if date_format is None and not text.str.match(ISO_DATE).all():
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.to_datetime(text, format=date_format or "ISO8601")
    except (ValueError, TypeError):
        return False
    return True
