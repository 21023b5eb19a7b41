"""Baselines: simple predictors a network has to beat, with the same predict interface as a model.

A baseline is fitted on the training part only and predicts arrays shaped like a model's
predictions: 1-D float64 values for regression, ``(rows, classes)`` probabilities for
classification. So every baseline is scored by the very same
:func:`~dlworkflow.evaluation.metrics.score` call as the network (after scikit-learn's
``sklearn/dummy.py``).

Built in:

* classification: ``majority_class`` (always the most frequent training class) and
  ``logistic_regression`` (a linear model on the same features; for images, on the
  flattened pixels, with a bounded cost: see :class:`LogisticRegressionBaseline`);
* regression: ``mean`` (always the training mean), ``linear_regression`` and
  ``persistence`` ("tomorrow = today": the current value of ``evaluate.persistence``,
  as in the lesson's weather example).

``majority_class`` and ``mean`` need the labels only, so they run on streamed images too
(``Part.x`` is None). A baseline that needs the inputs in memory says why it cannot run
through :meth:`Baseline.skip_reason` — streamed images, or more than
:data:`MAX_BASELINE_VALUES` input values in a part — and :func:`skipped_baselines` collects
those reasons for the run record, so a results table never silently lacks a baseline.

The registry is open: decorate a :class:`Baseline` subclass with
:func:`register_baseline` and it joins every run of its task.

Example:
    >>> results = evaluate_baselines(dataset, spec.evaluate)  # doctest: +SKIP
    >>> results["persistence"]["test"]["rmse"]  # doctest: +SKIP
    3.877323350410224
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, ClassVar, TypeVar

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from dlworkflow.data.dataset import PART_NAMES, Dataset, Part
from dlworkflow.errors import DataError, SpecError, suggestion
from dlworkflow.evaluation.metrics import score

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


def _inputs_reason(dataset: Dataset, max_values: int) -> str | None:
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


def _flat_inputs(part: Part) -> np.ndarray:
    """A part's inputs as ``(rows, features)``: image pixels flattened (a view, no copy)."""
    if part.x is None:
        raise DataError.single(
            f"{part.name} part",
            "x",
            "holds no inputs to fit on: its images are streamed from disk",
            hint="Skip this baseline for streamed images (baselines_for does), or use majority_class.",
        )
    return part.x.reshape(part.x.shape[0], -1)


def _no_inputs(part: Part) -> np.ndarray:
    """One constant column per row: what a labels-only estimator is given as ``X``."""
    return np.zeros((part.size, 1), dtype=np.float32)


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

    def _inputs(self, part: Part) -> np.ndarray:
        return _flat_inputs(part)

    def predict(self, part: Part) -> np.ndarray:
        estimator = self._estimator()
        probabilities = estimator.predict_proba(self._inputs(part))
        return _expand_columns(probabilities, estimator.classes_, self.num_classes_)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_classes={self.num_classes!r})"


@register_baseline("majority_class")
class MajorityClassBaseline(_ClassificationBaseline):
    """Always predicts the most frequent class of the training part.

    Its accuracy on a split is the share of that class there: the floor any classifier
    has to clear on imbalanced data. Its probabilities are the training class shares
    (scikit-learn's ``prior`` strategy), so its log loss is meaningful too. It reads the
    labels only, so it runs on streamed images as well.

    Args:
        num_classes: Number of classes (the probability columns); defaults to the largest
            training label plus one.

    Example:
        >>> baseline = MajorityClassBaseline(num_classes=3).fit(dataset.train)  # doctest: +SKIP
        >>> baseline.predict(dataset.test).shape  # doctest: +SKIP
        (12, 3)
    """

    description = "Always predicts the most frequent class of the training set."

    def _inputs(self, part: Part) -> np.ndarray:
        return _no_inputs(part)

    def fit(self, train: Part) -> MajorityClassBaseline:
        labels = self._start_fit(train)
        self.estimator_ = DummyClassifier(strategy="prior").fit(_no_inputs(train), labels)
        return self


