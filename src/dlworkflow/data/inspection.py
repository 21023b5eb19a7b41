"""Inspection: what a spec's data holds and what the run will make of it, before any training.

The workshop's steps 2–3 ("identify inputs and outputs", "prepare data") as one typed result,
:class:`Inspection`, which ``dlw inspect SPEC`` prints and a notebook shows as a table. For a
table, per column: its role (feature, target, dropped, ...), its type (inferred by
:func:`~dlworkflow.data.column_types.column_profiles` or set in ``data.columns``), missing
share, distinct values, range or most frequent values, and what the encoding fitted on the
training rows makes of it (how many network inputs); the target's distribution in each part
of the split; and warnings — id-like and constant columns, target leakage candidates (a
feature equal or nearly equal to the target, or equal to it shifted by one row), and the
problem that would stop ``dlw run``, if any. For images: the image shape, the classes and their
counts per part.

Only the data is read: no model, no registry, no look at the test set is counted.

Example:
    >>> from dlworkflow.spec import validate_spec
    >>> inspection = inspect_data(validate_spec({"name": "penguins", "data": {"dataset": "penguins", "target": "species",
    ...     "drop": ["island", "sex"], "dropna": True}, "split": {"type": "stratified", "test": 0.2},
    ...     "model": {"layers": [{"type": "Dense", "units": 3}]}}))
    >>> inspection.inputs, [part.counts for part in inspection.parts]
    (4, [(121, 54, 98), (30, 14, 25)])
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.data.column_types import column_profiles
from dlworkflow.data.data_source import ImageSource
from dlworkflow.data.dataset import Dataset
from dlworkflow.data.pipeline import build_dataset
from dlworkflow.data.sources import choose_source, load_table
from dlworkflow.errors import DataError
from dlworkflow.formatting import BRIEF_DIGITS, format_number
from dlworkflow.spec.schema import Spec

LEAKAGE_CORRELATION = 0.99
"""A feature whose correlation with the target is above this (in absolute value) is a leakage candidate."""

LEAKAGE_AGREEMENT = 0.99
"""A feature equal to the target (or to its category's most frequent class) on this share of rows is a candidate."""

TOP_VALUES = 3
"""Most frequent values shown for a column that is not a number."""

ROLES = ("feature", "target", "order", "unselected", "dropped", "ignored")
"""What a column is to the run: an input, the target, the ``split.order_by`` column, left out by
``data.select``, removed by ``data.drop``, or typed ``ignore``."""


@dataclass(frozen=True)
class ColumnInspection:
    """One column of a table as the run will see it.

    Attributes:
        name: The column.
        role: One of :data:`ROLES`.
        type: Its column type (``number``, ``category``, ...).
        inferred: False when ``data.columns`` set the type.
        reason: Why it has that type (``"3 distinct strings"``).
        rows: Rows in the table.
        missing: Rows without a value.
        distinct: Distinct values (missing not counted).
        values: The range of a number or date (``"32.1 to 59.6"``), else the most frequent values.
        encoding: What the fitted encoding makes of a feature (``"one-hot of 3 values + other"``);
            empty for other roles, or when the data cannot be prepared.
        inputs: Network inputs the column becomes (0 when it is not a feature).

    Example:
        >>> column = ColumnInspection("sex", "feature", "category", True, "2 distinct strings", 344, 11, 2,
        ...                           "MALE (168), FEMALE (165)", "one-hot", 3)
        >>> round(column.missing_share, 3)
        0.032
    """

    name: str
    role: str
    type: str
    inferred: bool
    reason: str
    rows: int
    missing: int
    distinct: int
    values: str
    encoding: str = ""
    inputs: int = 0

    @property
    def missing_share(self) -> float:
        """Missing rows as a share of all rows (0 for an empty table)."""
        return self.missing / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class PartDistribution:
    """The target in one part of the split.

    Attributes:
        part: ``train``, ``validation`` or ``test``.
        rows: Rows in the part.
        counts: Rows per class, in :attr:`Inspection.class_names` order (classification), else None.
        mean, std, minimum, maximum: The target's statistics (regression), else None.

    Example:
        >>> PartDistribution("train", 3, counts=(2, 1)).counts
        (2, 1)
    """

    part: str
    rows: int
    counts: tuple[int, ...] | None = None
    mean: float | None = None
    std: float | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Inspection:
    """What a spec's data holds, per column and per part, and what to look at before training.

    Attributes:
        name: The spec's name.
        dataset: The data's short name (``penguins``, a file's stem).
        kind: ``table`` or ``images``.
        rows: Rows (or images) read.
        target: The target column (tables), or None.
        task: ``classification`` or ``regression``; None when the data cannot be prepared.
        class_names: Class labels (classification), else None.
        columns: Every column of a table, in table order; empty for images.
        parts: The target's distribution per part of the split; empty when the data cannot be prepared.
        inputs: Network inputs per row after encoding (tables), or None.
        image_shape: ``(height, width, channels)`` for images, else None.
        warnings: Things to look at, each a sentence (id-like, constant and leakage columns,
            and the data's own warnings).
        problem: The error ``dlw run`` would stop with, or None.
        render: Turns the inspection into HTML for a notebook (set by the API); not data.

    Example:
        >>> inspection = inspect_data(load_spec("examples/weather.toml"))  # doctest: +SKIP
        >>> inspection.inputs, inspection.to_dict()["parts"][0]["rows"]  # doctest: +SKIP
        (89, 767)
    """

    name: str
    dataset: str
    kind: str
    rows: int
    target: str | None
    task: str | None
    class_names: tuple[str, ...] | None = None
    columns: tuple[ColumnInspection, ...] = ()
    parts: tuple[PartDistribution, ...] = ()
    inputs: int | None = None
    image_shape: tuple[int, ...] | None = None
    warnings: tuple[str, ...] = ()
    problem: str | None = None
    render: Callable[[Inspection], str] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The inspection as JSON-ready data (``dlw inspect --json``).

        Example:
            >>> Inspection("demo", "dataframe", "table", 0, "y", None).to_dict()["kind"]
            'table'
        """
        data = {item.name: getattr(self, item.name) for item in fields(self) if item.name != "render"}
        data["columns"] = [{**asdict(column), "missing_share": column.missing_share} for column in self.columns]
        data["parts"] = [asdict(part) for part in self.parts]
        for key in ("class_names", "image_shape", "warnings"):
            data[key] = None if data[key] is None else list(data[key])
        return data

    def _repr_html_(self) -> str | None:
        """Jupyter shows an inspection as its warnings, a table of columns and the target per part."""
        return self.render(self) if self.render is not None else None


def reads_images(spec: Spec) -> bool:
    """Whether the spec's data source is images (which the caller builds, the Keras backend chosen).

    Example:
        >>> from dlworkflow.spec import validate_spec
        >>> digits = validate_spec({"name": "digits", "data": {"dataset": "mnist"},
        ...                         "model": {"layers": [{"type": "Dense", "units": 10}]}})
        >>> penguins = validate_spec({"name": "penguins", "data": {"dataset": "penguins", "target": "species"},
        ...                           "model": {"layers": [{"type": "Dense", "units": 3}]}})
        >>> reads_images(digits), reads_images(penguins)
        (True, False)
    """
    data_source, _ = choose_source(spec.data, source=spec.source)
    return isinstance(data_source, ImageSource)


def inspect_data(spec: Spec, *, frame: pd.DataFrame | None = None, images: Dataset | None = None) -> Inspection:
    """Inspect the data of a spec: its columns, the target per part, and what to look at.

    Args:
        spec: The validated spec.
        frame: A DataFrame to use instead of the spec's data source (Python API).
        images: The built dataset of an image source (see :func:`reads_images`).

    Returns:
        The inspection. A data problem that would stop the run (gaps without ``data.missing``) is reported in
        :attr:`Inspection.problem`, the columns still shown. A text column in ``sequence`` mode beside other
        columns is no problem (the model joins them at a ``Concatenate`` entry).

    Raises:
        SpecError: for a spec that names no usable data source, or more than one text column in ``sequence`` mode.
        DataError: when the data cannot be read at all.

    Example:
        >>> from dlworkflow.spec import validate_spec
        >>> weather = validate_spec({"name": "weather", "data": {"dataset": "weather", "target": "BASEL_sunshine",
        ...     "shift": -1, "drop": ["DATE", "MONTH"]}, "model": {"layers": [{"type": "Dense", "units": 1}]}})
        >>> inspect_data(weather).task
        'regression'
    """
    if images is not None:
        return _image_inspection(spec, images)
    table, name = load_table(spec.data, source=spec.source, frame=frame)
    try:
        dataset, problem = build_dataset(spec, frame=frame), None
    except DataError as error:
        dataset, problem = None, str(error)
    columns = _columns(spec, table, dataset)
    warnings = (*_column_warnings(columns), *_leakage_warnings(spec, table, columns))
    return Inspection(
        name=spec.name,
        dataset=name,
        kind="table",
        rows=len(table),
        target=spec.data.target,
        task=None if dataset is None else dataset.task,
        class_names=None if dataset is None else dataset.class_names,
        columns=columns,
        parts=() if dataset is None else _parts(dataset),
        inputs=None if dataset is None else sum(column.inputs for column in columns),
        warnings=(*warnings, *(() if dataset is None else dataset.warnings)),
        problem=problem,
    )


def _image_inspection(spec: Spec, dataset: Dataset) -> Inspection:
    return Inspection(
        name=spec.name,
        dataset=dataset.name,
        kind="images",
        rows=sum(dataset.sizes().values()),
        target=None,
        task=dataset.task,
        class_names=dataset.class_names,
        parts=_parts(dataset),
        image_shape=dataset.input_shape,
        warnings=dataset.warnings,
    )


def _parts(dataset: Dataset) -> tuple[PartDistribution, ...]:
    distributions = []
    for name, part in dataset.parts.items():
        labels = np.asarray(part.labels)
        if dataset.class_names is not None:
            counts = np.bincount(labels.astype(np.int64), minlength=len(dataset.class_names))
            distributions.append(PartDistribution(name, part.size, counts=tuple(int(count) for count in counts)))
        elif labels.size:
            distributions.append(PartDistribution(
                name, part.size, mean=float(labels.mean()), std=float(labels.std()),
                minimum=float(labels.min()), maximum=float(labels.max()),
            ))
        else:
            distributions.append(PartDistribution(name, 0))
    return tuple(distributions)


def _roles(spec: Spec, names: Sequence[str]) -> dict[str, str]:
    """Each column's role, by the rules of :func:`~dlworkflow.data.preparation.prepare_table`."""
    data = spec.data
    order_by = spec.split.order_by

    def matches(name: str, patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)

    roles = {}
    for name in names:
        if name == data.target and not data.shift:
            roles[name] = "target"
        elif matches(name, data.drop):
            roles[name] = "dropped"
        elif data.select and not matches(name, data.select):
            roles[name] = "unselected" if name != data.target else "target"
        elif name == order_by and not data.select:
            roles[name] = "order"
        else:
            roles[name] = "feature"
    return roles


def _columns(spec: Spec, table: pd.DataFrame, dataset: Dataset | None) -> tuple[ColumnInspection, ...]:
    names = [str(name) for name in table.columns]
    roles = _roles(spec, names)
    features = [name for name in names if roles[name] == "feature" and name != spec.data.target]
    others = [name for name in names if name not in features]
    profiles = {profile.name: profile for profile in column_profiles(table[others])}
    try:
        profiles.update({profile.name: profile for profile in column_profiles(
            table[features], spec.data.columns, source=spec.source, date_format=spec.data.date_format,
        )})
    except DataError:  # data.columns does not fit the table: the run's own error is the problem shown
        profiles.update({profile.name: profile for profile in column_profiles(table[features])})
    encodings = _encodings(spec, dataset)
    columns = []
    for name in names:
        profile = profiles[name]
        role = "ignored" if roles[name] == "feature" and profile.type == "ignore" else roles[name]
        description, inputs = encodings.get(name, ("", 0)) if role == "feature" else ("", 0)
        columns.append(ColumnInspection(
            name=name, role=role, type=profile.type, inferred=profile.inferred, reason=profile.reason,
            rows=profile.rows, missing=profile.missing, distinct=profile.distinct,
            values=_values(table[name], profile.type), encoding=description, inputs=inputs,
        ))
    return tuple(columns)


def _encodings(spec: Spec, dataset: Dataset | None) -> dict[str, tuple[str, int]]:
    """Feature → (what its encoding, fitted on the training rows, makes of it; network inputs)."""
    if dataset is None:
        return {}
    encoding = getattr(dataset.preprocessing, "encoding", None)
    if encoding is None:  # every feature a number without gaps: scaled, one input each
        scaled = "not scaled" if spec.data.scaling == "none" else f"scaling {spec.data.scaling!r}"
        return {name: (f"1 input, {scaled}", 1) for name in dataset.feature_names}
    described = {}
    for column in encoding.columns:  # "island: category, one-hot of 3 values + other (4 inputs)"
        what = column.describe().split(": ", 1)[-1].removeprefix(f"{column.type}, ").removeprefix(f"{column.type} ")
        described[column.name] = (what.strip("()") if what.startswith("(") else what, len(column.outputs))
    return described


def _values(column: pd.Series, kind: str) -> str:
    present = column.dropna()
    if present.empty:
        return "no values"
    if kind == "number" and pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present):
        low, high = present.min(), present.max()
        return format_number(low) if low == high else f"{format_number(low)} to {format_number(high)}"
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(present):
        return f"{present.min():%Y-%m-%d} to {present.max():%Y-%m-%d}"
    counts = present.astype(str).value_counts()
    shown = ", ".join(f"{value} ({count})" for value, count in counts.head(TOP_VALUES).items())
    return shown + (f", … {len(counts) - TOP_VALUES} more" if len(counts) > TOP_VALUES else "")


