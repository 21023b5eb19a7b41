"""Regression baselines: the training mean, a linear regression, and persistence ("tomorrow = today").

scikit-learn is imported when a baseline that uses it is fitted, not with this module.

Example:
    >>> PersistenceBaseline("BASEL_sunshine").fit(dataset.train).predict(dataset.test)[:3]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.errors import DataError, SpecError, suggestion
from dlworkflow.evaluation.baseline import (
    MAX_BASELINE_VALUES,
    Baseline,
    flat_inputs,
    inputs_reason,
    no_inputs,
    register_baseline,
)
from dlworkflow.evaluation.text_columns import token_id_reason

if TYPE_CHECKING:
    from sklearn.dummy import DummyRegressor
    from sklearn.linear_model import LinearRegression

    from dlworkflow.spec.schema import EvaluateSpec



class _RegressionBaseline(Baseline):
    """Shared parts of the scikit-learn regression baselines."""

    tasks: ClassVar[tuple[str, ...]] = ("regression",)

    def __init__(self) -> None:
        self.estimator_: DummyRegressor | LinearRegression | None = None

    def _inputs(self, part: Part) -> np.ndarray:
        return flat_inputs(part)

    def predict(self, part: Part) -> np.ndarray:
        if self.estimator_ is None:
            from sklearn.exceptions import NotFittedError

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
        return no_inputs(part)

    def fit(self, train: Part) -> MeanBaseline:
        from sklearn.dummy import DummyRegressor

        self.estimator_ = DummyRegressor(strategy="mean").fit(
            no_inputs(train), np.asarray(train.labels, dtype=np.float64)
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
        """``images streamed from disk ...``, a part above :data:`MAX_BASELINE_VALUES` values, or token ids; else None."""
        return inputs_reason(dataset, MAX_BASELINE_VALUES) or token_id_reason(dataset)

    def fit(self, train: Part) -> LinearRegressionBaseline:
        from sklearn.linear_model import LinearRegression

        self.estimator_ = LinearRegression().fit(flat_inputs(train), np.asarray(train.labels, dtype=np.float64))
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
