"""The record of one run: everything the results table and ``dlw show`` know about it.

A :class:`RunRecord` is a frozen dataclass whose sections are small typed objects
(:mod:`dlworkflow.registry.record_sections`). :meth:`RunRecord.to_dict` gives the documented JSON shape of ``dlw show --json``
(an interface for scripts: its keys do not change), and :meth:`RunRecord.from_dict` reads
it back. Sections with fixed keys (``data``, ``split``, ``test_set``, ...) always carry all
of their keys; a missing value is ``None``. Keys added later (``baselines_skipped``,
``classes``, ``diagnosis``, ``study``, ``warnings``) come after all earlier ones, and a record written before them still reads.

Example:
    >>> record = RunRecord(id="20250101-120000-3f2a9c", name="dense-64", status="finished")
    >>> record.to_dict()["test_set"]
    {'name': None, 'fingerprint': None, 'looks': None, 'look': None}
    >>> RunRecord.from_dict(record.to_dict()) == record
    True
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import PurePath
from typing import Any

from dlworkflow.errors import RegistryError
from dlworkflow.registry.record_sections import (
    ArtifactList,
    DataSection,
    GitState,
    Headline,
    ParameterSection,
    Provenance,
    RecordedComment,
    RecordedDevice,
    RecordedFinding,
    Section,
    SplitSection,
    StudyRole,
    TestSetLook,
    TrainingSummary,
)

STATUSES = ("finished", "failed", "interrupted")
"""The values of ``RunRecord.status``."""

EMPTY_METRICS: dict[str, dict[str, float]] = {"train": {}, "validation": {}, "test": {}}
"""The metrics of a run that scored nothing: every part present, empty."""

_SECTION_TYPES: dict[str, type[Section]] = {
    "data": DataSection, "split": SplitSection, "test_set": TestSetLook, "params": ParameterSection,
    "primary": Headline, "training": TrainingSummary, "git": GitState, "artifacts": ArtifactList,
}
_OPTIONAL_SECTION_TYPES: dict[str, type[Section]] = {"study": StudyRole}
_SECTION_LIST_TYPES: dict[str, type[Section]] = {
    "comments": RecordedComment, "diagnosis": RecordedFinding, "devices": RecordedDevice,
}


def utc_now() -> str:
    """The current time as a record writes it: ISO 8601 in UTC, to the second.

    Example:
        >>> utc_now().endswith("+00:00")
        True
    """
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _metrics_factory() -> dict[str, dict[str, float]]:
    return copy.deepcopy(EMPTY_METRICS)


@dataclass(frozen=True)
class RunRecord:
    """Everything recorded about one run.

    The sections are typed (:mod:`dlworkflow.registry.record_sections`); given as dicts in
    their JSON shape they are read into their types. The record is frozen: build a changed
    copy with :meth:`replace`.

    Attributes:
        id: The run id (see ``Registry.new_run_id``).
        name: Model name (``spec.name``).
        description: Model description (``spec.description``).
        status: ``finished`` or ``failed``.
        created_at: When the run started, ISO 8601 in UTC.
        finished_at: When it ended, ISO 8601 in UTC, or None.
        spec: The resolved spec as a dict.
        spec_hash: Hash of the resolved spec.
        spec_file: The spec file the run came from, or None.
        data: :class:`DataSection` ``{name, fingerprint, task, target, features, class_names}``.
        split: :class:`SplitSection` ``{type, seed, train, validation, test}``.
        test_set: :class:`TestSetLook` ``{name, fingerprint, looks, look}``: ``looks`` is how often any run has been
            evaluated on this test set (the current total when read from the registry), ``look``
            is this run's ordinal look, None when it never evaluated on the test set.
        params: :class:`ParameterSection` ``{total, trainable, non_trainable, layers}``: parameter counts, and per
            layer ``{name, type, output_shape, parameters, formula, note}`` (how each count
            comes about; empty in records written before it existed).
        metrics: ``{train, validation, test}``, each ``{metric: value}``.
        baselines: ``{baseline name: {part: {metric: value}}}``.
        primary: :class:`Headline` ``{metric, value, baseline, baseline_value, skill}``: the headline result.
        training: :class:`TrainingSummary` ``{epochs_run, evaluated_epoch, best_epoch, stopped_early}``.
        git: :class:`GitState` ``{commit, dirty}`` (see :func:`dlworkflow.provenance.git_state`).
        backend: The Keras backend the run used, e.g. ``jax``.
        backend_requested: The backend its spec asked for (``train.backend``, or what ``auto``
            chose); another than ``backend`` when Keras was already imported with that one (a notebook).
        versions: ``{package: version}`` (see :func:`dlworkflow.provenance.package_versions`).
        seed: The seed the run used.
        timings: ``{stage: seconds}``, measured, each second counted in one stage
            (:mod:`dlworkflow.stage_clock`): ``imports`` (the data layer's libraries, Keras and its
            backend), ``read``, ``split``, ``encode``, ``fingerprint``, ``prepare`` (the rest of the
            data's preparation), ``build``, ``record`` (the header: versions, git state, devices),
            ``train``, ``evaluate`` (predictions and metrics), ``baselines``, ``write`` (model and data
            files), ``plots``, and ``total``, their sum. Records written before a stage existed lack it.
        artifacts: :class:`ArtifactList` ``{dir, files}``: the run folder and the file names in it.
        comments: :class:`RecordedComment` ``[{text, created_at}]``, oldest first.
        error: What went wrong for a failed run, else None.
        baselines_skipped: ``{baseline name: reason}`` for the baselines of the task that
            could not run (e.g. ``logistic_regression`` on images streamed from disk).
        classes: For classification, ``{names, confusion, per_class_accuracy}`` (see
            :func:`dlworkflow.evaluation.classes.class_report`): ``confusion[part]`` is the
            matrix (rows true, columns predicted classes), ``per_class_accuracy[part]`` maps
            each class name to its accuracy (None without rows). None for regression and
            for records written before it existed.
        diagnosis: :class:`RecordedFinding` list: what the curves and baselines say went wrong, ``[{kind, summary,
            evidence, remedies}]`` (see :func:`dlworkflow.evaluation.diagnosis.diagnose`);
            empty for a healthy run, a failed one and records written before it existed.
        study: :class:`StudyRole`: for a run made by ``dlw tune``, ``{name, trial, params, objective, role}``:
            ``role`` is ``trial`` (scored on validation only) or ``final`` (the best
            configuration trained once more and evaluated on test); None otherwise.
        warnings: What the data preparation warned about (e.g. test rows that repeat
            training rows), so the record, the report and the card keep it.
        devices: :class:`RecordedDevice` ``[{kind, name}]``: the devices the run trained on, as its
            backend named them (see :func:`dlworkflow.training.devices.visible_devices`); empty in
            records written before they were recorded.
        explanation: What ``dlw explain`` found last (``explanation.json``: the columns' permutation
            importances, the saliency maps or the word importances; see
            :mod:`dlworkflow.execution.explanation`), attached after the run; None until explained.

    Example:
        >>> record = RunRecord(id="r1", name="dense-64")
        >>> record.replace(status="failed", error="loss became NaN").status
        'failed'
    """

    id: str
    name: str
    description: str = ""
    status: str = "finished"
    created_at: str | None = None
    finished_at: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    spec_hash: str | None = None
    spec_file: str | None = None
    data: DataSection = field(default_factory=DataSection)
    split: SplitSection = field(default_factory=SplitSection)
    test_set: TestSetLook = field(default_factory=TestSetLook)
    params: ParameterSection = field(default_factory=ParameterSection)
    metrics: dict[str, dict[str, float]] = field(default_factory=_metrics_factory)
    baselines: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    primary: Headline = field(default_factory=Headline)
    training: TrainingSummary = field(default_factory=TrainingSummary)
    git: GitState = field(default_factory=GitState)
    backend: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    seed: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    artifacts: ArtifactList = field(default_factory=ArtifactList)
    comments: list[RecordedComment] = field(default_factory=list)
    error: str | None = None
    baselines_skipped: dict[str, str] = field(default_factory=dict)
    classes: dict[str, Any] | None = None
    diagnosis: list[RecordedFinding] = field(default_factory=list)
    study: StudyRole | None = None
    warnings: list[str] = field(default_factory=list)
    backend_requested: str | None = None
    devices: list[RecordedDevice] = field(default_factory=list)
    explanation: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        """Read sections given as dicts (the JSON shape) into their types."""
        for name, kind in _SECTION_TYPES.items():
            object.__setattr__(self, name, kind.coerce(getattr(self, name)))
        for name, kind in _OPTIONAL_SECTION_TYPES.items():
            value = getattr(self, name)
            object.__setattr__(self, name, None if value is None else kind.coerce(value))
        for name, kind in _SECTION_LIST_TYPES.items():
            object.__setattr__(self, name, [kind.coerce(entry) for entry in getattr(self, name) or []])
        if self.metrics is None:
            object.__setattr__(self, "metrics", _metrics_factory())
        else:
            object.__setattr__(self, "metrics", {**_metrics_factory(), **self.metrics})

    @property
    def provenance(self) -> Provenance:
        """Where the result came from: commit, backend, package versions and seed.

        Example:
            >>> RunRecord(id="r1", name="m", backend="jax", seed=0).provenance.backend
            'jax'
        """
        return Provenance(self.git, self.backend, dict(self.versions), self.seed, self.backend_requested,
                          list(self.devices) or None)

    def __getitem__(self, key: str) -> Any:
        """Read a top-level key as from ``to_dict()`` (``record["split"]["train"]``), for scripts written against it.

        Raises:
            KeyError: for a key that is not in the record.

        Example:
            >>> RunRecord(id="r1", name="m", split={"train": 767})["split"]["train"]
            767
        """
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        value = getattr(self, key)
        if isinstance(value, Section):
            return value.to_dict()
        if key in _SECTION_LIST_TYPES:
            return [entry.to_dict() for entry in value]
        return copy.deepcopy(value)

    def get(self, key: str, default: Any = None) -> Any:
        """Read a top-level key as from ``to_dict()``, ``default`` when the record has no such key.

        Example:
            >>> RunRecord(id="r1", name="m").get("study"), RunRecord(id="r1", name="m").get("unknown", 0)
            (None, 0)
        """
        return self[key] if key in self.__dataclass_fields__ else default

    def to_dict(self) -> dict[str, Any]:
        """Return the record as the JSON shape of ``dlw show --json`` (a deep copy).

        Returns:
            A dict with the keys ``id, name, description, status, created_at, finished_at,
            spec, spec_hash, spec_file, data, split, test_set, params, metrics, baselines,
            primary, training, git, backend, versions, seed, timings, artifacts, comments,
            error, baselines_skipped, classes, diagnosis, study, warnings, backend_requested, devices,
            explanation``, in this order; fixed-shape
            sections carry all of their keys.

        Example:
            >>> list(RunRecord(id="r1", name="m").to_dict())[:4]
            ['id', 'name', 'description', 'status']
        """
        out: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Section):
                value = value.to_dict()
            elif item.name in _SECTION_LIST_TYPES:
                value = [entry.to_dict() for entry in value]
            else:
                value = copy.deepcopy(value)
            out[item.name] = value
        return out

    def to_json(self, *, indent: int | None = None) -> str:
        """Return :meth:`to_dict` as JSON text.

        Numpy scalars and arrays, paths and datetimes are converted to plain JSON values;
        NaN and infinity are written as ``NaN``/``Infinity`` (Python's ``json`` reads them back).

        Args:
            indent: Passed to :func:`json.dumps`.

        Returns:
            The JSON text.

        Raises:
            RegistryError: If a value cannot be written as JSON.

        Example:
            >>> RunRecord(id="r1", name="m").to_json()[:23]
            '{"id": "r1", "name": "m'
        """
        try:
            return json.dumps(self.to_dict(), indent=indent, default=_json_default)
        except (TypeError, ValueError) as err:
            raise RegistryError.single(
                f"run {self.id!r}",
                "",
                f"the run record cannot be written as JSON ({err})",
                hint="Record only numbers, strings, lists and dicts (convert other objects first).",
            ) from err

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Build a record from the shape :meth:`to_dict` returns.

        Missing keys take their defaults and missing section keys are filled with None;
        unknown top-level keys are ignored, so records written by a newer version still read.

        Args:
            data: The dict (e.g. ``json.loads`` of ``dlw show --json``).

        Returns:
            The record.

        Raises:
            RegistryError: If ``data`` is not a dict or has no ``id``/``name``.

        Example:
            >>> RunRecord.from_dict({"id": "r1", "name": "m"}).status
            'finished'
        """
        if not isinstance(data, dict) or not data.get("id") or "name" not in data:
            raise RegistryError.single(
                "run record",
                "",
                "must be a dict with at least 'id' and 'name'",
                got=data if not isinstance(data, dict) else sorted(data),
                hint="Pass the dict RunRecord.to_dict() (or `dlw show --json`) returns.",
            )
        known = {item.name for item in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key in ("spec", "baselines", "versions", "timings", "baselines_skipped") and value is None:
                value = {}
            elif key in ("comments", "diagnosis", "warnings", "devices") and value is None:
                value = []
            values[key] = copy.deepcopy(value)
        return cls(**values)

    @classmethod
    def coerce(cls, value: RunRecord | dict[str, Any]) -> RunRecord:
        """The value as a record: a record is kept, a dict in the :meth:`to_dict` shape is read.

        Example:
            >>> RunRecord.coerce({"id": "r1", "name": "m"}).id
            'r1'
        """
        return value if isinstance(value, cls) else cls.from_dict(dict(value))

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        """Build a record from :meth:`to_json` text.

        Args:
            text: The JSON text.

        Returns:
            The record.

        Raises:
            RegistryError: If the text is not JSON or not a record.

        Example:
            >>> RunRecord.from_json('{"id": "r1", "name": "m"}').id
            'r1'
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise RegistryError.single(
                "run record", "", f"is not valid JSON ({err})", hint="Pass the text RunRecord.to_json() returns."
            ) from err
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> RunRecord:
        """Return a copy with some fields changed (the record itself is frozen).

        Args:
            **changes: Field names and their new values.

        Returns:
            The changed copy.

        Example:
            >>> RunRecord(id="r1", name="m").replace(name="n").name
            'n'
        """
        return dataclasses.replace(self, **changes)


def _json_default(value: Any) -> Any:
    """Convert the few non-JSON values a run produces (numpy, paths, dates, sets)."""
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable: {value!r}")


def finite_or_none(value: Any) -> float | None:
    """Return ``value`` as a float, or None when it is missing, not a number, NaN or infinite.

    Args:
        value: A metric value.

    Returns:
        The float, or None.

    Example:
        >>> finite_or_none(float("nan")) is None
        True
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
