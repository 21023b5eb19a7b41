"""Preparation: the ``[data]`` steps that turn a loaded table into features and a target.

The steps run in a fixed order, the order of the workshop's notebooks:

0. ``split.order_by`` (when given): sort the rows by a date column, stably
   (:mod:`.time_order`), so that the shift and the ordered split follow the dates;
1. ``drop``: remove columns (names or glob patterns such as ``"*_cloud_cover"``);
2. ``shift``: move the target in time, on the whole table (``-1``: row *i* predicts row *i+1*);
   rows the shift leaves without a target (the last ``-shift`` rows) go;
3. ``rows``: keep the first N rows;
4. ``dropna``: drop rows with a missing (or infinite) value in a used column (features, target,
   persistence);
5. ``select`` and types: the feature columns, in table order (by default every column but the target and
   the ``order_by`` column, which is a feature only when ``data.select`` names it;
   without a shift the target is never a feature, even when a pattern matches it; with a shift
   the unshifted target stays a feature, as today's sunshine predicts tomorrow's); a feature
   equal to the (shifted) target on every row is refused as leakage; each is typed
   (:func:`~dlworkflow.data.column_types.column_profiles`, ``data.columns``): free text is kept
   (encoded after the split, :mod:`.text_encoding`),
   ``ignore`` and id-like columns are left out. With ``data.missing = "impute"`` step 4 drops
   only rows without a target (or persistence value); feature gaps are filled after the split;
6. ``task`` and ``target_encoding``: classes are the sorted unique values, as ``pd.get_dummies``.

Nothing is scaled here: scaling is fitted on the training split only (:mod:`.scaling`).

Example:
    >>> from dlworkflow.data.sources import load_builtin
    >>> from dlworkflow.spec import DataSpec
    >>> data = DataSpec(dataset="penguins", target="species", drop=("island", "sex"), dropna=True)
    >>> prepared = prepare_table(load_builtin("penguins"), data)
    >>> prepared.features.shape, prepared.class_names
    ((342, 4), ('Adelie', 'Chinstrap', 'Gentoo'))
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from dlworkflow.data.column_types import ColumnProfile, column_profiles
from dlworkflow.data.dataset import Task
from dlworkflow.data.time_order import time_order
from dlworkflow.errors import DataError, SpecError, suggestion
from dlworkflow.spec.schema import DataSpec

GLOB_CHARACTERS = "*?["


@dataclass(frozen=True)
class PreparedTable:
    """A table after the ``[data]`` steps, before the split.

    All attributes share one row order and the source table's index.

    Attributes:
        features: The raw (unscaled) feature columns, in network order.
        target: The target values to predict (shifted when ``data.shift`` is set), unencoded.
        frame: The same rows with every column of the source table (dropped ones too), so
            later layers can look up e.g. a date or a persistence column by name.
        task: ``classification`` or ``regression``.
        target_encoding: ``onehot`` or ``integer`` for classification, None for regression.
        class_names: Class labels in encoding order (classification), else None.
        y: The encoded target: float32 ``(rows,)`` (regression), float32 ``(rows, classes)``
            (one-hot) or int32 ``(rows,)`` (integer).
        labels: float64 target values (regression) or int64 class indices (classification).
    """

    features: pd.DataFrame
    target: pd.Series
    frame: pd.DataFrame
    task: Task
    target_encoding: Literal["onehot", "integer"] | None
    class_names: tuple[str, ...] | None
    y: np.ndarray
    labels: np.ndarray
    profiles: tuple[ColumnProfile, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The feature columns, in network order."""
        return tuple(str(name) for name in self.features.columns)