def _column_warnings(columns: Sequence[ColumnInspection]) -> tuple[str, ...]:
    warnings = []
    for column in columns:
        if column.role in ("dropped", "target", "unselected"):
            continue
        if column.type == "ignore" and column.inferred:
            warnings.append(f"column {column.name!r} is {column.reason}; type it in [data.columns] if it is a feature.")
        elif column.distinct <= 1:
            only = "no value" if column.distinct == 0 else f"one value ({column.values.split(' (')[0]})"
            warnings.append(f"column {column.name!r} has {only} on every row: it tells the model nothing; "
                            f"add it to data.drop.")
    return tuple(warnings)


def _leakage_warnings(spec: Spec, table: pd.DataFrame, columns: Sequence[ColumnInspection]) -> tuple[str, ...]:
    """Features equal or nearly equal to the (shifted) target, or equal to it one row earlier or later."""
    data = spec.data
    if data.target is None or data.target not in table.columns:
        return ()
    if spec.split.order_by is not None and spec.split.order_by in table.columns:
        table = table.sort_values(spec.split.order_by, kind="stable")
    target = table[data.target].shift(data.shift) if data.shift else table[data.target]
    numeric_target = _numbers(target)
    warnings = []
    for column in columns:
        if column.role != "feature" or column.name == data.target or column.distinct < 2:
            continue
        why = _leak(table[column.name], target, numeric_target)
        if why:
            warnings.append(
                f"column {column.name!r} {why} the target {data.target!r}"
                f"{f' (shifted by {data.shift})' if data.shift else ''}: a leakage candidate — if it is only "
                f"known after the target, add it to data.drop."
            )
    return tuple(warnings)


