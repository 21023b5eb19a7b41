"""CSV files: the one CSV reader, used for training (``data.path``) and for ``dlw predict`` alike.

Numbers are parsed with pandas' correctly rounded parser (``float_precision="round_trip"``):
a table written by ``DataFrame.to_csv`` comes back bit for bit, so the rows a run was trained on
and the same rows given to ``dlw predict`` are the same numbers. (pandas' default parser is
faster but may be off by one unit in the last place: on such a table about a third of the
values differ.) The built-in tables read the same with either parser.

Example:
    >>> table = read_csv("tables/mine.csv", source="spec.toml")  # doctest: +SKIP
    >>> CSV_FILE.dataset_name(Path("tables/mine.csv"))
    'mine'
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dlworkflow.data.data_source import TableSource, error_summary
from dlworkflow.data.home import spec_folder_text
from dlworkflow.data.preparation import showable_names
from dlworkflow.errors import DataError
from dlworkflow.spec.limits import file_kind_problem
from dlworkflow.stage_clock import stage

FLOAT_PRECISION = "round_trip"
"""pandas' ``float_precision`` for every CSV dlworkflow reads: correctly rounded numbers."""


@stage("read")
def read_csv(
    path: str | Path,
    *,
    source: str = "<spec>",
    spec_path: str = "data.path",
    missing_hint: str | None = None,
    folder_hint: str = "Name the CSV file itself in data.path.",
) -> pd.DataFrame:
    """Read a CSV file with correctly rounded numbers, turning every failure into a DataError.

    Args:
        path: The CSV file.
        source: Where the problem is reported: the spec file, or the CSV file itself (as
            ``dlw predict`` does; the messages then do not repeat its name).
        spec_path: The dotted spec path of the problem (``data.path``; empty for an input file).
        missing_hint: The fix when the file does not exist (default: where a relative
            ``data.path`` is read from).
        folder_hint: The fix when the path is a folder.

    Returns:
        The table, with at least one row and string column names.

    Raises:
        DataError: when the file is missing, a folder, a device or FIFO (refused before it is
            opened), not UTF-8, not parseable as CSV, has no rows, or repeats a column name in
            its header.

    Example:
        >>> read_csv("table.csv", source="spec.toml")  # doctest: +SKIP
    """
    path = Path(path)
    named = source != str(path)
    quoted = repr(str(path))

    def error(named_what: str, plain_what: str, hint: str, **got: object) -> DataError:
        return DataError.single(source, spec_path, named_what if named else plain_what, hint=hint, **got)

    kind = file_kind_problem(path)
    if kind is not None and kind != "a folder":  # checked before opening: a FIFO blocks, a device never ends
        raise error(f"{quoted} is {kind}, not a CSV file", f"is {kind}, not a CSV file",
                    "Give a regular CSV file (copy the data into one first).")
    try:
        table = pd.read_csv(path, float_precision=FLOAT_PRECISION)
    except FileNotFoundError as err:
        hint = missing_hint or f"Check the file name; a relative data.path is read from {spec_folder_text(source)}."
        raise error(f"CSV file not found: {quoted}", "CSV file not found", hint) from err
    except IsADirectoryError as err:
        raise error(f"{quoted} is a folder, not a CSV file", "is a folder, not a CSV file", folder_hint) from err
    except UnicodeDecodeError as err:
        reason = f"not UTF-8 text ({err.reason} at byte {err.start})"
        raise error(
            f"cannot read {quoted}: {reason}", reason,
            "Save the file as UTF-8 CSV (e.g. pandas: df.to_csv(path, index=False)).",
        ) from err
    except pd.errors.EmptyDataError as err:
        raise error(
            f"CSV file {quoted} is empty", "the CSV file is empty",
            "Give a CSV file with a header line and at least one row.",
        ) from err
    except (pd.errors.ParserError, OSError) as err:
        raise error(
            f"cannot read {quoted} as CSV ({error_summary(err)})", f"cannot be read as CSV ({error_summary(err)})",
            "Check that it is comma-separated with the same number of fields on every line.",
        ) from err
    if table.empty:
        raise error(
            f"CSV file {quoted} has no rows", "the CSV file has no rows",
            "Give a CSV file with a header line and at least one row.",
            got=f"{table.shape[0]} rows x {table.shape[1]} columns",
        )
    repeated = _repeated_columns(path, table)
    if repeated:
        listed = ", ".join(map(repr, repeated)) if showable_names(repeated) else f"{len(repeated)} name(s), not shown"
        raise error(
            f"{quoted} repeats column names in its header: {listed}",
            f"the header repeats column names: {listed}",
            "Give every column its own name in the header line (pandas would rename the copies 'a.1', 'a.2' "
            "silently).",
        )
    table.columns = [str(column) for column in table.columns]
    return table


def _repeated_columns(path: Path, table: pd.DataFrame) -> list[str]:
    """Names the header line gives more than once (pandas reads them as ``a``, ``a.1``...), in header order."""
    names = [str(column) for column in table.columns]
    suspects = {name for name in names if "." in name and name.rsplit(".", 1)[1].isdigit()}
    if not suspects:
        return []
    try:  # read the header again without pandas' renaming: the first row as data
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0]
    except (ValueError, OSError):
        return []
    raw = [str(name) for name in header]
    return [name for name in dict.fromkeys(raw) if raw.count(name) > 1]


class CsvFile(TableSource):
    """``data.path = "table.csv"``: a comma-separated table with a header line, read by :func:`read_csv`."""

    label = "CSV file"

    def read_table(self, location: str | Path, *, source: str) -> pd.DataFrame:
        """Read the CSV file (see :func:`read_csv`)."""
        return read_csv(location, source=source)


CSV_FILE = CsvFile()
"""The source registered for ``.csv`` in :data:`dlworkflow.spec.registries.DATA_FILES`."""