def prepare_table(
    table: pd.DataFrame,
    data_spec: DataSpec,
    *,
    source: str = "<spec>",
    table_name: str = "the table",
    persistence: str | None = None,
    order_by: str | None = None,
) -> PreparedTable:
    """Apply the ``[data]`` steps to a loaded table.

    Args:
        table: The table as loaded (see :func:`dlworkflow.data.sources.load_table`).
        data_spec: The ``[data]`` section.
        source: The spec file, for error messages.
        table_name: The dataset's name, for error messages (e.g. ``penguins``).
        persistence: ``evaluate.persistence``: a column the evaluation layer reads as the
            "tomorrow = today" forecast; checked to exist and be numeric, and kept free of
            missing values like the used columns.
        order_by: ``split.order_by``: a date column whose order the rows take before the shift
            (see :func:`~dlworkflow.data.time_order.time_order`); not a feature unless
            ``data.select`` names it.

    Returns:
        The prepared table.

    Raises:
        SpecError: at ``data.target`` when the spec names no target.
        DataError: naming the spec path and a fix, when a column is unknown (``order_by`` too, or
            not dates), a feature is not
            numeric or is a copy of the target (leakage), values are missing without
            ``dropna = true``, ``rows`` or ``shift`` do not fit the table, or no rows or
            features are left.

    Example:
        >>> from dlworkflow.data.sources import load_builtin
        >>> data = DataSpec(dataset="weather", target="BASEL_sunshine", shift=-1, rows=1096,
        ...                 drop=("DATE", "MONTH"))
        >>> prepared = prepare_table(load_builtin("weather"), data, table_name="weather")
        >>> prepared.features.shape, prepared.task
        ((1096, 89), 'regression')
    """
    where = _Where(source, table_name)
    columns = [str(column) for column in table.columns]
    target_name = data_spec.target
    if target_name is None:
        raise SpecError.single(
            where.source, "data.target", f"a table needs a target: the column of {table_name} to predict",
            hint="Add target = '<column>' to the [data] table"
            + (f"; columns: {', '.join(map(repr, columns[:8]))}{', ...' if len(columns) > 8 else ''}."
               if plausible_header(columns) else f". {UNSHOWN_HEADER}"),
        )
    if target_name not in columns:
        raise where.error(
            "data.target", f"no column {target_name!r} in {table_name}",
            hint=column_hint(target_name, columns, "Name one of the table's columns."),
        )
    kept = _drop_columns(columns, data_spec.drop, target_name, where)
    if order_by is not None:
        table = table.iloc[time_order(table, order_by, source=source, table_name=table_name)]
    positions = _shifted_positions(len(table), data_spec.shift, where)
    target = table[target_name].iloc[positions - data_spec.shift].set_axis(table.index[positions])
    positions, target = _row_window(positions, target, data_spec, where)
    rows = table.iloc[positions]

    feature_names = _select_features(kept, data_spec, where, order_by)
    profiles = column_profiles(rows[feature_names], data_spec.columns, source=source,
                               date_format=data_spec.date_format)
    feature_names = _typed_features(profiles, data_spec, where)
    impute = data_spec.missing_rows == "impute"
    used = list(dict.fromkeys([*([] if impute else feature_names), target_name]))
    if persistence is not None:
        _check_persistence(rows, persistence, columns, where)
        used = list(dict.fromkeys([*used, persistence]))
    before = len(rows)
    rows, target = _handle_missing(rows, target, used, data_spec, where)
    notes = (f"{before - len(rows)} row(s) with a missing target were dropped (the target is never imputed)",) if (
        impute and len(rows) < before) else ()
    _check_no_target_copy(rows, target, feature_names, data_spec, where)

    task = _task(target, table[target_name], data_spec, where)
    if task == "regression":
        values = target.to_numpy(dtype=np.float64)
        y, labels, class_names, encoding = values.astype(np.float32), values, None, None
    else:
        y, labels, class_names = _encode_classes(target, data_spec.target_encoding, where)
        encoding = data_spec.target_encoding
    return PreparedTable(
        features=rows[feature_names],
        target=target,
        frame=rows,
        task=task,
        target_encoding=encoding,
        class_names=class_names,
        y=y,
        labels=labels,
        profiles=profiles,
        notes=notes,
    )


