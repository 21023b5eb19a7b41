"""Baselines: simple predictors a network has to beat, with the same predict interface as a model.

A baseline is fitted on the training part only and predicts arrays shaped like a model's
predictions: 1-D float64 values for regression, ``(rows, classes)`` probabilities for
classification. So every baseline is scored by the very same
:func:`~dlworkflow.evaluation.metrics.score` call as the network (after scikit-learn's
``sklearn/dummy.py``).

Built in:

* classification: ``majority_class`` (always the most frequent training class) and
  ``logistic_regression`` (a linear model on the same features);
* regression: ``mean`` (always the training mean), ``linear_regression`` and
  ``persistence`` ("tomorrow = today": the current value of ``evaluate.persistence``,
  as in the lesson's weather example).

The registry is open: decorate a :class:`Baseline` subclass with
:func:`register_baseline` and it joins every run of its task.

Example:
    >>> results = evaluate_baselines(dataset, spec.evaluate)  # doctest: +SKIP
    >>> results["persistence"]["test"]["rmse"]  # doctest: +SKIP
    3.877323350410224
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, ClassVar, TypeVar

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from dlworkflow.data.dataset import PART_NAMES, Dataset, Part
from dlworkflow.errors import DataError, SpecError, suggestion
from dlworkflow.evaluation.metrics import score

if TYPE_CHECKING:
    from dlworkflow.spec.schema import EvaluateSpec

BaselineType = TypeVar("BaselineType", bound="Baseline")


class Baseline(ABC):
    """A simple predictor with the predict interface of a model.

    Subclasses set ``tasks`` (the tasks they apply to) and ``description``, implement
    :meth:`fit` and :meth:`predict`, and may override :meth:`from_dataset` to take settings
    from the dataset or the ``[evaluate]`` spec (or to opt out of a run by returning None).
    :func:`register_baseline` sets ``name``.

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


def _expand_columns(probabilities: np.ndarray, classes: np.ndarray, num_classes: int) -> np.ndarray:
    """Place an estimator's probability columns (for the classes it saw) into ``num_classes`` columns."""
    full = np.zeros((probabilities.shape[0], num_classes), dtype=np.float64)
    full[:, np.asarray(classes, dtype=np.int64)] = probabilities
    return full


class _ClassificationBaseline(Baseline):
    """Shared parts of the classification baselines: the number of classes and the column layout."""

    tasks: ClassVar[tuple[str, ...]] = ("classification",)

    def __init__(self, num_classes: int | None = None):
        self.num_classes = num_classes
        self.estimator_: DummyClassifier | Pipeline | None = None
        self.num_classes_: int | None = None

    @classmethod
    def from_dataset(
        cls, dataset: Dataset, evaluate_spec: EvaluateSpec | None, source: str = "<spec>"
    ) -> Baseline | None:
        if dataset.task not in cls.tasks:
            return None
        return cls(num_classes=dataset.output_units)

    def _start_fit(self, train: Part) -> np.ndarray:
        labels = np.asarray(train.labels).astype(np.int64)
        self.num_classes_ = int(labels.max()) + 1 if self.num_classes is None else int(self.num_classes)
        return labels

    def _estimator(self) -> DummyClassifier | Pipeline:
        if self.estimator_ is None or self.num_classes_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(train) first.")
        return self.estimator_

    def predict(self, part: Part) -> np.ndarray:
        estimator = self._estimator()
        probabilities = estimator.predict_proba(part.x)
        return _expand_columns(probabilities, estimator.classes_, self.num_classes_)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_classes={self.num_classes!r})"


@register_baseline("majority_class")
class MajorityClassBaseline(_ClassificationBaseline):
    """Always predicts the most frequent class of the training part.

    Its accuracy on a split is the share of that class there: the floor any classifier
    has to clear on imbalanced data. Its probabilities are the training class shares
    (scikit-learn's ``prior`` strategy), so its log loss is meaningful too.

    Args:
        num_classes: Number of classes (the probability columns); defaults to the largest
            training label plus one.

    Example:
        >>> baseline = MajorityClassBaseline(num_classes=3).fit(dataset.train)  # doctest: +SKIP
        >>> baseline.predict(dataset.test).shape  # doctest: +SKIP
        (12, 3)
    """

    description = "Always predicts the most frequent class of the training set."

    def fit(self, train: Part) -> MajorityClassBaseline:
        labels = self._start_fit(train)
        self.estimator_ = DummyClassifier(strategy="prior").fit(train.x, labels)
        return self