def _numbers(column: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        return None
    return column.astype(np.float64).replace([np.inf, -np.inf], np.nan)


def _leak(feature: pd.Series, target: pd.Series, numeric_target: pd.Series | None) -> str:
    numeric_feature = _numbers(feature)
    if numeric_feature is not None and numeric_target is not None:
        return _numeric_leak(numeric_feature.to_numpy(), numeric_target.to_numpy())
    for shift, said in ((0, "equals"), (1, "one row earlier equals"), (-1, "one row later equals")):
        moved = feature.shift(shift) if shift else feature
        both = moved.notna() & target.notna()
        if both.sum() >= 2 and _agreement(moved[both], target[both]) >= LEAKAGE_AGREEMENT:
            return said
    present = feature.notna() & target.notna()
    if numeric_target is None and 2 <= feature.nunique() < present.sum() / 2:  # a category that names the class
        grouped = target[present].astype(str).groupby(feature[present].astype(str))
        majority = grouped.agg(lambda values: values.value_counts().iloc[0]).sum()
        if majority / int(present.sum()) >= LEAKAGE_AGREEMENT:
            return "names the class (one class per value) of"
    return ""


def _numeric_leak(feature: np.ndarray, target: np.ndarray) -> str:
    """The same checks on two float arrays (NaN for a gap), without pandas per shift: the weather table's 89 columns."""
    for shift, said in ((0, "equals"), (1, "one row earlier equals"), (-1, "one row later equals")):
        moved = np.roll(feature, shift)
        if shift:
            moved[0 if shift > 0 else -1] = np.nan
        both = ~(np.isnan(moved) | np.isnan(target))
        if both.sum() >= 2 and np.isclose(moved[both], target[both]).mean() >= LEAKAGE_AGREEMENT:
            return said
    both = ~(np.isnan(feature) | np.isnan(target))
    if both.sum() > 2 and len(np.unique(target[both])) > 2 and np.std(feature[both]) > 0:
        correlation = float(np.corrcoef(feature[both], target[both])[0, 1])
        if abs(correlation) > LEAKAGE_CORRELATION:
            return f"is almost a copy (correlation {format_number(correlation, BRIEF_DIGITS)}) of"
    return ""


def _agreement(feature: pd.Series, target: pd.Series) -> float:
    numeric_feature, numeric_target = _numbers(feature), _numbers(target)
    if numeric_feature is not None and numeric_target is not None:
        same = np.isclose(numeric_feature.to_numpy(), numeric_target.to_numpy())
    else:
        same = feature.astype(str).to_numpy() == target.astype(str).to_numpy()
    return float(same.mean())
