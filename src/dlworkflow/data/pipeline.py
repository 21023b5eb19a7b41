"""The one data pipeline: load → prepare → split → scale → fingerprint, for every dataset.

A dataset is a spec entry, never a new module: :func:`build_dataset` runs the same steps
for every table — a built-in one, a CSV or Parquet file, a DataFrame from the Python API.
The source is chosen by the open registries of :mod:`dlworkflow.spec.registries`
(:func:`~dlworkflow.data.sources.choose_source`): by ``data.dataset`` name, by the ending of
the ``data.path`` file, or the image folder source for a folder. A table source
(:class:`~dlworkflow.data.data_source.TableSource`) returns the table and the steps below
prepare it; an image source (:class:`~dlworkflow.data.data_source.ImageSource`: an ``.npz``
file, a folder of images, a Keras image set) builds its dataset itself, taking the same steps
in its own form.

Example:
    >>> from dlworkflow.spec import load_spec
    >>> dataset = build_dataset(load_spec("examples/weather.toml"))  # doctest: +SKIP
    >>> dataset.sizes()  # doctest: +SKIP
    {'train': 767, 'validation': 164, 'test': 165}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlworkflow.data.column_encoding import TableEncoding
from dlworkflow.data.data_source import ImageSource
from dlworkflow.data.dataset import PART_NAMES, Dataset, Part
from dlworkflow.data.fingerprint import table_fingerprint
from dlworkflow.data.preparation import PreparedTable, prepare_table
from dlworkflow.data.preprocessing import TablePreprocessing, TableScaling
from dlworkflow.data.scaling import SCALING_METHODS, Scaler, table_methods
from dlworkflow.data.sources import choose_source, load_table
from dlworkflow.data.split import split_rows, split_warnings
from dlworkflow.data.target_scaling import (
    TargetScaling,
    check_target_scaling,
    target_spread_notes,
)
from dlworkflow.data.text_encoding import TextOptions, check_vector_memory
from dlworkflow.data.time_order import ordering_column, time_order_warnings
from dlworkflow.data.windows import Windows, make_windows
from dlworkflow.errors import Problem, SpecError
from dlworkflow.spec.schema import Spec
from dlworkflow.stage_clock import stage

MOSTLY_MISSING = 0.5
"""Share of training rows above which an imputed column is called mostly missing."""


def build_dataset(spec: Spec, *, frame: pd.DataFrame | None = None) -> Dataset:
    """Load, prepare, split and scale the data a spec describes.

    Image data (a Keras image set, an ``.npz`` file or a folder of class sub-folders) is
    built by its image source (:func:`~dlworkflow.data.image_arrays.build_array_dataset`,
    :func:`~dlworkflow.data.image_folder.build_folder_dataset`). For a table the steps are
    :func:`~dlworkflow.data.sources.load_table` (built-in, CSV, Parquet or ``frame``),
    :func:`~dlworkflow.data.preparation.prepare_table` (drop, shift, rows, dropna, select,
    encode), :func:`~dlworkflow.data.split.split_rows` (``split.type``), a
    :class:`~dlworkflow.data.scaling.Scaler` fitted on the training rows only, the
    fingerprints of the prepared table and of the test rows, and a warning when test (or
    validation) rows repeat training rows, or a part is small (:func:`~dlworkflow.data.split.split_warnings`).

    Args:
        spec: The validated spec; ``spec.source`` names the file in error messages and is
            the first base of a relative ``data.path`` (the data home is the second).
        frame: A table to use instead of ``data.dataset`` / ``data.path`` (Python API).

    Returns:
        The dataset: network-ready arrays per part, the raw rows they came from, and the
        fitted preprocessing (:class:`~dlworkflow.data.preprocessing.TablePreprocessing`).

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
    if frame is not None:
        _check_table_spec(spec)
        return _table_dataset(spec, *load_table(spec.data, source=spec.source, frame=frame))
    data_source, location = choose_source(spec.data, source=spec.source)
    if isinstance(data_source, ImageSource):
        check_target_scaling(spec.data.target_scaling, "classification", source=spec.source)
        return data_source.build_dataset(location, spec)
    _check_table_spec(spec)
    table = data_source.read_table(location, source=spec.source)
    return _table_dataset(spec, table, data_source.dataset_name(location))