@register_baseline("logistic_regression")
class LogisticRegressionBaseline(_ClassificationBaseline):
    """A logistic regression on the network's input features: the best linear classifier.

    Standardises the features, then fits ``LogisticRegression(max_iter=1000)``. A network
    that does not beat it has not used its non-linearity. Classes absent from the training
    part get probability 0; with a single training class it predicts that class.

    Args:
        num_classes: Number of classes (the probability columns); defaults to the largest
            training label plus one.

    Example:
        >>> baseline = LogisticRegressionBaseline(num_classes=3).fit(dataset.train)  # doctest: +SKIP
        >>> baseline.predict(dataset.test).sum(axis=1)[:2]  # doctest: +SKIP
        array([1., 1.])
    """

    description = "Logistic regression on the standardised input features."

    def fit(self, train: Part) -> LogisticRegressionBaseline:
        labels = self._start_fit(train)
        if np.unique(labels).size < 2:
            # LogisticRegression needs two classes; one class leaves nothing to learn.
            self.estimator_ = DummyClassifier(strategy="most_frequent").fit(train.x, labels)
        else:
            self.estimator_ = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(train.x, labels)
        return self


class _RegressionBaseline(Baseline):
    """Shared parts of the scikit-learn regression baselines."""

    tasks: ClassVar[tuple[str, ...]] = ("regression",)

    def __init__(self) -> None:
        self.estimator_: DummyRegressor | LinearRegression | None = None

    def predict(self, part: Part) -> np.ndarray:
        if self.estimator_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(train) first.")
        return np.asarray(self.estimator_.predict(part.x), dtype=np.float64).reshape(-1)


@register_baseline("mean")
class MeanBaseline(_RegressionBaseline):
    """Always predicts the mean target of the training part.

    Its R² is about 0 on any split: the floor for a regression model.

    Example:
        >>> MeanBaseline().fit(dataset.train).predict(dataset.test)[:2]  # doctest: +SKIP
        array([5.12, 5.12])
    """

    description = "Always predicts the mean of the training target."

    def fit(self, train: Part) -> MeanBaseline:
        self.estimator_ = DummyRegressor(strategy="mean").fit(train.x, np.asarray(train.labels, dtype=np.float64))
        return self


@register_baseline("linear_regression")
class LinearRegressionBaseline(_RegressionBaseline):
    """Ordinary least squares on the network's input features: the best linear model.

    Example:
        >>> LinearRegressionBaseline().fit(dataset.train).predict(dataset.test).shape  # doctest: +SKIP
        (165,)
    """

    description = "Linear regression (least squares) on the input features."

    def fit(self, train: Part) -> LinearRegressionBaseline:
        self.estimator_ = LinearRegression().fit(train.x, np.asarray(train.labels, dtype=np.float64))
        return self


@register_baseline("persistence")
class PersistenceBaseline(Baseline):
    """Predicts "tomorrow = today": the current raw value of a column.

    In the lesson the target is tomorrow's ``BASEL_sunshine`` and this baseline predicts
    today's ``BASEL_sunshine`` (RMSE 3.88 on the test set, against the network's 3.92).
    It reads the raw, unscaled ``part.frame[column]`` and needs no fitting. Taken into a
    run when ``evaluate.persistence`` names a column.

    Args:
        column: The column whose value is the forecast, e.g. ``BASEL_sunshine``.

    Example:
        >>> PersistenceBaseline("BASEL_sunshine").predict(dataset.test)[:3]  # doctest: +SKIP
        array([0. , 8.7, 3.4])
    """

    description = "Predicts the current value of a column ('tomorrow = today')."
    tasks: ClassVar[tuple[str, ...]] = ("regression",)

    def __init__(self, column: str):
        self.column = column

    @classmethod
    def from_dataset(
        cls, dataset: Dataset, evaluate_spec: EvaluateSpec | None, source: str = "<spec>"
    ) -> Baseline | None:
        column = None if evaluate_spec is None else evaluate_spec.persistence
        if column is None:
            return None
        if dataset.task != "regression":
            raise SpecError.single(
                source,
                "evaluate.persistence",
                "applies to a regression target only",
                got=column,
                hint=f"The target {dataset.target!r} is a {dataset.task} target; remove evaluate.persistence.",
            )
        columns = [str(name) for name in dataset.train.frame.columns]
        if column not in columns:
            raise SpecError.single(
                source,
                "evaluate.persistence",
                "must be a column of the prepared data",
                got=column,
                hint=(
                    suggestion(column, columns)
                    + " Keep the column in data.select (or out of data.drop)."
                ).strip(),
            )
        return cls(column)

    def fit(self, train: Part) -> PersistenceBaseline:
        """Nothing to learn; checks that the column is there.

        Args:
            train: The training part.

        Returns:
            self.
        """
        self._values(train)
        return self

    def predict(self, part: Part) -> np.ndarray:
        return self._values(part)

    def _values(self, part: Part) -> np.ndarray:
        if self.column not in part.frame.columns:
            raise DataError.single(
                f"{part.name} part",
                "evaluate.persistence",
                "must be a column of the prepared data",
                got=self.column,
                hint=suggestion(self.column, [str(c) for c in part.frame.columns]),
            )
        values = np.asarray(part.frame[self.column], dtype=np.float64)
        missing = int(np.count_nonzero(~np.isfinite(values)))
        if missing:
            raise DataError.single(
                f"{part.name} part",
                f"column {self.column!r}",
                "needs a value in every row for the persistence baseline",
                got=f"{missing} missing value(s)",
                hint="Set data.dropna = true.",
            )
        return values

    def __repr__(self) -> str:
        return f"PersistenceBaseline(column={self.column!r})"