@register_baseline("logistic_regression")
class LogisticRegressionBaseline(_ClassificationBaseline):
    """A logistic regression on the network's input features: the best linear classifier.

    Standardises the features, then fits a multinomial ``LogisticRegression``. A network
    that does not beat it has not used its non-linearity. Classes absent from the training
    part get probability 0; with a single training class it predicts that class.

    Tables: ``LogisticRegression(max_iter=1000)`` (lbfgs), fitted to convergence.

    Images (``x`` of shape ``(rows, height, width, channels)``): the pixels are flattened —
    3,072 features for 32×32×3 — and the cost is bounded instead: the table setting
    (lbfgs, ``max_iter=1000``) took 70 s on the 5,000-image CIFAR-10 subset on a 2-core
    machine. Measured there instead: a 3 s fit, 37 % test accuracy (majority class: 9 %):

    * ``solver="sag"`` with ``max_iter=10``: at most 10 passes over the training pixels
      (the solver runs on one core), a cost proportional to rows × features;
    * ``C=0.01``: a strong L2 penalty, as 3,072 correlated pixels overfit 5,000 rows (lbfgs
      with the default ``C=1`` reached 99.8 % train but 28 % test accuracy);
    * fitted on at most ``max_fit_values`` training values (20 million: the whole CIFAR
      subset); a larger training part is fitted on a fixed-seed sample of
      ``max_fit_values // features`` rows (``rows_fitted_`` says how many), and scored on
      every row.

    It is skipped (see :meth:`skip_reason`) when the images are streamed from disk or a
    part holds more than ``max_values`` input values.

    Args:
        num_classes: Number of classes (the probability columns); defaults to the largest
            training label plus one.
        max_fit_values: Images: the most training values (rows × features) fitted on.
        max_values: The most input values a part may hold; above it the baseline is skipped.
        random_state: Seed of the row sample and of the sag solver (a local generator; no
            global seeding).

    Attributes:
        rows_fitted_: The number of training rows fitted on (after :meth:`fit`).

    Example:
        >>> baseline = LogisticRegressionBaseline(num_classes=3).fit(dataset.train)  # doctest: +SKIP
        >>> baseline.predict(dataset.test).sum(axis=1)[:2]  # doctest: +SKIP
        array([1., 1.])
    """

    IMAGE_C: ClassVar[float] = 0.01
    """Images: the inverse L2 penalty strength (``LogisticRegression(C=...)``)."""

    IMAGE_MAX_ITER: ClassVar[int] = 10
    """Images: the most passes of the sag solver over the training pixels."""

    IMAGE_MAX_FIT_VALUES: ClassVar[int] = 20_000_000
    """Images: the default ``max_fit_values``."""

    description = (
        "Logistic regression on the standardised input features; images: on the flattened pixels "
        f"with C={IMAGE_C} and at most {IMAGE_MAX_ITER} sag passes, fitted on at most "
        f"{IMAGE_MAX_FIT_VALUES // 1_000_000} million training values (a fixed-seed row sample beyond)."
    )

    def __init__(
        self,
        num_classes: int | None = None,
        *,
        max_fit_values: int = IMAGE_MAX_FIT_VALUES,
        max_values: int = MAX_BASELINE_VALUES,
        random_state: int = 0,
    ):
        super().__init__(num_classes)
        self.max_fit_values = int(max_fit_values)
        self.max_values = int(max_values)
        self.random_state = random_state
        self.rows_fitted_: int | None = None

    def skip_reason(self, dataset: Dataset) -> str | None:
        """``images streamed from disk ...``, or a part above ``max_values`` input values; else None."""
        return _inputs_reason(dataset, self.max_values)

    def fit(self, train: Part) -> LogisticRegressionBaseline:
        labels = self._start_fit(train)
        x = _flat_inputs(train)
        self.rows_fitted_ = int(x.shape[0])
        if np.unique(labels).size < 2:
            # LogisticRegression needs two classes; one class leaves nothing to learn.
            self.estimator_ = DummyClassifier(strategy="most_frequent").fit(x, labels)
        elif train.x is not None and train.x.ndim > 2:
            self.estimator_ = self._fit_pixels(x, labels)
        else:
            self.estimator_ = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, labels)
        return self

    def _fit_pixels(self, x: np.ndarray, labels: np.ndarray) -> Pipeline:
        rows = max(2, self.max_fit_values // max(1, x.shape[1]))
        if x.shape[0] > rows:
            chosen = np.sort(np.random.default_rng(self.random_state).choice(x.shape[0], size=rows, replace=False))
            x, labels = x[chosen], labels[chosen]
            self.rows_fitted_ = rows
        estimator = make_pipeline(
            StandardScaler(),
            LogisticRegression(
                C=self.IMAGE_C, solver="sag", max_iter=self.IMAGE_MAX_ITER, random_state=self.random_state
            ),
        )
        with warnings.catch_warnings():
            # Stopping after IMAGE_MAX_ITER passes is the point: the cost stays bounded.
            warnings.simplefilter("ignore", ConvergenceWarning)
            return estimator.fit(x, labels)

    def __repr__(self) -> str:
        return f"LogisticRegressionBaseline(num_classes={self.num_classes!r})"


class _RegressionBaseline(Baseline):
    """Shared parts of the scikit-learn regression baselines."""

    tasks: ClassVar[tuple[str, ...]] = ("regression",)

    def __init__(self) -> None:
        self.estimator_: DummyRegressor | LinearRegression | None = None

    def _inputs(self, part: Part) -> np.ndarray:
        return _flat_inputs(part)

    def predict(self, part: Part) -> np.ndarray:
        if self.estimator_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(train) first.")
        return np.asarray(self.estimator_.predict(self._inputs(part)), dtype=np.float64).reshape(-1)


@register_baseline("mean")
class MeanBaseline(_RegressionBaseline):
    """Always predicts the mean target of the training part.

    Its R² is about 0 on any split: the floor for a regression model.

    Example:
        >>> MeanBaseline().fit(dataset.train).predict(dataset.test)[:2]  # doctest: +SKIP
        array([5.12, 5.12])
    """

    description = "Always predicts the mean of the training target."

    def _inputs(self, part: Part) -> np.ndarray:
        return _no_inputs(part)

    def fit(self, train: Part) -> MeanBaseline:
        self.estimator_ = DummyRegressor(strategy="mean").fit(
            _no_inputs(train), np.asarray(train.labels, dtype=np.float64)
        )
        return self


@register_baseline("linear_regression")
class LinearRegressionBaseline(_RegressionBaseline):
    """Ordinary least squares on the network's input features: the best linear model.

    Example:
        >>> LinearRegressionBaseline().fit(dataset.train).predict(dataset.test).shape  # doctest: +SKIP
        (165,)
    """

    description = "Linear regression (least squares) on the input features."

    def skip_reason(self, dataset: Dataset) -> str | None:
        """``images streamed from disk ...``, or a part above :data:`MAX_BASELINE_VALUES` values; else None."""
        return _inputs_reason(dataset, MAX_BASELINE_VALUES)

    def fit(self, train: Part) -> LinearRegressionBaseline:
        self.estimator_ = LinearRegression().fit(_flat_inputs(train), np.asarray(train.labels, dtype=np.float64))
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
    every registered user baseline of the task. A baseline whose
    :meth:`~Baseline.skip_reason` gives a reason (e.g. ``logistic_regression`` on streamed
    images) is left out; :func:`skipped_baselines` lists those. Cheap: call it before
    training to check ``[evaluate]`` early.

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
    return [
        baseline
        for baseline, reason in _applicable(dataset, evaluate_spec, source, registry)
        if reason is None
    ]


def skipped_baselines(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    *,
    source: str = "<spec>",
    registry: Mapping[str, type[Baseline]] | None = None,
) -> dict[str, str]:
    """The baselines of the dataset's task that cannot run on it, and why.

    :func:`evaluate_baselines` leaves them out; the run record keeps this dict (as
    ``baselines_skipped``) so a results table can say ``logistic_regression: skipped (images
    streamed from disk ...)`` instead of silently lacking a row. Cheap: it fits nothing.

    Args:
        dataset: The prepared, split dataset.
        evaluate_spec: The spec's ``[evaluate]`` section (None: all defaults).
        source: The spec's file name, for error messages.
        registry: Baselines to choose from (default: :data:`BASELINES`).

    Returns:
        ``{baseline name: reason}`` in registry order; empty when every baseline runs.

    Raises:
        SpecError: When ``[evaluate]`` asks for a baseline that cannot be built.

    Example:
        >>> skipped_baselines(folder_dataset, spec.evaluate)  # doctest: +SKIP
        {'logistic_regression': 'images streamed from disk (no pixel array in memory to fit on)'}
    """
    return {
        baseline.name: reason
        for baseline, reason in _applicable(dataset, evaluate_spec, source, registry)
        if reason is not None
    }


def _applicable(
    dataset: Dataset,
    evaluate_spec: EvaluateSpec | None,
    source: str,
    registry: Mapping[str, type[Baseline]] | None,
) -> list[tuple[Baseline, str | None]]:
    """Every baseline of the dataset's task, with its skip reason (None: it runs)."""
    found = []
    for cls in (BASELINES if registry is None else registry).values():
        baseline = cls.from_dataset(dataset, evaluate_spec, source)
        if baseline is not None:
            found.append((baseline, baseline.skip_reason(dataset)))
    return found


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

    Baselines that cannot run on this dataset (see :func:`skipped_baselines`) are left out.

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
