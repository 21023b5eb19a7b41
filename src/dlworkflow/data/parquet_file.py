"""Parquet files: ``data.path = "table.parquet"``, read with pyarrow.

A Parquet file stores each column with its type, so the numbers are exactly those written
(``DataFrame.to_parquet`` and back gives the same float64 values) and a Parquet copy of a CSV
table trains the same model as the CSV. The table then goes through the one table pipeline:
drop, shift, rows, dropna, select, encode, split, scale.

pyarrow is imported when a Parquet file is read, not before.

Example:
    >>> table = read_parquet("tables/weather.parquet", source="weather.toml")  # doctest: +SKIP
    >>> table.shape  # doctest: +SKIP
    (3654, 91)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dlworkflow.data.data_source import TableSource, error_summary
from dlworkflow.errors import DataError

ENGINE = "pyarrow"
"""The Parquet library pandas reads with."""


def read_parquet(path: str | Path, *, source: str = "<spec>", spec_path: str = "data.path") -> pd.DataFrame:
    """Read a Parquet file, turning every failure into a :class:`DataError` at ``data.path``.

    Args:
        path: The Parquet file.
        source: The spec file (or the Parquet file itself), for error messages.
        spec_path: The dotted spec path of the problem.

    Returns:
        The table, with at least one row, string column names and rows numbered from 0; a
        stored index with a name (``df.set_index("DATE")``) becomes a column again.

    Raises:
        DataError: when pyarrow is not installed, or the file is missing, a folder, not
            Parquet, or has no rows.

    Example:
        >>> read_parquet("weather.parquet").columns[0]  # doctest: +SKIP
        'DATE'
    """
    path = Path(path)
    quoted = repr(str(path))
    try:
        import pyarrow  # noqa: F401  (pandas would say less about a missing engine)
    except ImportError as err:
        raise DataError.single(
            source, spec_path, f"reading {quoted} needs pyarrow, which is not installed",
            hint="Install it (pip install pyarrow), or give the table as a CSV file.",
        ) from err
    import pyarrow.lib

    try:
        table = pd.read_parquet(path, engine=ENGINE)
    except FileNotFoundError as err:
        raise DataError.single(source, spec_path, f"Parquet file not found: {quoted}",
                               hint="Check the file name.") from err
    except IsADirectoryError as err:
        raise DataError.single(source, spec_path, f"{quoted} is a folder, not a Parquet file",
                               hint="Name the Parquet file itself in data.path.") from err
    except (pyarrow.lib.ArrowException, OSError, ValueError) as err:
        raise DataError.single(
            source, spec_path, f"cannot read {quoted} as Parquet ({error_summary(err)})",
            hint="Check that it is a Parquet file (pandas: df.to_parquet(path)), complete and not renamed.",
        ) from err
    if table.empty:
        raise DataError.single(
            source, spec_path, f"Parquet file {quoted} has no rows",
            got=f"{table.shape[0]} rows x {table.shape[1]} columns",
            hint="Give a table with at least one row.",
        )
    named_index = any(name is not None for name in table.index.names)
    table = table.reset_index(drop=not named_index)
    table.columns = [str(column) for column in table.columns]
    return table


class ParquetFile(TableSource):
    """``data.path = "table.parquet"``: a typed, column-stored table, read by :func:`read_parquet`."""

    label = "Parquet file"

    def read_table(self, location: str | Path, *, source: str) -> pd.DataFrame:
        """Read the Parquet file (see :func:`read_parquet`)."""
        return read_parquet(location, source=source)


PARQUET_FILE = ParquetFile()
"""The source registered for ``.parquet`` in :data:`dlworkflow.spec.registries.DATA_FILES`."""