def plausible_header(columns: Sequence[str]) -> bool:
    """Whether column names look like a table's header, and so may be quoted in a message.

    A file that is not a table (``data.path = "../../etc/shadow.csv"``) is read as one column named
    after its first line; quoting it would print the file's contents. A header of at least two
    columns whose names are short, printable text is a table's.

    Args:
        columns: The column names read.

    Returns:
        True when the names may be shown.

    Example:
        >>> plausible_header(["temperature", "rain"]), plausible_header(["root:x1Yz:19000:0:99999:7:::"])
        (True, False)
    """
    return len(columns) >= 2 and showable_names(columns)


def showable_names(names: Sequence[str]) -> bool:
    """Whether names are short, printable text that a message may quote (see :func:`plausible_header`).

    Example:
        >>> showable_names(["a", "b"]), showable_names(["x" * 200])
        (True, False)
    """
    return all(len(str(name)) <= MAX_SHOWN_NAME and str(name).isprintable() for name in names)


def column_hint(word: str, columns: Sequence[str], fallback: str) -> str:
    """The hint for a column name the table lacks: "Did you mean ...?" and the columns, when they may be shown.

    Args:
        word: The name the spec gives.
        columns: The table's columns.
        fallback: The hint when nothing is close.

    Returns:
        A hint that quotes the columns only for a :func:`plausible_header`.

    Example:
        >>> column_hint("tmp", ["temp", "rain"], "Name a column.")
        "Did you mean 'temp'? Valid options: 'temp', 'rain'."
        >>> column_hint("y", ["secret first line"], "Name a column.").startswith("The file read has 1 column")
        True
    """
    if not plausible_header(columns):
        return f"The file read has {len(columns)} column(s). {UNSHOWN_HEADER}"
    return suggestion(word, columns, show_options=20) or fallback


MAX_SHOWN_NAME = 64
"""The longest column name a message quotes; a longer one is more likely a line of a file that is not a table."""

UNSHOWN_HEADER = (
    "Its first line does not look like a CSV header, so it is not shown here: check that data.path names a "
    "comma-separated table with a header line."
)


@dataclass(frozen=True)
class _Where:
    source: str
    table_name: str

    def error(self, path: str, what: str, **details: object) -> DataError:
        return DataError.single(self.source, path, what, **details)  # type: ignore[return-value,arg-type]


def _is_pattern(name: str) -> bool:
    return any(character in name for character in GLOB_CHARACTERS)


def _match(
    patterns: Sequence[str], columns: Sequence[str], key: str, where: _Where, *, hint_fix: str
) -> list[str]:
    """Columns (in table order) matched by names or glob patterns; each must match something."""
    matched: set[str] = set()
    for index, pattern in enumerate(patterns):
        if _is_pattern(pattern):
            found = fnmatch.filter(columns, pattern)
            if not found:
                raise where.error(
                    f"{key}[{index}]", f"pattern {pattern!r} matches no column of {where.table_name}",
                    hint=f"Check the pattern; columns look like {', '.join(map(repr, columns[:5]))}."
                    if plausible_header(columns) else f"Check the pattern. {UNSHOWN_HEADER}",
                )
            matched.update(found)
        elif pattern in columns:
            matched.add(pattern)
        else:
            raise where.error(
                f"{key}[{index}]", f"no column {pattern!r} in {where.table_name}",
                hint=column_hint(pattern, columns, hint_fix),
            )
    return [column for column in columns if column in matched]


def _drop_columns(columns: list[str], drop: Sequence[str], target_name: str, where: _Where) -> list[str]:
    dropped = _match(drop, columns, "data.drop", where, hint_fix="Remove it from data.drop.")
    if target_name in dropped:
        index = next(i for i, pattern in enumerate(drop) if fnmatch.fnmatchcase(target_name, pattern))
        raise where.error(
            f"data.drop[{index}]", f"removes the target column {target_name!r}", got=drop[index],
            hint="Keep the target: remove it from data.drop or narrow the pattern.",
        )
    return [column for column in columns if column not in dropped]


