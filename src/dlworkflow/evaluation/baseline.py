"""The :class:`Baseline` interface, the registry of baselines, and what they share.

A baseline is a simple predictor a network has to beat, with the same predict interface as a
model: fitted on the training part only, predicting 1-D float64 values (regression) or
``(rows, classes)`` probabilities (classification). Concrete baselines live in
:mod:`~dlworkflow.evaluation.classification_baselines` and
:mod:`~dlworkflow.evaluation.regression_baselines`; :mod:`~dlworkflow.evaluation.baselines`
fits and scores them.

Example:
    >>> @register_baseline("median", registry={})  # doctest: +SKIP
    ... class MedianBaseline(Baseline): ...
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, ClassVar, TypeVar

import numpy as np

from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.errors import DataError

if TYPE_CHECKING:
    from dlworkflow.spec.schema import EvaluateSpec

BaselineType = TypeVar("BaselineType", bound="Baseline")

MAX_BASELINE_VALUES = 50_000_000
"""The most input values (rows × features) a part may hold for a baseline that fits on the
inputs (``logistic_regression``, ``linear_regression``); above it the baseline is skipped.
Scaling copies the inputs, and 50 million values are 200 MB as float32."""

STREAMED_REASON = "images streamed from disk (no pixel array in memory to fit on)"
"""Why a baseline that needs the inputs is skipped for a dataset whose parts are streamed."""


class Baseline(ABC):
    """A simple predictor with the predict interface of a model.

    Subclasses set ``tasks`` (the tasks they apply to) and ``description``, implement
    :meth:`fit` and :meth:`predict`, and may override :meth:`from_dataset` to take settings
    from the dataset or the ``[evaluate]`` spec (or to opt out of a run by returning None),
    and :meth:`skip_reason` to leave out a run they cannot afford while saying why (the
    record lists it under ``baselines_skipped``). :func:`register_baseline` sets ``name``.

    Attributes:
        name: Registry name, e.g. ``majority_class``; shown in results tables.
        description: One sentence saying what the baseline predicts.
        tasks: The tasks it applies to: ``("classification",)``, ``("regression",)`` or both.

    Example:
        >>> @register_baseline("median")  # doctest: +SKIP
        ... class MedianBaseline(Baseline):
        ...     description = "Predicts the median of the training target."
        ...     tasks = ("regression",)
        ...     def fit(self, train):
        ...         self.median_ = float(np.median(train.labels))
        ...         return self
        ...     def predict(self, part):
        ...         return np.full(part.size, self.median_)
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_dataset(
        cls, dataset: Dataset, evaluate_spec: EvaluateSpec | None, source: str = "<spec>"
    ) -> Baseline | None:
        """Build this baseline for a dataset, or return None when it does not apply.

        The default builds ``cls()`` when the dataset's task is in ``tasks`` and returns
        None otherwise; override it to read settings (as the persistence baseline reads
        ``evaluate.persistence``).

        Args:
            dataset: The prepared, split dataset.
            evaluate_spec: The spec's ``[evaluate]`` section (None: all defaults).
            source: The spec's file name, for error messages.

        Returns:
            An unfitted baseline, or None to leave it out of this run.

        Raises:
            SpecError: When the spec's settings for this baseline cannot be used.
        """
        return cls() if dataset.task in cls.tasks else None

    def skip_reason(self, dataset: Dataset) -> str | None:
        """Why this baseline cannot run on a dataset of its task, or None when it can.

        The default is None (it always runs). A baseline that fits on the inputs returns a
        reason when the images are streamed from disk or a part is too large to hold; it
        is then left out of :func:`evaluate_baselines` and reported by
        :func:`skipped_baselines`. Cheap: it looks at shapes only.

        Args:
            dataset: The prepared, split dataset.

        Returns:
            A short phrase for the record (``"images streamed from disk ..."``), or None.

        Example:
            >>> LogisticRegressionBaseline(num_classes=2).skip_reason(folder_dataset)  # doctest: +SKIP
            'images streamed from disk (no pixel array in memory to fit on)'
        """
        return None

    @abstractmethod
    def fit(self, train: Part) -> Baseline:
        """Learn from the training part.

        Args:
            train: The training part (``x``, ``labels`` and the raw ``frame``).

        Returns:
            self.
        """

    @abstractmethod
    def predict(self, part: Part) -> np.ndarray:
        """Predict a part.

        Args:
            part: Any part of the dataset.

        Returns:
            1-D float64 values (regression) or float64 ``(rows, classes)`` probabilities
            (classification).
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


BASELINES: dict[str, type[Baseline]] = {}
"""The registry: baseline name → class, in the order baselines appear in reports."""


def register_baseline(
    name: str, *, registry: MutableMapping[str, type[Baseline]] | None = None
) -> Callable[[type[BaselineType]], type[BaselineType]]:
    """Class decorator: register a :class:`Baseline` subclass under ``name``.

    A registered baseline is fitted and scored in every run whose task is in its ``tasks``.

    Args:
        name: Registry name, shown in results tables.
        registry: The registry to add to (default: :data:`BASELINES`); tests pass their own.

    Returns:
        The decorator; it sets the class's ``name`` and returns the class unchanged otherwise.

    Raises:
        ValueError: When ``name`` is taken by another class, or the class is not a Baseline
            or declares no task.

    Example:
        >>> @register_baseline("median", registry={})
        ... class MedianBaseline(Baseline):
        ...     description = "Predicts the median of the training target."
        ...     tasks = ("regression",)
        ...     def fit(self, train):
        ...         self.median_ = float(np.median(train.labels))
        ...         return self
        ...     def predict(self, part):
        ...         return np.full(part.size, self.median_)
        >>> MedianBaseline.name
        'median'
    """
    target = BASELINES if registry is None else registry

    def decorate(cls: type[BaselineType]) -> type[BaselineType]:
        if not (isinstance(cls, type) and issubclass(cls, Baseline)):
            raise ValueError(
                f"register_baseline({name!r}): {cls!r} is not a Baseline subclass; "
                "subclass dlworkflow.evaluation.Baseline and implement fit() and predict()."
            )
        unknown = set(cls.tasks) - {"classification", "regression"}
        if not cls.tasks or unknown:
            raise ValueError(
                f"register_baseline({name!r}): {cls.__name__}.tasks must name 'classification' "
                f"and/or 'regression'; got {cls.tasks!r}."
            )
        existing = target.get(name)
        if existing is not None and _full_name(existing) != _full_name(cls):
            raise ValueError(
                f"register_baseline({name!r}): the name is taken by {_full_name(existing)}; "
                "choose another name."
            )
        cls.name = name
        target[name] = cls
        return cls

    return decorate


def _full_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def inputs_reason(dataset: Dataset, max_values: int) -> str | None:
    """Why the inputs cannot be fitted on: a streamed part, or a part above ``max_values`` values."""
    if any(part.streamed for part in dataset.parts.values()):
        return STREAMED_REASON
    for name, part in dataset.parts.items():
        values = int(part.x.size)  # type: ignore[union-attr]
        if values > max_values:
            return (
                f"the {name} part has {values:,} input values (rows × features), more than the "
                f"{max_values:,} a baseline holds in memory"
            )
    return None


def flat_inputs(part: Part) -> np.ndarray:
    """A part's inputs as ``(rows, features)``: image pixels flattened (a view, no copy)."""
    if part.x is None:
        raise DataError.single(
            f"{part.name} part",
            "x",
            "holds no inputs to fit on: its images are streamed from disk",
            hint="Skip this baseline for streamed images (baselines_for does), or use majority_class.",
        )
    return part.x.reshape(part.x.shape[0], -1)


def no_inputs(part: Part) -> np.ndarray:
    """One constant column per row: what a labels-only estimator is given as ``X``."""
    return np.zeros((part.size, 1), dtype=np.float32)
