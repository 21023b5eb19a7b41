"""New rows for a trained model: a run's saved preprocessing applied to a table it has not seen.

A run saves its fitted preprocessing as JSON (``preprocessing.json``: feature names, scaler
statistics, target and class names), read back as a
:class:`~dlworkflow.data.preprocessing.TablePreprocessing`. :func:`prepare_rows` applies it to new rows exactly as
training applied it to the rows of a split, so the network gets the same numbers for the
same rows:

* **features**: the saved ``feature_names``, picked by name and put in network order (the
  file's column order does not matter);
* **scaling**: the saved per-feature offset and scale, ``(x - offset) / scale`` computed in
  float64 and cast to float32 — :class:`~dlworkflow.data.scaling.Scaler`, the training code;
* **target**: not needed, and ignored when present — except with a ``data.shift``, where the
  unshifted target *is* a feature (today's sunshine predicts tomorrow's) and so is required;
* **shift**: not applied. Each row gets the prediction the model was trained to make for
  it: the target ``-shift`` rows later (``shift = -1``: tomorrow's value from this row);
  no row is dropped;
* **window** (``[data.window]``): the rows are read as consecutive rows, oldest first; each row
  that ends a complete window gets a prediction, from its window of past rows, and the first
  ``span - 1`` rows serve only as the past (:func:`~dlworkflow.data.windows.new_row_windows`);
* **rows** and **dropna**: not applied: every row gets a prediction, in input order, and a
  missing, infinite or non-numeric value in a feature column is an error naming the rows and
  columns, as is a value the scaling turns into a float32 infinity (``1e300``);
* **other columns**: the columns ``data.drop`` removed, the target and the persistence
  column are accepted and ignored, so the raw table the model was trained from can be given
  as is. Any other column is an error (it is often the sign of a different table), unless
  the caller asks to ignore extra columns.

Tables are read by the one CSV reader of training (:func:`dlworkflow.data.csv_file.read_csv`,
pandas' correctly rounded float parser), so numbers written by ``DataFrame.to_csv`` come back
bit for bit and predict reproduces a run on any CSV; a ``.parquet`` file is read as Parquet.

Example:
    >>> import pandas as pd
    >>> saved = {"feature_names": ["a", "b"], "target": "y", "shift": 0, "task": "regression",
    ...          "target_encoding": None, "class_names": None,
    ...          "scaling": {"method": "standardize", "feature_names": ["a", "b"],
    ...                      "offset": {"a": 1.0, "b": 0.0}, "scale": {"a": 2.0, "b": 1.0}}}
    >>> part = prepare_rows(pd.DataFrame({"b": [5.0], "a": [3.0], "y": [0.0]}), saved, source="new.csv")
    >>> part.x.tolist()
    [[1.0, 5.0]]
"""

from __future__ import annotations

import fnmatch
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.data.csv_file import read_csv
from dlworkflow.data.dataset import Part
from dlworkflow.data.parquet_file import read_parquet
from dlworkflow.data.preprocessing import (
    Preprocessing,
    TablePreprocessing,
    as_preprocessing,
)
from dlworkflow.data.windows import new_row_windows
from dlworkflow.errors import DataError, Problem
from dlworkflow.output_files import file_kind
from dlworkflow.spec.registries import file_type

PARQUET_ENDING = ".parquet"
"""New rows in a file with this ending are read as Parquet; any other file as CSV."""

NEW_PART = "new"
"""The name of the :class:`~dlworkflow.data.dataset.Part` that holds new rows."""

MAX_NAMED = 20
"""At most this many column names are listed in one message."""

MAX_ROWS_NAMED = 10
"""At most this many row numbers are listed in one message."""


def read_rows(path: str | Path) -> pd.DataFrame:
    """Read a file of new rows with the reader training used, turning every failure into a DataError.

    A ``.parquet`` file is read as Parquet (:func:`~dlworkflow.data.parquet_file.read_parquet`);
    any other file as CSV, with the one CSV reader of training
    (:func:`~dlworkflow.data.csv_file.read_csv`: correctly rounded numbers), so the same rows
    give the network the same numbers as in the run.

    Args:
        path: The file (``--input``).

    Returns:
        The table, with at least one row and string column names.

    Raises:
        DataError: naming the file, when it is missing, a folder, a device or FIFO, not
            UTF-8, not CSV (or Parquet), or has no rows.

    Example:
        >>> read_rows("new_days.csv").shape  # doctest: +SKIP
        (5, 91)
    """
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise DataError.single(where, "", "input file not found", hint="Check the --input path.")
    if path.is_dir():
        raise DataError.single(
            where, "", "is a folder; a table model takes a CSV file",
            hint="Give the CSV file of rows to predict (a folder of images is for image models).",
        )
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):  # a FIFO would block the read, /dev/zero never end it
        raise DataError.single(where, "", f"is {file_kind(mode)}, not a regular file",
                               hint="Give the CSV file of rows to predict.")
    if file_type(path) == PARQUET_ENDING:
        return read_parquet(path, source=where, spec_path="")
    return read_csv(path, source=where, spec_path="", missing_hint="Check the --input path.")


