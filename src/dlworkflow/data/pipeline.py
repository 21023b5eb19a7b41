"""The one data pipeline: load → prepare → split → scale → fingerprint, for every dataset.

A dataset is a spec entry, never a new module: :func:`build_dataset` runs the same steps
for the built-in tables, a CSV file or a DataFrame from the Python API.

Example:
    >>> from dlworkflow.spec import load_spec
    >>> dataset = build_dataset(load_spec("examples/weather.toml"))  # doctest: +SKIP
    >>> dataset.sizes()  # doctest: +SKIP
    {'train': 767, 'validation': 164, 'test': 165}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.data.dataset import PART_NAMES, Dataset, Part
from dlworkflow.data.fingerprint import table_fingerprint
from dlworkflow.data.preparation import PreparedTable, prepare_table
from dlworkflow.data.scaling import Scaler
from dlworkflow.data.sources import load_table
from dlworkflow.data.split import split_rows
from dlworkflow.spec.schema import Spec


def build_dataset(spec: Spec, *, frame: pd.DataFrame | None = None) -> Dataset:
    """Load, prepare, split and scale the data a spec describes.

    Steps: :func:`~dlworkflow.data.sources.load_table` (built-in, CSV or ``frame``),
    :func:`~dlworkflow.data.preparation.prepare_table` (drop, shift, rows, dropna, select,
    encode), :func:`~dlworkflow.data.split.split_rows` (``split.type``), a
    :class:`~dlworkflow.data.scaling.Scaler` fitted on the training rows only, and the
    fingerprints of the prepared table and of the test rows.

    Args:
        spec: The validated spec; ``spec.source`` names the file in error messages and is
            the base of a relative ``data.path``.
        frame: A table to use instead of ``data.dataset`` / ``data.path`` (Python API).

    Returns:
        The dataset: network-ready arrays per part, the raw rows they came from, and the
        preprocessing as JSON-compatible data.

    Raises:
        SpecError: for a spec that cannot apply to any data (unknown dataset, stratified
            regression, no data source).
        DataError: for data that cannot be used as the spec asks (see the modules above).

    Example:
        >>> from dlworkflow.spec import validate_spec
        >>> spec = validate_spec({
        ...     "name": "penguins",
        ...     "data": {"dataset": "penguins", "target": "species", "drop": ["island", "sex"], "dropna": True},
        ...     "split": {"type": "stratified", "test": 0.2},
        ...     "model": {"layers": [{"type": "Dense", "units": 3}]},
        ... })
        >>> dataset = build_dataset(spec)
        >>> dataset.sizes(), dataset.class_names
        ({'train': 273, 'validation': 0, 'test': 69}, ('Adelie', 'Chinstrap', 'Gentoo'))
    """
    source = spec.source
    table, name = load_table(spec.data, source=source, frame=frame)
    prepared = prepare_table(
        table, spec.data, source=source, table_name=name, persistence=spec.evaluate.persistence
    )
    positions = split_rows(
        spec.split, prepared.y, task=prepared.task, class_names=prepared.class_names, source=source
    )
    scaler = Scaler(spec.data.scaling).fit(prepared.features.iloc[positions["train"]])
    parts = {
        part: _part(part, prepared, rows, scaler)
        for part, rows in sorted(positions.items(), key=lambda item: PART_NAMES.index(item[0]))
    }
    test_rows = positions["test"]
    return Dataset(
        name=name,
        task=prepared.task,
        target=spec.data.target,
        feature_names=prepared.feature_names,
        class_names=prepared.class_names,
        target_encoding=prepared.target_encoding,
        parts=parts,
        preprocessing=_preprocessing(spec, prepared, scaler),
        fingerprint=table_fingerprint(prepared.features, prepared.target),
        test_fingerprint=table_fingerprint(prepared.features.iloc[test_rows], prepared.target.iloc[test_rows]),
    )


def _part(name: str, prepared: PreparedTable, rows: np.ndarray, scaler: Scaler) -> Part:
    return Part(
        name=name,
        x=scaler.transform(prepared.features.iloc[rows]),
        y=np.ascontiguousarray(prepared.y[rows]),
        labels=np.ascontiguousarray(prepared.labels[rows]),
        frame=prepared.frame.iloc[rows],
    )


def _preprocessing(spec: Spec, prepared: PreparedTable, scaler: Scaler) -> dict[str, Any]:
    return {
        "feature_names": list(prepared.feature_names),
        "target": spec.data.target,
        "shift": spec.data.shift,
        "task": prepared.task,
        "target_encoding": prepared.target_encoding,
        "class_names": None if prepared.class_names is None else list(prepared.class_names),
        "scaling": scaler.to_dict(),
    }
