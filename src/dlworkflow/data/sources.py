"""Where a table comes from: a built-in dataset, a CSV file, or a DataFrame.

The built-in datasets are a small registry keyed by the spec's ``data.dataset`` string; each
entry is a CSV file shipped inside the package and read with :mod:`importlib.resources`.
A CSV named by ``data.path`` is found with :func:`dlworkflow.data.home.locate`: relative to the
spec file's folder first (so a spec and its data can move together), then in the data home.

Example:
    >>> from dlworkflow.spec import DataSpec
    >>> table, name = load_table(DataSpec(dataset="penguins", target="species"), source="<spec>")
    >>> name, table.shape
    ('penguins', (344, 7))
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from dlworkflow.data.home import locate, resolve_path, spec_folder_text
from dlworkflow.data.keras_datasets import KERAS_IMAGE_DATASETS
from dlworkflow.errors import DataError, SpecError, suggestion
from dlworkflow.spec.schema import DataSpec

__all__ = [
    "BUILTIN_DATASETS", "FRAME_NAME", "dataset_names", "load_builtin", "load_table", "read_csv", "resolve_path",
]

BUILTIN_DATASETS: dict[str, str] = {
    "penguins": "penguins.csv",
    "weather": "weather_prediction_dataset_light.csv",
}
"""Built-in dataset name (``data.dataset``) → CSV file in ``dlworkflow/data/builtin/``."""

FRAME_NAME = "dataframe"
"""Dataset name used for a table passed from the Python API."""


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
        The table and a short dataset name: the built-in name, the CSV file's stem, or
        ``"dataframe"``.

    Raises:
        SpecError: when ``data.dataset`` is not a built-in dataset, or no source is given.
        DataError: when the CSV file is missing (naming every place looked), unreadable or empty.

    Example:
        >>> table, name = load_table(DataSpec(dataset="weather", target="BASEL_sunshine"), source="<spec>")
        >>> name, table.shape
        ('weather', (3654, 91))
    """
    if frame is not None:
        return _from_frame(frame, source), FRAME_NAME
    if data_spec.dataset is not None:
        return load_builtin(data_spec.dataset, source=source), data_spec.dataset
    if data_spec.path is not None:
        path = locate(data_spec.path, source=source)
        return read_csv(path, source=source), path.stem
    raise SpecError.single(
        source,
        "data",
        "no data source: give data.dataset or data.path",
        hint=f"Add dataset = 'penguins' (built-in: {', '.join(map(repr, dataset_names()))}) "
        "or path = 'my_table.csv' (or an .npz of images, or a folder of images) to the [data] table.",
    )


def load_builtin(name: str, *, source: str = "<spec>") -> pd.DataFrame:
    """Read a built-in dataset shipped with the package.

    Args:
        name: A key of :data:`BUILTIN_DATASETS`.
        source: The spec file, for error messages.

    Returns:
        The table.

    Raises:
        SpecError: at ``data.dataset`` when the name is unknown (with a suggestion).

    Example:
        >>> load_builtin("penguins").columns[0]
        'species'
    """
    if name not in BUILTIN_DATASETS:
        if name in KERAS_IMAGE_DATASETS:
            raise SpecError.single(
                source, "data.dataset", "is a Keras image set, not a table", got=name,
                hint="Build it with dlworkflow.data.build_dataset, which loads image sets.",
            )
        raise SpecError.single(
            source, "data.dataset", "unknown built-in dataset", got=name,
            hint=suggestion(name, dataset_names()) + " Or give data.path = 'file.csv' for your own table.",
        )
    resource = resources.files("dlworkflow.data").joinpath("builtin", BUILTIN_DATASETS[name])
    with resources.as_file(resource) as path:
        return read_csv(path, source=source)


def dataset_names() -> list[str]:
    """Every name ``data.dataset`` accepts: the built-in tables, then the Keras image sets.

    Returns:
        The names, tables first.

    Example:
        >>> dataset_names()
        ['penguins', 'weather', 'cifar10', 'mnist', 'fashion_mnist']
    """
    return [*BUILTIN_DATASETS, *KERAS_IMAGE_DATASETS]


def read_csv(path: str | Path, *, source: str = "<spec>") -> pd.DataFrame:
    """Read a CSV file, turning every failure into a :class:`DataError` at ``data.path``.

    Args:
        path: The CSV file.
        source: The spec file, for error messages.

    Returns:
        The table, with at least one row.

    Raises:
        DataError: when the file is missing, not UTF-8, not parseable as CSV, or empty.

    Example:
        >>> read_csv("table.csv", source="spec.toml")  # doctest: +SKIP
    """
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except FileNotFoundError as err:
        raise DataError.single(
            source, "data.path", f"CSV file not found: {str(path)!r}",
            hint=f"Check the file name; a relative data.path is read from {spec_folder_text(source)}.",
        ) from err
    except IsADirectoryError as err:
        raise DataError.single(
            source, "data.path", f"{str(path)!r} is a folder, not a CSV file",
            hint="Name the CSV file itself in data.path.",
        ) from err
    except UnicodeDecodeError as err:
        raise DataError.single(
            source, "data.path", f"cannot read {str(path)!r}: not UTF-8 text ({err.reason} at byte {err.start})",
            hint="Save the file as UTF-8 CSV (e.g. pandas: df.to_csv(path, index=False)).",
        ) from err
    except pd.errors.EmptyDataError as err:
        raise DataError.single(
            source, "data.path", f"CSV file {str(path)!r} is empty",
            hint="Give a CSV file with a header line and at least one row.",
        ) from err
    except (pd.errors.ParserError, OSError) as err:
        raise DataError.single(
            source, "data.path", f"cannot read {str(path)!r} as CSV ({_first_line(err)})",
            hint="Check that it is comma-separated with the same number of fields on every line.",
        ) from err
    if table.empty:
        raise DataError.single(
            source, "data.path", f"CSV file {str(path)!r} has no rows",
            got=f"{table.shape[0]} rows x {table.shape[1]} columns",
            hint="Give a CSV file with a header line and at least one row.",
        )
    return table


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


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
