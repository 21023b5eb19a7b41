"""The typed sections of a run record: data, split, test-set look, parameters, headline, training, provenance.

Each section is a small frozen dataclass with ``to_dict``/``from_dict`` that writes exactly the
JSON of ``dlw show --json``: fixed keys always present (a missing value is ``None``), keys that
later versions added written only when the run has them, and keys this version does not know
kept as they were read (``extras``), so a record written by a newer dlworkflow survives a
read-modify-write by an older one.

Example:
    >>> split = SplitSection.from_dict({"type": "ordered", "seed": 0, "train": 767})
    >>> split.train, split.validation
    (767, None)
    >>> split.to_dict()
    {'type': 'ordered', 'seed': 0, 'train': 767, 'validation': None, 'test': None}
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

SectionT = TypeVar("SectionT", bound="Section")

OPTIONAL = {"optional": True}
"""Field metadata: the key is written only when its value is not None (a key added after version 1)."""


@dataclass(frozen=True)
class Section:
    """Base of the record's sections: JSON in and out, unknown keys kept.

    Subclasses declare their keys as dataclass fields, in output order. A field whose
    metadata is :data:`OPTIONAL` is left out of :meth:`to_dict` while it is None; a field
    typed as a section (``nested``) or a list of sections (``nested_list``) is converted
    both ways.

    Example:
        >>> GitState.from_dict({"commit": "3f2a9c0", "dirty": False, "branch": "main"}).to_dict()
        {'commit': '3f2a9c0', 'dirty': False, 'branch': 'main'}
    """

    extras: dict[str, Any] = field(default_factory=dict, repr=False, compare=True, kw_only=True)
    nested: ClassVar[dict[str, type[Section]]] = {}
    nested_list: ClassVar[dict[str, type[Section]]] = {}

    def to_dict(self) -> dict[str, Any]:
        """The section as plain JSON-compatible data (a deep copy).

        Returns:
            The fixed keys in order, the optional ones that are set, then the extras.
        """
        out: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            if item.name == "extras":
                continue
            value = getattr(self, item.name)
            if value is None and item.metadata.get("optional"):
                continue
            if isinstance(value, Section):
                value = value.to_dict()
            elif item.name in self.nested_list:
                value = [entry.to_dict() for entry in value]
            else:
                value = copy.deepcopy(value)
            out[item.name] = value
        out.update(copy.deepcopy(self.extras))
        return out

    @classmethod
    def from_dict(cls: type[SectionT], data: Mapping[str, Any] | None) -> SectionT:
        """Read a section from JSON data; missing keys take their defaults.

        Args:
            data: The section's dict, or None for an empty section.

        Returns:
            The section.
        """
        data = dict(data or {})
        known = {item.name for item in dataclasses.fields(cls) if item.name != "extras"}
        values: dict[str, Any] = {}
        for name in known & data.keys():
            value = copy.deepcopy(data[name])
            if name in cls.nested:
                value = cls.nested[name].from_dict(value)
            elif name in cls.nested_list:
                value = [cls.nested_list[name].from_dict(entry) for entry in value or []]
            values[name] = value
        extras = {key: copy.deepcopy(value) for key, value in data.items() if key not in known}
        return cls(**values, extras=extras)

    def keys(self) -> list[str]:
        """The section's JSON keys, so ``dict(section)`` and ``{**section}`` give its JSON shape.

        Returns:
            The keys :meth:`to_dict` writes.
        """
        return list(self.to_dict())

    def __getitem__(self, key: str) -> Any:
        """Read a key as from the JSON dict (``record.primary["value"]``), for scripts written against it.

        Raises:
            KeyError: for a key the section does not have.
        """
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Read a key as from the JSON dict, ``default`` when it is absent.

        Example:
            >>> Headline(metric="rmse").get("metric"), Headline().get("unknown", 0)
            ('rmse', 0)
        """
        return self.to_dict().get(key, default)

    @classmethod
    def coerce(cls: type[SectionT], value: SectionT | Mapping[str, Any] | None) -> SectionT:
        """The value as this section: a section is kept, a dict (or None) is read.

        Args:
            value: A section, a dict in its JSON shape, or None.

        Returns:
            The section.

        Example:
            >>> GitState.coerce({"commit": "abc"}).commit
            'abc'
        """
        return value if isinstance(value, cls) else cls.from_dict(value)


