"""Where data comes from: the source a spec names, chosen by the open registries, or a DataFrame.

:func:`choose_source` finds the :class:`~dlworkflow.data.data_source.DataSource` of a spec's
``[data]``: by name (``data.dataset``, in :data:`~dlworkflow.spec.registries.DATASETS`), by the
file's ending (``data.path``, in :data:`~dlworkflow.spec.registries.DATA_FILES`), or the image
folder source for a folder. A file named by ``data.path`` is found with
:func:`dlworkflow.data.home.locate`: relative to the spec file's folder first (so a spec and its
data can move together), then in the data home. :func:`load_table` reads a table source (or
takes a DataFrame from the Python API).

Example:
    >>> from dlworkflow.spec import DataSpec
    >>> table, name = load_table(DataSpec(dataset="penguins", target="species"), source="<spec>")
    >>> name, table.shape
    ('penguins', (344, 7))
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dlworkflow.data.builtin_tables import BUILTIN_DATASETS, load_builtin
from dlworkflow.data.csv_file import read_csv
from dlworkflow.data.data_source import DataSource, TableSource
from dlworkflow.data.home import locate, resolve_path
from dlworkflow.errors import DataError, SpecError
from dlworkflow.spec.limits import file_kind_problem
from dlworkflow.spec.registries import DATA_FILES, DATASETS, FOLDER_SOURCE, file_type, load_reference
from dlworkflow.spec.schema import DataSpec

__all__ = [
    "BUILTIN_DATASETS", "FRAME_NAME", "choose_source", "dataset_names", "load_builtin", "load_table", "read_csv",
    "resolve_path",
]

FRAME_NAME = "dataframe"
"""Dataset name used for a table passed from the Python API."""


def choose_source(data_spec: DataSpec, *, source: str) -> tuple[DataSource, str | Path]:
    """The data source a ``[data]`` section names, and what to hand it.

    Args:
        data_spec: The ``[data]`` section.
        source: The spec file (or a label such as ``<api>``); a relative ``data.path`` is looked
            for in this file's folder first, then in the data home.

    Returns:
        The source and its location: the ``data.dataset`` name, or the located ``data.path``.

    Raises:
        SpecError: when no source is given, ``data.dataset`` is not registered, or the file's
            ending is not a registered type (with the registered ones).
        DataError: when ``data.path`` exists nowhere (naming every place looked), or is a device, a FIFO
            or a socket (refused from ``stat`` alone, before anything opens it).

    Example:
        >>> data_source, location = choose_source(DataSpec(dataset="weather"), source="<spec>")
        >>> type(data_source).__name__, location
        ('BuiltinTable', 'weather')
    """
    if data_spec.dataset is not None:
        if data_spec.dataset not in DATASETS:
            raise SpecError.single(
                source, "data.dataset", "unknown built-in dataset", got=data_spec.dataset,
                hint=DATASETS.hint(data_spec.dataset) + " Or give data.path = 'file.csv' for your own table.",
            )
        return DATASETS[data_spec.dataset], data_spec.dataset
    if data_spec.path is not None:
        try:
            path = locate(data_spec.path, source=source)
        except OSError as err:  # a name the system refuses to look up (too long, ...)
            raise DataError.single(
                source, "data.path", f"cannot be looked up ({err.strerror or err})", got=data_spec.path[:200],
                hint="Give the path of a data file (each part of a path is at most 255 characters).",
            ) from err
        if path.is_dir():
            return load_reference(FOLDER_SOURCE), path
        kind = file_kind_problem(path)
        if kind is not None:  # refused before it is opened: a FIFO blocks, a device never ends
            raise DataError.single(
                source, "data.path", f"is {kind}, not a data file", got=data_spec.path,
                hint="Give a regular file (a CSV, Parquet or .npz file) or a folder of images.",
            )
        ending = file_type(path)
        if ending is None:
            raise SpecError.single(
                source, "data.path", "is not a data file type dlworkflow reads", got=data_spec.path,
                hint=f"Give a file ending in {_endings()}, or a folder of images (one sub-folder per class); "
                "a CSV file with another ending: rename it to .csv.",
            )
        return DATA_FILES[ending], path
    raise SpecError.single(
        source,
        "data",
        "no data source: give data.dataset or data.path",
        hint=f"Add dataset = 'penguins' (built-in: {', '.join(map(repr, dataset_names()))}) "
        "or path = 'my_table.csv' (or an .npz of images, or a folder of images) to the [data] table.",
    )


def load_table(
    data_spec: DataSpec, *, source: str, frame: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, str]:
    """Load the table a spec's ``[data]`` section names.

    A DataFrame passed from the Python API wins over ``data.dataset`` and ``data.path``.
    The table is returned as read: no column is dropped and no row is removed.

    Args:
        data_spec: The ``[data]`` section.
        source: The spec file (or a label such as ``<api>``); a relative ``data.path`` is
            looked for in this file's folder when it is a real file (else the working
            directory), then in the data home.
        frame: A table given directly, e.g. ``run(spec, frame=df)``.

    Returns:
        The table and a short dataset name: the built-in name, the file's stem, or
        ``"dataframe"``.

    Raises:
        SpecError: when ``data.dataset`` is not a built-in dataset, the source holds images,
            or no source is given.
        DataError: when the file is missing (naming every place looked), unreadable or empty.

    Example:
        >>> table, name = load_table(DataSpec(dataset="weather", target="BASEL_sunshine"), source="<spec>")
        >>> name, table.shape
        ('weather', (3654, 91))
    """
    if frame is not None:
        return _from_frame(frame, source), FRAME_NAME
    data_source, location = choose_source(data_spec, source=source)
    if not isinstance(data_source, TableSource):
        key = "data.dataset" if data_spec.dataset is not None else "data.path"
        raise SpecError.single(
            source, key, f"is a {data_source.label}, not a table", got=data_spec.dataset or data_spec.path,
            hint="Build it with dlworkflow.data.build_dataset, which loads image sets.",
        )
    return data_source.read_table(location, source=source), data_source.dataset_name(location)


def dataset_names() -> list[str]:
    """Every name ``data.dataset`` accepts: the built-in tables, then the Keras image sets.

    Returns:
        The names of :data:`~dlworkflow.spec.registries.DATASETS`, in registration order.

    Example:
        >>> dataset_names()
        ['penguins', 'weather', 'cifar10', 'mnist', 'fashion_mnist']
    """
    return list(DATASETS.names())


def _endings() -> str:
    endings = [repr(ending) for ending in DATA_FILES.names()]
    return ", ".join(endings[:-1]) + " or " + endings[-1] if len(endings) > 1 else "".join(endings)


def _from_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise DataError.single(
            source, "frame", "must be a pandas DataFrame", got=type(frame).__name__,
            hint="Pass frame=pd.DataFrame(...), or leave it out to use data.dataset / data.path.",
        )
    if frame.empty:
        raise DataError.single(
            source, "frame", "the DataFrame has no rows", got=f"{frame.shape[0]} rows x {frame.shape[1]} columns",
            hint="Pass a DataFrame with at least one row.",
        )
    table = frame.copy()
    table.columns = [str(column) for column in table.columns]
    return table