def baselines_for(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    *,
    source: str = "<spec>",
    registry: Mapping[str, type[Baseline]] | None = None,
) -> list[Baseline]:
    """The unfitted baselines that apply to a dataset, in registry order.

    Classification: ``majority_class``, ``logistic_regression``. Regression: ``mean``,
    ``linear_regression``, and ``persistence`` when ``evaluate.persistence`` is set. Plus
    every registered user baseline of the task. Cheap: call it before training to check
    ``[evaluate]`` early.

    Args:
        dataset: The prepared, split dataset.
        evaluate_spec: The spec's ``[evaluate]`` section (None: all defaults).
        source: The spec's file name, for error messages.
        registry: Baselines to choose from (default: :data:`BASELINES`).

    Returns:
        Baseline objects, not yet fitted.

    Raises:
        SpecError: When ``evaluate.persistence`` names a missing column or the task is
            classification.

    Example:
        >>> [b.name for b in baselines_for(dataset, spec.evaluate)]  # doctest: +SKIP
        ['mean', 'linear_regression', 'persistence']
    """
    chosen = []
    for cls in (BASELINES if registry is None else registry).values():
        baseline = cls.from_dataset(dataset, evaluate_spec, source)
        if baseline is not None:
            chosen.append(baseline)
    return chosen


def fit_baselines(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    *,
    source: str = "<spec>",
    registry: Mapping[str, type[Baseline]] | None = None,
) -> list[Baseline]:
    """:func:`baselines_for`, each fitted on the training part only.

    Use it to get the baselines' predictions (for plots); :func:`evaluate_baselines` scores them.

    Args:
        dataset: The prepared, split dataset.
        evaluate_spec: The spec's ``[evaluate]`` section (None: all defaults).
        source: The spec's file name, for error messages.
        registry: Baselines to choose from (default: :data:`BASELINES`).

    Returns:
        Fitted baselines.

    Example:
        >>> persistence = fit_baselines(dataset, spec.evaluate)[-1]  # doctest: +SKIP
        >>> persistence.predict(dataset.test).shape  # doctest: +SKIP
        (165,)
    """
    return [
        baseline.fit(dataset.train)
        for baseline in baselines_for(dataset, evaluate_spec, source=source, registry=registry)
    ]


def evaluate_baselines(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    *,
    source: str = "<spec>",
    registry: Mapping[str, type[Baseline]] | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """Fit every applicable baseline on the training part and score it on every part.

    Args:
        dataset: The prepared, split dataset.
        evaluate_spec: The spec's ``[evaluate]`` section (None: all defaults).
        source: The spec's file name, for error messages.
        registry: Baselines to choose from (default: :data:`BASELINES`).

    Returns:
        ``{baseline name: {part name: {metric: value}}}``; part names in the order
        ``train``, ``validation`` (only when the dataset has one), ``test``.

    Raises:
        SpecError: When ``[evaluate]`` asks for a baseline that cannot be built.

    Example:
        >>> results = evaluate_baselines(dataset, spec.evaluate)  # doctest: +SKIP
        >>> round(results["persistence"]["test"]["rmse"], 2)  # doctest: +SKIP
        3.88
    """
    num_classes = dataset.output_units if dataset.task == "classification" else None
    results: dict[str, dict[str, dict[str, float]]] = {}
    for baseline in fit_baselines(dataset, evaluate_spec, source=source, registry=registry):
        results[baseline.name] = {
            part_name: score(
                dataset.task,
                dataset.parts[part_name].labels,
                baseline.predict(dataset.parts[part_name]),
                num_classes=num_classes,
            )
            for part_name in PART_NAMES
            if part_name in dataset.parts
        }
    return results