def _table_dataset(spec: Spec, table: pd.DataFrame, name: str) -> Dataset:
    source = spec.source
    prepared = prepare_table(
        table, spec.data, source=source, table_name=name, persistence=spec.evaluate.persistence,
        order_by=ordering_column(spec.split, source=source),
    )
    with stage("split"):
        positions = split_rows(spec.split, prepared.y, task=prepared.task, class_names=prepared.class_names,
                               source=source)
    with stage("encode"):
        encoding = TableEncoding.fit(
            prepared.features.iloc[positions["train"]], prepared.profiles, missing=spec.data.missing_rows,
            max_onehot=spec.data.max_onehot, date_format=spec.data.date_format,
            text=TextOptions.from_spec(spec.data.text), source=source,
        )
        check_vector_memory(encoding.columns, len(prepared.features), source=source)
        encoded = encoding.transform(prepared.features, source=source).values
        scaler = Scaler(spec.data.scaling).fit(encoded.iloc[positions["train"]], keep=encoding.unscaled)
    check_target_scaling(spec.data.target_scaling, prepared.task, source=source)
    training_target = prepared.labels[positions["train"]]
    target_scaling = TargetScaling.fit(spec.data.target_scaling, training_target)
    windows = Windows.from_spec(spec.data.window)
    windowed = None if windows is None else windows.split(positions, source=source)
    positions = positions if windowed is None else dict(windowed.positions)  # the target rows with a whole window
    parts = {
        part: _part(part, prepared, encoded, rows, scaler, target_scaling, windows)
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
        preprocessing=_preprocessing(spec, prepared, scaler, target_scaling, encoding),
        fingerprint=table_fingerprint(prepared.features, prepared.target),
        test_fingerprint=table_fingerprint(prepared.features.iloc[test_rows], prepared.target.iloc[test_rows]),
        warnings=(*split_warnings(prepared.features, prepared.target, positions, source=source),
                  *time_order_warnings(spec.split, shift=spec.data.shift, persistence=spec.evaluate.persistence,
                                       source=source),
                  *target_spread_notes(prepared.task, training_target, spec.data.target_scaling, source=source),
                  *prepared.notes, *imputation_notes(encoding, prepared.features, positions, source=source),
                  *(() if windowed is None else windowed.windows.notes(windowed, source=source))),
        window=windowed,
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
            source, "data.scaling", "unknown scaling method", got=data.scaling, hint=SCALING_METHODS.hint(data.scaling),
        ))
    elif not SCALING_METHODS[data.scaling].for_tables:
        method = SCALING_METHODS[data.scaling]
        problems.append(Problem(
            source, "data.scaling", f"{data.scaling!r} ({method.description}) applies to images only", got=data.scaling,
            hint=f"Use one of {', '.join(map(repr, table_methods()))} for a table, e.g. 'standardize'.",
        ))
    if problems:
        raise SpecError(problems)


def _part(
    name: str, prepared: PreparedTable, encoded: pd.DataFrame, rows: np.ndarray, scaler: Scaler, target: TargetScaling,
    windows: Windows | None = None,
) -> Part:
    return Part(
        name=name,
        x=scaler.transform(encoded.iloc[rows]) if windows is None else make_windows(  # the scaled past of each row
            scaler.transform(encoded), rows, windows.size, windows.stride),
        y=np.ascontiguousarray(prepared.y[rows]) if target.is_identity else target.transform(prepared.labels[rows]),
        labels=np.ascontiguousarray(prepared.labels[rows]),
        frame=prepared.frame.iloc[rows],
    )


def imputation_notes(
    encoding: TableEncoding, features: pd.DataFrame, positions: dict[str, np.ndarray], *, source: str = "<spec>"
) -> tuple[str, ...]:
    """What ``data.missing = "impute"`` did: one line for every imputed column, and one per mostly empty column.

    The first line names each column with its gaps (over all parts) and the value of the training
    rows that filled them. A column missing in more than :data:`MOSTLY_MISSING` of the training
    rows gets a line of its own: its fill value says little, its ``<column>_missing`` indicator
    carries what there is, and ignoring it may be better.

    Example:
        >>> from dlworkflow.data.column_types import column_profiles
        >>> frame = pd.DataFrame({"a": [1.0, None, 3.0, None], "b": [None, None, 2.0, 1.0]})
        >>> encoding = TableEncoding.fit(frame.iloc[:3], column_profiles(frame), missing="impute")
        >>> for note in imputation_notes(encoding, frame, {"train": np.arange(3), "test": np.array([3])}):
        ...     print(note)
        <spec>: data.missing: 'impute' filled 4 gaps in 2 columns with values of the training rows (and a <column>_missing indicator where the training rows had gaps): a 2 (2), b 2 (2)
        <spec>: data.missing: b is missing in 2 of 3 training rows (67%): its filled value says little and b_missing carries what there is; consider data.columns.b = 'ignore'.
    """
    filled = [column for column in encoding.columns if column.fill is not None]
    if not filled:
        return ()
    counts = {part: encoding.transform(features.iloc[rows], source=source).imputed for part, rows in positions.items()}
    described, total, mostly_missing = [], 0, []
    for column in filled:
        gaps = sum(counts[part].get(column.name, 0) for part in positions)
        if not gaps:
            continue
        total += gaps
        fill = f"{column.fill:.6g}" if isinstance(column.fill, float) else repr(column.fill)
        described.append(f"{column.name} {gaps:,} ({fill})")
        training_rows = len(positions["train"])
        in_training = counts["train"].get(column.name, 0)
        if training_rows and in_training / training_rows > MOSTLY_MISSING:
            mostly_missing.append(
                f"{source}: data.missing: {column.name} is missing in {in_training:,} of {training_rows:,} training rows "
                f"({in_training / training_rows:.0%}): its filled value says little and {column.name}_missing carries "
                f"what there is; consider data.columns.{column.name} = 'ignore'."
            )
    if not described:
        return ()
    plural = "s" if len(described) > 1 else ""
    summary = (f"{source}: data.missing: 'impute' filled {total:,} gap{'s' if total > 1 else ''} in {len(described)} "
               f"column{plural} with values of the training rows (and a <column>_missing indicator where the training "
               "rows had gaps): "
               + ", ".join(described))
    return (summary, *mostly_missing)


def _preprocessing(
    spec: Spec, prepared: PreparedTable, scaler: Scaler, target: TargetScaling, encoding: TableEncoding
) -> TablePreprocessing:
    return TablePreprocessing(
        feature_names=tuple(prepared.feature_names),
        target=spec.data.target,
        shift=spec.data.shift,
        task=prepared.task,
        target_encoding=prepared.target_encoding,
        class_names=None if prepared.class_names is None else tuple(prepared.class_names),
        scaling=TableScaling.from_scaler(scaler),
        target_scaling=target,
        encoding=None if encoding.is_plain else encoding,
        window=Windows.from_spec(spec.data.window),
    )