def _shifted_positions(num_rows: int, shift: int, where: _Where) -> np.ndarray:
    """Row positions that still have a target after the shift (positional, whole table)."""
    if abs(shift) >= num_rows:
        raise where.error(
            "data.shift", f"a shift of {shift} leaves no rows with a target ({where.table_name} has {num_rows} rows)",
            got=shift, hint=f"Use a shift between {-(num_rows - 1)} and {num_rows - 1}; -1 predicts the next row.",
        )
    return np.arange(max(0, shift), num_rows + min(0, shift))


def _row_window(
    positions: np.ndarray, target: pd.Series, data_spec: DataSpec, where: _Where
) -> tuple[np.ndarray, pd.Series]:
    if data_spec.rows is None:
        return positions, target
    available = len(positions)
    if data_spec.rows > available:
        after_shift = f" that have a target after the shift of {data_spec.shift}" if data_spec.shift else ""
        raise where.error(
            "data.rows", f"asks for more rows than {where.table_name} has: {available} rows{after_shift}",
            got=data_spec.rows, hint=f"Set data.rows to {available} or less, or leave it out to use every row.",
        )
    return positions[: data_spec.rows], target.iloc[: data_spec.rows]


def _select_features(kept: list[str], data_spec: DataSpec, where: _Where, order_by: str | None) -> list[str]:
    candidates = kept if data_spec.shift else [column for column in kept if column != data_spec.target]
    if order_by is not None and order_by not in data_spec.select:
        candidates = [column for column in candidates if column != order_by]
    if data_spec.select:
        names = _match(
            data_spec.select, kept, "data.select", where,
            hint_fix="Name a column that data.drop keeps, or use a glob pattern such as 'BASEL_*'.",
        )
        candidates = [column for column in names if column in candidates]
    if not candidates:
        path = "data.select" if data_spec.select else "data.drop"
        raise where.error(
            path, "no feature columns are left", got=list(data_spec.select or data_spec.drop),
            hint="Keep at least one column besides the target.",
        )
    return candidates


def _typed_features(profiles: Sequence[ColumnProfile], data_spec: DataSpec, where: _Where) -> list[str]:
    """The feature columns the network gets: ``ignore`` (and id-like) columns left out."""
    used = [profile.name for profile in profiles if profile.type != "ignore"]
    if not used:
        raise where.error(
            "data.columns", "every feature column is ignored (typed 'ignore' or id-like)",
            got=[f"{profile.name}: {profile.reason}" for profile in profiles][:5],
            hint="Type at least one column 'number', 'category', 'boolean', 'date' or 'text' in [data.columns].",
        )
    return used


def _check_no_target_copy(
    rows: pd.DataFrame, target: pd.Series, feature_names: list[str], data_spec: DataSpec, where: _Where
) -> None:
    """Refuse a feature that equals the (shifted) target on every row: it hands the network the answer."""
    if not pd.api.types.is_numeric_dtype(target) or target.nunique() < 2:
        return
    values = target.to_numpy(dtype=np.float64)
    feature_names = [name for name in feature_names if pd.api.types.is_numeric_dtype(rows[name])]
    features = rows[feature_names].to_numpy(dtype=np.float64, na_value=np.nan)
    copies = [name for name, same in zip(feature_names, (features == values[:, None]).all(axis=0)) if same]
    if copies:
        path = "data.select" if data_spec.select else "data.drop"
        shifted = f" (shifted by {data_spec.shift})" if data_spec.shift else ""
        listed = ", ".join(map(repr, copies))
        plural = "s are" if len(copies) > 1 else " is"
        raise where.error(
            path, f"feature column{plural} equal to the target {data_spec.target!r}{shifted} on every row: {listed}; "
            "a copy of the target leaks the answer into the inputs, so the test score would mean nothing",
            hint=f"Remove it: add {listed} to data.drop (e.g. drop = {[*data_spec.drop, *copies]!r}).",
        )


