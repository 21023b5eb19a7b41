"""Column encodings: typed feature columns → numbers, fitted on the training rows and saved as data.

Each feature column gets one :class:`ColumnEncoding` by its type (:mod:`dlworkflow.data.column_types`):

- ``number``: itself (float64);
- ``boolean``: 0/1 (true/yes/1 → 1);
- ``date``: the year, and the day of the year and the weekday as sine/cosine (5 inputs);
- ``category``: one-hot of the training values plus one out-of-vocabulary column (``<other>``)
  for values never seen in training, or, beyond ``data.max_onehot`` values, one integer-index
  column (0 for unseen values, 1… for the vocabulary, for an ``Embedding``);
- ``text``: token ids or a term vector of a vocabulary of the training rows
  (:mod:`dlworkflow.data.text_encoding`, ``[data.text]``), never scaled.

With ``data.missing = "impute"`` every column gets a fill value from the training rows (median
of numbers and dates, most frequent value of categories and booleans), and a column that had
gaps in training a ``<column>_missing`` 0/1 indicator. The fitted state is plain data
(:meth:`TableEncoding.to_dict`), so ``dlw predict`` and an exported bundle apply it without
pickle and without the training code.

Example:
    >>> import pandas as pd
    >>> from dlworkflow.data.column_types import column_profiles
    >>> train = pd.DataFrame({"mass": [3.0, None, 5.0], "island": ["Dream", "Biscoe", "Dream"]})
    >>> encoding = TableEncoding.fit(train, column_profiles(train), missing="impute")
    >>> encoding.output_names
    ('mass', 'mass_missing', 'island=Biscoe', 'island=Dream', 'island=<other>')
    >>> rows = encoding.transform(pd.DataFrame({"mass": [None], "island": ["Atlantis"]}))
    >>> rows.values.iloc[0].tolist(), rows.notes
    ([4.0, 1.0, 0.0, 0.0, 1.0], ('mass: 1 missing value imputed (4)', "island: 1 value never seen in training ('Atlantis') went to the out-of-vocabulary bucket"))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.data.column_types import (
    FALSE_WORDS,
    TRUE_WORDS,
    ColumnProfile,
    parse_dates,
)
from dlworkflow.data.text_encoding import (
    DEFAULT_TEXT_OPTIONS,
    TextEncoding,
    TextOptions,
    resolve_modes,
)
from dlworkflow.errors import DataError

OTHER = "<other>"
"""The one-hot column of category values never seen in training."""

MISSING_SUFFIX = "_missing"
"""The indicator column of a feature that had gaps in training: ``<column>_missing``."""

DATE_PARTS = ("year", "day_sin", "day_cos", "weekday_sin", "weekday_cos")
"""The encoded columns of a date: ``<column>_<part>``."""

MISSING_MODES = ("error", "drop", "impute")
"""``data.missing`` values."""

MAX_SHOWN = 3
"""Unseen values quoted per note."""


@dataclass(frozen=True)
class ColumnEncoding:
    """One input column's fitted encoding.

    Attributes:
        name: The input column.
        type: ``number``, ``boolean``, ``date`` or ``category``.
        outputs: The encoded column names, in network order.
        vocabulary: A category's training values (as text), in encoding order.
        index: A category encoded as one integer-index column (more values than ``max_onehot``).
        fill: The value a gap gets (a number; a category's text; a date's ISO text), or None
            when gaps are not imputed.
        indicator: Whether a ``<name>_missing`` 0/1 column follows.
        text: A text column's fitted vocabulary and mode (type ``text``).

    Example:
        >>> ColumnEncoding("sex", "category", ("sex=F", "sex=M", "sex=<other>"), ("F", "M")).describe()
        'sex: category, one-hot of 2 values + other (3 inputs)'
    """

    name: str
    type: str
    outputs: tuple[str, ...]
    vocabulary: tuple[str, ...] = ()
    index: bool = False
    fill: float | str | None = None
    indicator: bool = False
    text: TextEncoding | None = None

    @property
    def unscaled(self) -> tuple[str, ...]:
        """Outputs the scaler leaves as they are (0/1 columns and integer indices).

        Example:
            >>> ColumnEncoding("ok", "boolean", ("ok",)).unscaled
            ('ok',)
        """
        kept = list(self.outputs) if self.type in ("boolean", "category", "text") else []
        if self.indicator and self.outputs[-1] not in kept:
            kept.append(self.outputs[-1])
        return tuple(kept)

    def describe(self) -> str:
        """One line for people: the type, what it becomes, and how many inputs.

        Example:
            >>> ColumnEncoding("t", "number", ("t", "t_missing"), fill=2.5, indicator=True).describe()
            't: number, gaps → 2.5 + indicator (2 inputs)'
        """
        if self.type == "category" and self.index:
            what = f"category, integer index of {len(self.vocabulary)} values (0: other)"
        elif self.type == "category":
            what = f"category, one-hot of {len(self.vocabulary)} values + other"
        elif self.type == "date":
            what = "date → year, day of year and weekday as sine/cosine"
        elif self.type == "boolean":
            what = "boolean, 0/1"
        elif self.text is not None:
            what = self.text.describe()
        else:
            what = "number"
        if self.fill is not None and self.indicator:
            what += f", gaps → {_shown(self.fill)} + indicator"
        elif self.fill is not None:
            what += f", gaps → {_shown(self.fill)}"
        return f"{self.name}: {what} ({len(self.outputs)} input{'s' if len(self.outputs) != 1 else ''})"

    def to_dict(self) -> dict[str, Any]:
        """The encoding as JSON-compatible data (only the keys that are set).

        Example:
            >>> ColumnEncoding("a", "number", ("a",)).to_dict()
            {'name': 'a', 'type': 'number', 'outputs': ['a']}
        """
        data: dict[str, Any] = {"name": self.name, "type": self.type, "outputs": list(self.outputs)}
        if self.vocabulary:
            data["vocabulary"] = list(self.vocabulary)
        if self.index:
            data["index"] = True
        if self.fill is not None:
            data["fill"] = self.fill
        if self.indicator:
            data["indicator"] = True
        if self.text is not None:
            data["text"] = self.text.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnEncoding:
        """Read :meth:`to_dict` output.

        Example:
            >>> ColumnEncoding.from_dict({"name": "a", "type": "number", "outputs": ["a"]}).outputs
            ('a',)
        """
        return cls(
            name=str(data["name"]), type=str(data["type"]), outputs=tuple(map(str, data["outputs"])),
            vocabulary=tuple(map(str, data.get("vocabulary", ()))), index=bool(data.get("index", False)),
            fill=data.get("fill"), indicator=bool(data.get("indicator", False)),
            text=None if data.get("text") is None else TextEncoding.from_dict(data["text"]),
        )


@dataclass(frozen=True)
class EncodedRows:
    """Rows after :meth:`TableEncoding.transform`.

    Attributes:
        values: The encoded columns (float64), in network order, with the rows' index.
        notes: What people should know (unseen category values, imputed gaps).
        imputed: Gaps filled, per input column (columns with none left out).

    Example:
        >>> EncodedRows(pd.DataFrame({"a": [1.0]})).notes
        ()
    """

    values: pd.DataFrame
    notes: tuple[str, ...] = ()
    imputed: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TableEncoding:
    """The fitted encodings of a table's feature columns.

    Attributes:
        columns: One encoding per input column, in network order: a ``sequence`` text column
            first, then the others in the table's order.
        ignored: Columns typed (or inferred) ``ignore``: accepted in new rows, never used.
        date_format: ``data.date_format`` for text dates.
        imputed: Gaps filled in the training rows, per input column.

    Example:
        >>> train = pd.DataFrame({"a": [1.0, 2.0]})
        >>> from dlworkflow.data.column_types import column_profiles
        >>> TableEncoding.fit(train, column_profiles(train)).is_plain
        True
    """

    columns: tuple[ColumnEncoding, ...]
    ignored: tuple[str, ...] = ()
    date_format: str | None = None
    imputed: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        profiles: Sequence[ColumnProfile],
        *,
        missing: str | None = None,
        max_onehot: int = 50,
        date_format: str | None = None,
        text: TextOptions = DEFAULT_TEXT_OPTIONS,
        source: str = "<spec>",
    ) -> TableEncoding:
        """Fit the encodings on the training rows.

        Args:
            frame: The training rows' feature columns (those of ``profiles`` not ``ignore``).
            profiles: The columns' types (:func:`~dlworkflow.data.column_types.column_profiles`).
            missing: ``data.missing``; with ``impute`` every column gets a fill value.
            max_onehot: Categories with more training values become one integer-index column.
            date_format: ``data.date_format``.
            text: ``[data.text]``: how text columns are encoded.
            source: The spec file, for messages.

        Returns:
            The fitted encoding.

        Raises:
            SpecError: for more than one text column in ``sequence`` mode
                (:func:`~dlworkflow.data.text_encoding.resolve_modes`).

        Example:
            >>> from dlworkflow.data.column_types import column_profiles
            >>> train = pd.DataFrame({"ok": ["yes", "no"]})
            >>> TableEncoding.fit(train, column_profiles(train)).output_names
            ('ok',)
        """
        impute = missing == "impute"
        columns, ignored, imputed = [], [], {}
        used = [profile.name for profile in profiles if profile.type != "ignore"]
        texts = resolve_modes([p.name for p in profiles if p.type == "text"], used, text, source=source)
        for profile in profiles:
            if profile.type == "ignore":
                ignored.append(profile.name)
                continue
            column = frame[profile.name]
            if profile.type == "text":
                fitted = TextEncoding.fit(column.tolist(), texts[profile.name])
                columns.append(ColumnEncoding(profile.name, "text", fitted.output_names(profile.name), text=fitted))
                continue
            gaps = int(_gaps(column).sum())
            if gaps and impute:
                imputed[profile.name] = gaps
            columns.append(_fit_column(profile, column, impute=impute, indicator=bool(gaps) and impute,
                                       max_onehot=max_onehot, date_format=date_format, source=source))
        # A sequence's token ids come first, so the model can split them off (text_encoding.SequenceLayout).
        columns.sort(key=lambda encoded: encoded.text is None or encoded.text.mode != "sequence")
        return cls(tuple(columns), tuple(ignored), date_format, imputed)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The input columns, in order.

        Example:
            >>> TableEncoding((ColumnEncoding("a", "number", ("a",)),)).feature_names
            ('a',)
        """
        return tuple(column.name for column in self.columns)

    @property
    def output_names(self) -> tuple[str, ...]:
        """The encoded columns, in network order.

        Example:
            >>> TableEncoding((ColumnEncoding("a", "number", ("a", "a_missing"), fill=1.0, indicator=True),)).output_names
            ('a', 'a_missing')
        """
        return tuple(name for column in self.columns for name in column.outputs)

    @property
    def unscaled(self) -> tuple[str, ...]:
        """Encoded columns the scaler keeps as they are (one-hot, 0/1, indicators, indices).

        Example:
            >>> TableEncoding((ColumnEncoding("a", "number", ("a",)),)).unscaled
            ()
        """
        return tuple(name for column in self.columns for name in column.unscaled)

    @property
    def is_plain(self) -> bool:
        """Whether every column is a number used as it is (nothing to save beside the scaler).

        Example:
            >>> TableEncoding((ColumnEncoding("a", "boolean", ("a",)),)).is_plain
            False
        """
        return not self.ignored and all(
            column.type == "number" and not column.indicator and column.outputs == (column.name,)
            for column in self.columns
        )

    def transform(self, frame: pd.DataFrame, *, source: str = "<rows>") -> EncodedRows:
        """Encode rows with the fitted state.

        Args:
            frame: Rows holding every input column (others are ignored).
            source: Where the rows came from, for messages.

        Returns:
            The encoded values, notes on unseen values and imputed gaps, and the gap counts.
            A gap in a column with no fill value stays NaN (the caller reports it).

        Raises:
            DataError: naming the column, for text in a number column or a date that does not parse.

        Example:
            >>> encoding = TableEncoding((ColumnEncoding("ok", "boolean", ("ok",)),))
            >>> encoding.transform(pd.DataFrame({"ok": ["yes", "no"]})).values["ok"].tolist()
            [1.0, 0.0]
        """
        parts, notes, imputed = [], [], {}
        for column in self.columns:
            values, note, gaps = _transform_column(column, frame[column.name], self.date_format, source)
            parts.append(values)
            notes += [note] if note else []
            if gaps and column.fill is not None:
                imputed[column.name] = gaps
                notes.append(f"{column.name}: {gaps} missing value{'s' if gaps > 1 else ''} imputed "
                             f"({_shown(column.fill)})")
        values = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
        return EncodedRows(values, tuple(notes), imputed)

    def describe(self) -> tuple[str, ...]:
        """One line per input column (and one for the ignored ones).

        Example:
            >>> TableEncoding((ColumnEncoding("a", "number", ("a",)),), ignored=("Id",)).describe()
            ('a: number (1 input)', 'ignored: Id')
        """
        lines = [column.describe() for column in self.columns]
        if self.ignored:
            lines.append("ignored: " + ", ".join(self.ignored))
        return tuple(lines)

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-compatible data (``preprocessing.encoding``).

        Example:
            >>> TableEncoding((ColumnEncoding("a", "number", ("a",)),)).to_dict()
            {'columns': [{'name': 'a', 'type': 'number', 'outputs': ['a']}], 'ignored': [], 'date_format': None, 'imputed': {}}
        """
        return {
            "columns": [column.to_dict() for column in self.columns],
            "ignored": list(self.ignored),
            "date_format": self.date_format,
            "imputed": dict(self.imputed),
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<preprocessing>") -> TableEncoding:
        """Read :meth:`to_dict` output.

        Raises:
            DataError: naming the file, when the data is not an encoding.

        Example:
            >>> TableEncoding.from_dict({"columns": [{"name": "a", "type": "number", "outputs": ["a"]}]}).feature_names
            ('a',)
        """
        try:
            return cls(
                columns=tuple(ColumnEncoding.from_dict(column) for column in data["columns"]),
                ignored=tuple(map(str, data.get("ignored", ()))),
                date_format=data.get("date_format"),
                imputed={str(name): int(count) for name, count in (data.get("imputed") or {}).items()},
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise DataError.single(
                source, "preprocessing.encoding", f"is not a saved column encoding ({error})",
                hint="Use the preprocessing.json saved with the run, unedited, or export the run again.",
            ) from None


def _gaps(column: pd.Series) -> pd.Series:
    gaps = column.isna()
    if pd.api.types.is_float_dtype(column):
        gaps |= np.isinf(column.to_numpy(dtype=np.float64, na_value=np.nan))
    return gaps


def _key(value: Any) -> str:
    """A category value as text: ``2.0`` and ``2`` are both ``'2'``."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _shown(value: float | str) -> str:
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _booleans(column: pd.Series, name: str, source: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.astype("float64")
    words = column.map(lambda value: value if pd.isna(value) else str(value).strip().lower())
    unknown = sorted({word for word in words.dropna() if word not in TRUE_WORDS | FALSE_WORDS})
    if unknown:
        raise DataError.single(
            source, name, f"boolean column {name!r} holds values other than true/false, yes/no, 0/1",
            got=unknown[:MAX_SHOWN], hint="Give true/false (yes/no, 1/0) values, or leave the cell empty.",
        )
    return words.map(lambda word: np.nan if pd.isna(word) else float(word in TRUE_WORDS)).astype("float64")


def _numbers(column: pd.Series, name: str, source: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column.astype("float64")
    converted = pd.to_numeric(column, errors="coerce")
    bad = column[converted.isna() & column.notna()]
    if len(bad):
        raise DataError.single(
            source, name, f"number column {name!r} holds text", got=[str(v) for v in bad.iloc[:MAX_SHOWN]],
            hint="Check the values of this column (a stray word or a decimal comma makes a column text).",
        )
    return converted.astype("float64")


def _date_features(dates: pd.Series, name: str) -> pd.DataFrame:
    day = (dates.dt.dayofyear - 1) / 365.25 * 2 * np.pi
    weekday = dates.dt.weekday / 7 * 2 * np.pi
    return pd.DataFrame({
        f"{name}_year": dates.dt.year.astype("float64"),
        f"{name}_day_sin": np.sin(day.astype("float64")), f"{name}_day_cos": np.cos(day.astype("float64")),
        f"{name}_weekday_sin": np.sin(weekday.astype("float64")),
        f"{name}_weekday_cos": np.cos(weekday.astype("float64")),
    }, index=dates.index)


def _fit_column(
    profile: ColumnProfile, column: pd.Series, *, impute: bool, indicator: bool, max_onehot: int,
    date_format: str | None, source: str,
) -> ColumnEncoding:
    name, kind = profile.name, profile.type
    present = column[~_gaps(column)]
    tail = (f"{name}{MISSING_SUFFIX}",) if indicator else ()
    fill: float | str | None = None
    if kind == "category":
        keys = present.map(_key)
        vocabulary = tuple(sorted(keys.unique(), key=lambda key: (_sortable(key), key)))
        index = len(vocabulary) > max_onehot
        if impute:
            counts = keys.value_counts()
            fill = str(min(counts[counts == counts.max()].index)) if len(counts) else OTHER
        outputs = (name,) if index else (*(f"{name}={key}" for key in vocabulary), f"{name}={OTHER}")
        return ColumnEncoding(name, kind, (*outputs, *tail), vocabulary, index, fill, indicator)
    if kind == "boolean":
        values = _booleans(present, name, source)
        if impute:
            fill = float(values.mean() > 0.5) if len(values) else 0.0
        return ColumnEncoding(name, kind, (name, *tail), fill=fill, indicator=indicator)
    if kind == "date":
        dates = parse_dates(present, date_format, source=source, path=f"data.columns.{name}")
        if impute:
            fill = dates.sort_values().iloc[len(dates) // 2].isoformat() if len(dates) else "2000-01-01"
        outputs = tuple(f"{name}_{part}" for part in DATE_PARTS)
        return ColumnEncoding(name, kind, (*outputs, *tail), fill=fill, indicator=indicator)
    if impute:
        values = _numbers(present, name, source)
        fill = float(values.median()) if len(values) else 0.0
    return ColumnEncoding(name, "number", (name, *tail), fill=fill, indicator=indicator)


def _sortable(key: str) -> tuple[int, float]:
    try:
        return (0, float(key))
    except ValueError:
        return (1, 0.0)


def _transform_column(
    encoding: ColumnEncoding, column: pd.Series, date_format: str | None, source: str
) -> tuple[pd.DataFrame, str, int]:
    name = encoding.name
    gaps = _gaps(column)
    count = int(gaps.sum())
    note = ""
    if encoding.text is not None:
        values, total, unseen = encoding.text.transform_counted(column.tolist())
        note = f"{name}: {unseen:,} of {total:,} words never seen in training (out of vocabulary)" if unseen else ""
        return pd.DataFrame(values, index=column.index, columns=list(encoding.outputs)), note, 0
    if encoding.type == "category":
        keys = column.map(lambda value: None if pd.isna(value) else _key(value)).where(~gaps, None)
        if encoding.fill is not None:
            keys = keys.where(~gaps, str(encoding.fill))
        known = {key: position for position, key in enumerate(encoding.vocabulary)}
        unseen = keys.notna() & ~keys.isin(list(known))
        if unseen.any():
            values = list(dict.fromkeys(keys[unseen]))
            shown = ", ".join(repr(value) for value in values[:MAX_SHOWN]) + (", ..." if len(values) > MAX_SHOWN else "")
            plural = "s" if int(unseen.sum()) > 1 else ""
            note = (f"{name}: {int(unseen.sum())} value{plural} never seen in training ({shown}) went to the "
                    "out-of-vocabulary bucket")
        codes = keys.map(lambda key: np.nan if key is None else known.get(key, -1)).astype("float64")
        if encoding.index:
            frame = pd.DataFrame({name: codes + 1}, index=column.index)
            frame.loc[unseen.to_numpy(), name] = 0.0
        else:
            width = len(encoding.vocabulary) + 1
            onehot = np.zeros((len(column), width))
            positions = codes.to_numpy()
            rows = np.flatnonzero(~np.isnan(positions))
            onehot[rows, positions[rows].astype(int)] = 1.0  # -1: the last column, <other>
            onehot[np.isnan(positions)] = np.nan
            frame = pd.DataFrame(onehot, index=column.index, columns=list(encoding.outputs[:width]))
    elif encoding.type == "date":
        dates = parse_dates(column.where(~gaps), date_format, source=source, path=name)
        if encoding.fill is not None:
            dates = dates.fillna(pd.Timestamp(str(encoding.fill)))
        frame = _date_features(dates, name)
    else:
        convert = _booleans if encoding.type == "boolean" else _numbers
        values = convert(column, name, source).where(~gaps)
        if encoding.fill is not None:
            values = values.fillna(float(encoding.fill))
        frame = pd.DataFrame({name: values}, index=column.index)
    if encoding.indicator:
        frame[f"{name}{MISSING_SUFFIX}"] = gaps.astype("float64").to_numpy()
    return frame, note, count