@dataclass(frozen=True)
class DataSection(Section):
    """What the run trained on: the source's name and fingerprint, the task, target and features.

    Example:
        >>> DataSection(name="weather", task="regression", target="BASEL_temp_mean").features
        []
    """

    name: str | None = None
    fingerprint: str | None = None
    task: str | None = None
    target: str | None = None
    features: list[str] = field(default_factory=list)
    class_names: list[str] | None = None


@dataclass(frozen=True)
class SplitSection(Section):
    """How the rows were split, and how many each part got.

    With ``[data.window]`` (keys written only then): ``window`` (its size), ``window_stride`` and
    ``time_ordered``: whether every training target row precedes every validation one and those
    every test one, checked on the rows used.

    Example:
        >>> SplitSection(type="ordered", train=767, validation=164, test=165).test
        165
    """

    type: str | None = None
    seed: int | None = None
    train: int | None = None
    validation: int | None = None
    test: int | None = None
    window: int | None = field(default=None, metadata=OPTIONAL)
    window_stride: int | None = field(default=None, metadata=OPTIONAL)
    time_ordered: bool | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class TestSetLook(Section):
    """The test set a run was scored on, and its look at it.

    Attributes:
        name: The test set's name in the results table.
        fingerprint: sha256 of its rows.
        looks: How often any run has been evaluated on it (the current total when read back).
        look: This run's ordinal look; None when the run never looked (a failed run, a trial).

    Example:
        >>> TestSetLook(name="weather-1f3a9c02", looks=3, look=2).look
        2
    """

    __test__ = False  # not a pytest test class, despite its name

    name: str | None = None
    fingerprint: str | None = None
    looks: int | None = None
    look: int | None = None


@dataclass(frozen=True)
class LayerParameters(Section):
    """One layer's parameter count and how it comes about.

    Example:
        >>> LayerParameters(name="dense", type="Dense", parameters=910, formula="90·10 + 10").parameters
        910
    """

    name: str | None = None
    type: str | None = None
    output_shape: str | None = None
    parameters: int | None = None
    formula: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ParameterSection(Section):
    """The model's parameter counts, in all and per layer.

    Example:
        >>> ParameterSection(total=83, trainable=83, non_trainable=0).layers
        []
    """

    total: int | None = None
    trainable: int | None = None
    non_trainable: int | None = None
    layers: list[LayerParameters] = field(default_factory=list)
    nested_list: ClassVar[dict[str, type[Section]]] = {"layers": LayerParameters}


@dataclass(frozen=True)
class Headline(Section):
    """The run's headline: its metric on the test set beside the best baseline, with the skill score.

    A tuning trial's headline is its objective on validation (no baseline).

    Example:
        >>> Headline(metric="rmse", value=3.1, baseline="persistence", baseline_value=3.88, skill=0.2).baseline
        'persistence'
    """

    metric: str | None = None
    value: float | None = None
    baseline: str | None = None
    baseline_value: float | None = None
    skill: float | None = None