def _check_persistence(rows: pd.DataFrame, persistence: str, columns: list[str], where: _Where) -> None:
    if persistence not in columns:
        raise where.error(
            "evaluate.persistence", f"no column {persistence!r} in {where.table_name}",
            hint=column_hint(persistence, columns, "Name a column of the table."),
        )
    if not pd.api.types.is_numeric_dtype(rows[persistence]):
        raise where.error(
            "evaluate.persistence", f"column {persistence!r} is not numeric ({rows[persistence].dtype})",
            hint="The persistence baseline uses today's value as the forecast: name a numeric column, "
            "usually the (unshifted) target.",
        )


def _handle_missing(
    rows: pd.DataFrame, target: pd.Series, used: list[str], data_spec: DataSpec, where: _Where
) -> tuple[pd.DataFrame, pd.Series]:
    infinite_cells = _infinite(rows[used])
    missing_cells = rows[used].isna() | infinite_cells  # an inf trains to an infinite loss: as good as missing
    missing_target = target.isna().to_numpy() | _infinite(target.to_frame()).to_numpy()[:, 0]
    bad_rows = missing_cells.any(axis=1).to_numpy() | missing_target
    if not bad_rows.any():
        return rows, target
    if data_spec.missing_rows == "error":
        counts = missing_cells.sum()
        described = [f"{name!r} ({int(count)})" for name, count in counts.items() if count]
        if missing_target.any() and data_spec.shift:
            described.append(f"shifted target {data_spec.target!r} ({int(missing_target.sum())})")
        kind = "missing or infinite values" if infinite_cells.to_numpy().any() else "missing values"
        raise where.error(
            "data.dropna", f"{int(bad_rows.sum())} rows have {kind} in used columns: {', '.join(described)}",
            hint="Set dropna = true in [data] to drop those rows (or missing = 'impute' to fill them from the "
            "training rows), or remove those columns with data.drop.",
        )
    keep = ~bad_rows
    if not keep.any():
        raise where.error(
            "data.dropna", f"every row of {where.table_name} has a missing value in a used column; no rows are left",
            hint="Remove the columns with many missing values with data.drop (or narrow data.select).",
        )
    return rows[keep], target[keep]


def _infinite(frame: pd.DataFrame) -> pd.DataFrame:
    """Whether each cell is +inf or -inf (False for text and missing cells)."""
    result = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_float_dtype(column):
            result[name] = np.isinf(column.to_numpy(dtype=np.float64, na_value=np.nan))
    return result


def _task(target: pd.Series, original: pd.Series, data_spec: DataSpec, where: _Where) -> Task:
    categorical = not pd.api.types.is_numeric_dtype(original) or pd.api.types.is_bool_dtype(original)
    if data_spec.task == "auto":
        return "classification" if categorical else "regression"
    if data_spec.task == "regression" and not pd.api.types.is_numeric_dtype(target):
        raise where.error(
            "data.task", f"a regression target must be numeric, but {data_spec.target!r} holds {original.dtype} values",
            got=data_spec.task, hint="Set task = 'classification' (or 'auto'), or pick a numeric target.",
        )
    return data_spec.task


def _class_order(target: pd.Series) -> list[object]:
    if isinstance(target.dtype, pd.CategoricalDtype):
        observed = set(target.dropna())
        return [value for value in target.cat.categories if value in observed]
    values = list(pd.unique(target.dropna()))
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _encode_classes(
    target: pd.Series, encoding: str, where: _Where
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    classes = _class_order(target)
    if len(classes) < 2:
        raise where.error(
            "data.target", f"classification needs at least 2 classes, but {target.name!r} has {len(classes)}",
            got=[str(value) for value in classes],
            hint="Pick a target with several classes, or set task = 'regression' for a numeric target.",
        )
    codes = pd.Categorical(target, categories=classes).codes.astype(np.int64)
    y = np.eye(len(classes), dtype=np.float32)[codes] if encoding == "onehot" else codes.astype(np.int32)
    return y, codes, tuple(str(value) for value in classes)