def accepted_columns(preprocessing: Preprocessing | Mapping[str, Any], data_spec: Mapping[str, Any] | None = None,
                     persistence: str | None = None) -> tuple[str, ...]:
    """Names and glob patterns of the columns new rows may carry besides the features.

    Args:
        preprocessing: The saved preprocessing (or its ``preprocessing.json`` dict).
        data_spec: The run's resolved ``[data]`` section (its ``drop`` list is used).
        persistence: ``evaluate.persistence``, a column of the training table.

    Returns:
        The target, the ``data.drop`` entries (names or patterns) and the persistence column.

    Example:
        >>> accepted_columns({"target": "species"}, {"drop": ["island", "sex"]})
        ('species', 'island', 'sex')
    """
    names = [as_preprocessing(preprocessing).target or ""]
    names += [str(pattern) for pattern in (data_spec or {}).get("drop", ())]
    names += [persistence] if persistence else []
    return tuple(dict.fromkeys(name for name in names if name))


def check_columns(
    columns: Sequence[str],
    feature_names: Sequence[str],
    *,
    source: str,
    accepted: Iterable[str] = (),
    ignore_extra: bool = False,
) -> None:
    """Check that a table has every feature column and no column the model does not know.

    Args:
        columns: The table's columns.
        feature_names: The model's features.
        source: The file the rows came from, for the message.
        accepted: Other names or glob patterns allowed (see :func:`accepted_columns`).
        ignore_extra: Allow any other column.

    Raises:
        DataError: one error naming every missing feature column and every extra column.

    Example:
        >>> check_columns(["b", "a", "species"], ["a", "b"], source="new.csv", accepted=["species"])
        >>> check_columns(["a", "zz"], ["a", "b"], source="new.csv")  # doctest: +SKIP
        DataError: 2 problems:
          - new.csv: columns: 1 feature column the model needs is missing: 'b'. Give every feature ...
          - new.csv: columns: 1 column the model was not trained on: 'zz'. Remove them, or ignore ...
    """
    present = set(columns)
    features = set(feature_names)
    patterns = tuple(accepted)
    missing = [name for name in feature_names if name not in present]
    extra = [] if ignore_extra else [
        name for name in columns
        if name not in features and not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
    ]
    problems = []
    if missing:
        problems.append(Problem(
            source, "columns",
            f"{_count(missing, 'feature column')} the model needs {_is(missing)} missing: {_names(missing)}",
            hint=f"Give every feature the model was trained on ({len(feature_names)} columns, any order): "
            f"{_names(list(feature_names))}.",
        ))
    if extra:
        problems.append(Problem(
            source, "columns",
            f"{_count(extra, 'column')} the model was not trained on: {_names(extra)}",
            hint="Remove them, or ignore them with --ignore-extra (Python: ignore_extra=True); "
            "the target and the columns the spec's data.drop removed are accepted.",
        ))
    if problems:
        raise DataError(problems)


def prepare_rows(
    frame: pd.DataFrame,
    preprocessing: Preprocessing | Mapping[str, Any],
    *,
    source: str,
    accepted: Iterable[str] = (),
    ignore_extra: bool = False,
) -> Part:
    """Apply a run's saved preprocessing to new rows: the network's input, as in training.

    Args:
        frame: The new rows (e.g. from :func:`read_rows`).
        preprocessing: The saved preprocessing of a table run (or its ``preprocessing.json`` dict).
        source: Where the rows came from (a file name), for messages.
        accepted: Other columns allowed besides the features and the target (see
            :func:`accepted_columns`).
        ignore_extra: Allow columns the model does not know.

    Returns:
        A part named ``new``: ``x`` the scaled float32 features ``(rows, features)``,
        ``frame`` the rows as given; ``y`` and ``labels`` are zeros (there is no truth).

    Raises:
        DataError: for missing or extra columns (one error naming both), a feature column
            that is not numeric, missing or infinite values in feature columns or values too
            large once scaled (naming the rows and columns), an image model's preprocessing, or
            a saved dict that cannot be read.

    Example:
        >>> part = prepare_rows(new_days, saved, source="new_days.csv")  # doctest: +SKIP
        >>> part.x.dtype, part.x.shape  # doctest: +SKIP
        (dtype('float32'), (5, 89))
    """
    part, _ = prepare_rows_noted(frame, preprocessing, source=source, accepted=accepted, ignore_extra=ignore_extra)
    return part