@dataclass(frozen=True)
class TrainingSummary(Section):
    """What training did: epochs run, the epoch evaluated, early stopping, stages.

    ``stages``, ``trainable_parameters`` and ``steps_per_execution`` are written only when
    set (a run interrupted or failed before training ended has none); ``trained_on_logits``
    only when true: the gradient steps took the logits behind the last softmax or sigmoid
    (``from_logits=True``) while the saved model outputs probabilities; ``class_weight`` only
    with ``train.class_weight``: the weight of each class's training rows in the loss, by label.

    Example:
        >>> TrainingSummary(epochs_run=52, evaluated_epoch=42, best_epoch=42, stopped_early=True).to_dict()
        {'epochs_run': 52, 'evaluated_epoch': 42, 'best_epoch': 42, 'stopped_early': True}
    """

    epochs_run: int | None = None
    evaluated_epoch: int | None = None
    best_epoch: int | None = None
    stopped_early: bool | None = None
    stages: dict[str, int] | None = field(default=None, metadata=OPTIONAL)
    trainable_parameters: dict[str, int] | None = field(default=None, metadata=OPTIONAL)
    steps_per_execution: int | None = field(default=None, metadata=OPTIONAL)
    trained_on_logits: bool | None = field(default=None, metadata=OPTIONAL)
    class_weight: dict[str, float] | None = field(default=None, metadata=OPTIONAL)
    distribution: dict[str, Any] | None = field(default=None, metadata=OPTIONAL)  # train.distribution's devices
    fused_epoch: bool | None = field(default=None, metadata=OPTIONAL)  # batches run as one compiled scan (JAX)


@dataclass(frozen=True)
class GitState(Section):
    """The commit the run's code came from, and whether the work tree had uncommitted changes.

    Example:
        >>> GitState(commit="3f2a9c0", dirty=True).dirty
        True
    """

    commit: str | None = None
    dirty: bool | None = None


@dataclass(frozen=True)
class ArtifactList(Section):
    """The run folder and the files in it.

    Example:
        >>> ArtifactList(dir=".dlw/runs/r1", files=["model.keras"]).files
        ['model.keras']
    """

    dir: str | None = None
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StudyRole(Section):
    """For a run made by ``dlw tune``: its study, trial, values and role (``trial`` or ``final``).

    Example:
        >>> StudyRole(name="weather_tune", trial=3, params={"train.epochs": 5}, objective="val_loss",
        ...           role="trial").to_dict()["role"]
        'trial'
    """

    name: str | None = None
    trial: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    objective: str | None = None
    role: str | None = None
    objective_value: float | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class RecordedFinding(Section):
    """One diagnosis finding as the record keeps it: kind, summary, evidence, remedies.

    Example:
        >>> RecordedFinding(kind="overfitting", summary="validation loss rises").remedies
        []
    """

    kind: str | None = None
    summary: str | None = None
    evidence: str | None = None
    remedies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RecordedComment(Section):
    """A comment on a run (the COMMENTS column), with when it was written.

    Example:
        >>> RecordedComment(text="baseline beats it", created_at="2026-12-07T13:00:00+00:00").text
        'baseline beats it'
    """

    text: str | None = None
    created_at: str | None = None


@dataclass(frozen=True)
class RecordedDevice(Section):
    """One device a run trained on, as its Keras backend named it.

    Example:
        >>> RecordedDevice.from_dict({"kind": "gpu", "name": "cuda:0 NVIDIA H100 80GB HBM3"}).to_dict()
        {'kind': 'gpu', 'name': 'cuda:0 NVIDIA H100 80GB HBM3'}
    """

    kind: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Provenance:
    """Where a run's result came from: code commit, backend, package versions and seed.

    A view of the record's top-level ``git``, ``backend``, ``versions``, ``seed`` and
    ``backend_requested`` keys: ``backend`` is the one the run used, ``backend_requested`` the
    one the spec asked for (they differ in a process where Keras was already imported with
    another backend, a notebook); ``devices`` the devices it trained on (None in records
    written before they were recorded).

    Example:
        >>> Provenance(GitState(commit="3f2a9c0"), "jax", {"keras": "3.15.1"}, 0, "tensorflow").backend_requested
        'tensorflow'
    """

    git: GitState
    backend: str | None
    versions: dict[str, str]
    seed: int | None
    backend_requested: str | None = None
    devices: list[RecordedDevice] | None = None
