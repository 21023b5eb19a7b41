"""The built-in tables: ``data.dataset = "penguins"`` or ``"weather"``, shipped inside the package.

Each is a CSV file in ``dlworkflow/data/builtin/``, read with :mod:`importlib.resources` and the
one CSV reader (:func:`dlworkflow.data.csv_file.read_csv`). To add one, put its CSV file there,
name it in :data:`BUILTIN_DATASETS`, and register the name in
:data:`dlworkflow.spec.registries.DATASETS` (pointing at :data:`BUILTIN_TABLE`).

Example:
    >>> load_builtin("penguins").shape
    (344, 7)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from dlworkflow.data.csv_file import read_csv
from dlworkflow.data.data_source import TableSource
from dlworkflow.errors import SpecError
from dlworkflow.spec.registries import DATASETS

BUILTIN_DATASETS: dict[str, str] = {
    "penguins": "penguins.csv",
    "weather": "weather_prediction_dataset_light.csv",
}
"""Built-in dataset name (``data.dataset``) → CSV file in ``dlworkflow/data/builtin/``."""


def load_builtin(name: str, *, source: str = "<spec>") -> pd.DataFrame:
    """Read a built-in dataset shipped with the package.

    Args:
        name: A key of :data:`BUILTIN_DATASETS`.
        source: The spec file, for error messages.

    Returns:
        The table.

    Raises:
        SpecError: at ``data.dataset`` when the name is not a built-in table (with a suggestion).

    Example:
        >>> load_builtin("penguins").columns[0]
        'species'
    """
    if name not in BUILTIN_DATASETS:
        if name in DATASETS:
            raise SpecError.single(
                source, "data.dataset", f"is a {DATASETS[name].label}, not a table", got=name,
                hint="Build it with dlworkflow.data.build_dataset, which loads image sets.",
            )
        raise SpecError.single(
            source, "data.dataset", "unknown built-in dataset", got=name,
            hint=DATASETS.hint(name) + " Or give data.path = 'file.csv' for your own table.",
        )
    resource = resources.files("dlworkflow.data").joinpath("builtin", BUILTIN_DATASETS[name])
    with resources.as_file(resource) as path:
        return read_csv(path, source=source, spec_path="data.dataset")


class BuiltinTable(TableSource):
    """``data.dataset = "penguins"``: a table shipped with the package (see :data:`BUILTIN_DATASETS`)."""

    label = "built-in table"

    def read_table(self, location: str | Path, *, source: str) -> pd.DataFrame:
        """Read the built-in table named ``location`` (see :func:`load_builtin`)."""
        return load_builtin(str(location), source=source)


BUILTIN_TABLE = BuiltinTable()
"""The source registered for each built-in table's name in :data:`dlworkflow.spec.registries.DATASETS`."""