def prepare_rows_noted(
    frame: pd.DataFrame,
    preprocessing: Preprocessing | Mapping[str, Any],
    *,
    source: str,
    accepted: Iterable[str] = (),
    ignore_extra: bool = False,
) -> tuple[Part, tuple[str, ...]]:
    """:func:`prepare_rows`, with the notes people should see (unseen category values, imputed gaps).

    Example:
        >>> part, notes = prepare_rows_noted(new_penguins, saved, source="new.csv")  # doctest: +SKIP
        >>> notes  # doctest: +SKIP
        ("island: 1 value never seen in training ('Atlantis') went to the out-of-vocabulary bucket",)
    """
    preprocessing = as_preprocessing(preprocessing)
    if not isinstance(preprocessing, TablePreprocessing):
        raise DataError.single(
            source, "", "the model takes images, not a table",
            hint="Give an image file or a folder of images as --input.",
        )
    frame = frame.copy()
    frame.columns = [str(column) for column in frame.columns]
    feature_names = list(preprocessing.feature_names)
    duplicated = sorted({name for name in frame.columns if list(frame.columns).count(name) > 1})
    if duplicated:
        raise DataError.single(source, "columns", f"repeated column names: {_names(duplicated)}",
                               hint="Give every column once.")
    allowed = [preprocessing.target] if preprocessing.target else []
    allowed += list(accepted)
    encoding = preprocessing.encoding
    if encoding is not None:
        allowed += list(encoding.ignored)
    check_columns(list(frame.columns), feature_names, source=source, accepted=allowed, ignore_extra=ignore_extra)
    features = frame[feature_names]
    notes: tuple[str, ...] = ()
    if encoding is not None:
        checked = [column.name for column in encoding.columns if column.type == "number" and column.fill is None]
        _check_values(features[checked], source)
        unfilled = [column.name for column in encoding.columns
                    if column.type not in ("number", "text") and column.fill is None]  # empty text is text
        _check_values(features[unfilled].isna().astype(float).replace(1.0, np.nan), source)  # gaps, not text
        encoded = encoding.transform(features, source=source)
        features, notes = encoded.values, encoded.notes
    else:
        _check_values(features, source)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, naming the rows
        x = preprocessing.scaling.to_scaler().transform(features)
    _check_scaled(x, list(preprocessing.scaling.feature_names), source)
    x, frame = new_row_windows(x, frame, preprocessing.window, source=source)  # consecutive rows → windows
    rows = len(frame)
    return Part(name=NEW_PART, x=x, y=np.zeros(rows, np.float32), labels=np.zeros(rows), frame=frame), notes


def _check_values(features: pd.DataFrame, source: str) -> None:
    problems = []
    text = [name for name in features.columns if not pd.api.types.is_numeric_dtype(features[name])]
    if text:
        listed = ", ".join(f"{name!r} ({features[name].dtype})" for name in text[:MAX_NAMED])
        problems.append(Problem(
            source, "columns", f"feature columns must be numeric, as in training: {listed}",
            hint="Check the values of these columns (a stray word or a decimal comma makes a column text).",
        ))
    numeric = features.drop(columns=text)
    values = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values)
    infinite = np.isinf(values)
    if missing.any():
        problems.append(_rows_problem(
            source, missing, list(numeric.columns), "missing values",
            "Fill in or remove those rows: the model needs every feature of a row to predict it.",
        ))
    if infinite.any():
        problems.append(_rows_problem(
            source, infinite, list(numeric.columns), "infinite values (inf)",
            "Replace or remove those rows: a model trained on finite numbers cannot predict from inf "
            "(training refuses such rows too).",
        ))
    if problems:
        raise DataError(problems)


def _check_scaled(x: np.ndarray, feature_names: Sequence[str], source: str) -> None:
    """Refuse values that the saved scaling turns into float32 infinities (e.g. 1e300)."""
    overflow = ~np.isfinite(x)
    if overflow.any():
        raise DataError(_rows_problem(
            source, overflow, list(feature_names),
            f"values too large for the network once scaled (beyond float32's ±{np.finfo(np.float32).max:.1e})",
            "Check those values: they are far outside anything a model can be trained on; fix or remove the rows.",
        ))


def _rows_problem(source: str, cells: np.ndarray, columns: Sequence[str], what: str, hint: str) -> Problem:
    """One problem naming the rows (1-based, after the header) and the columns where ``cells`` is True."""
    bad_rows = np.flatnonzero(cells.any(axis=1))
    named = [name for index, name in enumerate(columns) if cells[:, index].any()]
    shown = ", ".join(str(int(row) + 1) for row in bad_rows[:MAX_ROWS_NAMED])
    more = f" and {len(bad_rows) - MAX_ROWS_NAMED} more" if len(bad_rows) > MAX_ROWS_NAMED else ""
    return Problem(
        source, "rows", f"{_count(bad_rows, 'row')} {'has' if len(bad_rows) == 1 else 'have'} {what} "
        f"in feature columns {_names(named)} (data row{'s' if len(bad_rows) > 1 else ''} {shown}{more}, "
        "counting from 1 after the header)",
        hint=hint,
    )


def _count(names: Sequence[Any], noun: str) -> str:
    return f"{len(names)} {noun}{'' if len(names) == 1 else 's'}"


def _is(names: Sequence[str]) -> str:
    return "is" if len(names) == 1 else "are"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:MAX_NAMED])
    return shown + (f", ... ({len(names) - MAX_NAMED} more)" if len(names) > MAX_NAMED else "")

