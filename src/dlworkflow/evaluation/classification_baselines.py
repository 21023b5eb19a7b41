"""Classification baselines: the majority class and a logistic regression on the inputs.

scikit-learn is imported when a baseline is fitted, not with this module.

Example:
    >>> MajorityClassBaseline(num_classes=3).fit(dataset.train).predict(dataset.test).shape  # doctest: +SKIP
    (69, 3)
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from dlworkflow.data.dataset import Dataset, Part
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
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import Pipeline

    from dlworkflow.spec.schema import EvaluateSpec



def _expand_columns(probabilities: np.ndarray, classes: np.ndarray, num_classes: int) -> np.ndarray:
    """Place an estimator's probability columns (for the classes it saw) into ``num_classes`` columns."""
    full = np.zeros((probabilities.shape[0], num_classes), dtype=np.float64)
    full[:, np.asarray(classes, dtype=np.int64)] = probabilities
    return full


def pooled_pixels(images: np.ndarray, side: int) -> np.ndarray:
    """Images average-pooled in square blocks down to about ``side`` pixels a side, flattened per row.

    The block is ``min(height, width) // side`` pixels (at least 1: a small image stays as it is);
    the rows and columns that do not fill a last block are left out.

    Args:
        images: ``(rows, height, width, channels)``.
        side: The pooled side to come near (from above).

    Returns:
        ``(rows, features)`` as float32.

    Example:
        >>> pooled_pixels(np.ones((2, 32, 32, 3), dtype=np.float32), 8).shape
        (2, 192)
        >>> pooled_pixels(np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1), 2).tolist()
        [[2.5, 4.5, 10.5, 12.5]]
    """
    rows, height, width, channels = images.shape
    block = max(1, min(height, width) // max(1, side))
    if block == 1:
        return images.reshape(rows, -1)
    tall, wide = height // block, width // block
    cropped = images[:, : tall * block, : wide * block, :]
    blocks = cropped.reshape(rows, tall, block, wide, block, channels)
    return blocks.mean(axis=(2, 4), dtype=np.float32).reshape(rows, -1)


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
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(train) first.")
        return self.estimator_

    def _inputs(self, part: Part) -> np.ndarray:
        return flat_inputs(part)

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
        return no_inputs(part)

    def fit(self, train: Part) -> MajorityClassBaseline:
        from sklearn.dummy import DummyClassifier

        labels = self._start_fit(train)
        self.estimator_ = DummyClassifier(strategy="prior").fit(no_inputs(train), labels)
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

    It is skipped (see :meth:`skip_reason`) when the images are streamed from disk, a
    part holds more than ``max_values`` input values, or the inputs are a text's token ids
    (``tf_idf_logistic_regression`` fits on its words instead).

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

    IMAGE_SIDE: ClassVar[int] = 8
    """Images: the side the pixels are average-pooled down to (or the nearest above it), per channel."""

    description = (
        "Logistic regression on the standardised input features; images: on the flattened pixels, "
        f"average-pooled to about {IMAGE_SIDE}×{IMAGE_SIDE} per channel (32×32 CIFAR images: 4×4 blocks, "
        f"192 features, about 16× cheaper than every pixel and as accurate), with C={IMAGE_C} and at most "
        f"{IMAGE_MAX_ITER} sag passes, fitted on at most {IMAGE_MAX_FIT_VALUES // 1_000_000} million training "
        "values (a fixed-seed row sample beyond)."
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
        """``images streamed from disk ...``, a part above ``max_values`` input values, or token ids; else None."""
        return inputs_reason(dataset, self.max_values) or token_id_reason(dataset)

    def fit(self, train: Part) -> LogisticRegressionBaseline:
        from sklearn.dummy import DummyClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        labels = self._start_fit(train)
        x = self._inputs(train)
        self.rows_fitted_ = int(x.shape[0])
        if np.unique(labels).size < 2:
            # LogisticRegression needs two classes; one class leaves nothing to learn.
            self.estimator_ = DummyClassifier(strategy="most_frequent").fit(x, labels)
        elif train.x is not None and train.x.ndim > 2:
            self.estimator_ = self._fit_pixels(x, labels)
        else:
            self.estimator_ = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, labels)
        return self

    def _inputs(self, part: Part) -> np.ndarray:
        if part.x is not None and part.x.ndim == 4:
            return pooled_pixels(part.x, self.IMAGE_SIDE)
        return flat_inputs(part)

    def _fit_pixels(self, x: np.ndarray, labels: np.ndarray) -> Pipeline:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

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
