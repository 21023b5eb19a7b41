"""The one data pipeline: load → prepare → split → scale → fingerprint, for every dataset.

A dataset is a spec entry, never a new module: :func:`build_dataset` runs the same steps
for the built-in tables, a CSV file or a DataFrame from the Python API. Image data takes
the same steps in its own form, chosen by what the spec names:

* a DataFrame, a built-in table or a CSV file → a table (:mod:`.preparation`);
* a Keras image set (``data.dataset = "cifar10"``) or an ``.npz`` file → image arrays
  (:mod:`.keras_datasets`, :mod:`.image_arrays`);
* a folder → a folder of images, one sub-folder per class, streamed (:mod:`.image_folder`).

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
from dlworkflow.data.home import locate
from dlworkflow.data.image_arrays import build_array_dataset, read_image_arrays
from dlworkflow.data.image_folder import build_folder_dataset, scan_image_folder
from dlworkflow.data.keras_datasets import KERAS_IMAGE_DATASETS, load_keras_dataset
from dlworkflow.data.preparation import PreparedTable, prepare_table
from dlworkflow.data.scaling import SCALING_METHODS, Scaler
from dlworkflow.data.sources import load_table
from dlworkflow.data.split import duplicated_rows_warnings, split_rows
from dlworkflow.errors import Problem, SpecError
from dlworkflow.spec.schema import Spec

ARRAY_SUFFIX = ".npz"
"""A ``data.path`` with this ending is read as image arrays."""


def build_dataset(spec: Spec, *, frame: pd.DataFrame | None = None) -> Dataset:
    """Load, prepare, split and scale the data a spec describes.

    Image data (a Keras image set, an ``.npz`` file or a folder of class sub-folders) is
    dispatched to :func:`~dlworkflow.data.image_arrays.build_array_dataset` or
    :func:`~dlworkflow.data.image_folder.build_folder_dataset`. For a table the steps are
    :func:`~dlworkflow.data.sources.load_table` (built-in, CSV or ``frame``),
    :func:`~dlworkflow.data.preparation.prepare_table` (drop, shift, rows, dropna, select,
    encode), :func:`~dlworkflow.data.split.split_rows` (``split.type``), a
    :class:`~dlworkflow.data.scaling.Scaler` fitted on the training rows only, the
    fingerprints of the prepared table and of the test rows, and a warning when test (or
    validation) rows repeat training rows (:func:`~dlworkflow.data.split.duplicated_rows_warnings`).

    Args:
        spec: The validated spec; ``spec.source`` names the file in error messages and is
            the first base of a relative ``data.path`` (the data home is the second).
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
    if frame is None:
        if spec.data.dataset in KERAS_IMAGE_DATASETS:
            return build_array_dataset(load_keras_dataset(spec.data.dataset, source=spec.source), spec)
        if spec.data.path is not None:
            path = locate(spec.data.path, source=spec.source)
            if path.is_dir():
                return build_folder_dataset(scan_image_folder(path, source=spec.source), spec)
            if path.suffix.lower() == ARRAY_SUFFIX:
                return build_array_dataset(read_image_arrays(path, source=spec.source), spec)
    return _table_dataset(spec, frame)


def _table_dataset(spec: Spec, frame: pd.DataFrame | None) -> Dataset:
    source = spec.source
    _check_table_spec(spec)
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
        warnings=duplicated_rows_warnings(prepared.features, prepared.target, positions, source=source),
    )


def _check_table_spec(spec: Spec) -> None:
    """Image settings given for a table: report them all, before the table is read."""
    source, data = spec.source, spec.data
    problems = []
    if data.image_size is not None:
        problems.append(Problem(
            source, "data.image_size", "applies to images only, not to a table", got=list(data.image_size),
            hint="Remove data.image_size from the [data] table.",
        ))
    if data.scaling not in SCALING_METHODS:
        problems.append(Problem(
            source, "data.scaling", "'pixels' (divide by 255) applies to images only", got=data.scaling,
            hint=f"Use one of {', '.join(map(repr, SCALING_METHODS))} for a table, e.g. 'standardize'.",
        ))
    if problems:
        raise SpecError(problems)


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
