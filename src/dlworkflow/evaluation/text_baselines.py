"""Text baselines: TF-IDF of the training rows' words, then a linear model.

Beside every run whose data has a text column (:func:`~dlworkflow.evaluation.text_columns.text_columns`),
the words themselves get a linear model, fitted on the training rows' raw strings
(``Part.frame[column]``, not the network's token ids):

* classification: ``tf_idf_logistic_regression`` — scikit-learn's ``TfidfVectorizer``
  (words and word pairs, ``sublinear_tf``, terms in at least 2 training rows) then a
  multinomial ``LogisticRegression``;
* regression: ``tf_idf_ridge`` — the same vectors then ``Ridge``.

A text network that does not beat these has learned nothing a bag of words does not know.
Several text columns are joined into one text per row (with a space); a missing text is empty.
When the text sits beside other columns (numbers, categories, dates), those inputs, as the network
gets them and standardized on the training rows, stand beside the TF-IDF vector
(:func:`~dlworkflow.evaluation.text_columns.other_input_positions`; the description says so), so
the baseline sees what the network sees.
``majority_class`` and ``mean`` run beside them as for every run.

The cost is bounded: the vocabulary keeps at most :data:`MAX_TERMS` terms, at most
:data:`MAX_FIT_ROWS` training rows are fitted on (a fixed-seed sample beyond), and the logistic
regression uses the ``saga`` solver with at most :data:`SAGA_MAX_ITER` passes. Measured on the
WordNet noun glosses with ``benchmarks/text_baselines.py`` (30,000 training definitions, 47,664
terms, six classes, 2 cores): 3.1 to 4.2 s to fit (vectors and 21 saga passes), 0.4 to 0.7 s
to predict the other 12,802, 92.4 % test accuracy (majority class: 26.8 %); 40,000 rows took
5.8 s. scikit-learn's default ``lbfgs`` reached the same accuracy in 26 s for 30,000 rows.

Example:
    >>> baseline = TfIdfLogisticRegressionBaseline(("definition",), num_classes=6)  # doctest: +SKIP
    >>> baseline.fit(dataset.train).predict(dataset.test).shape  # doctest: +SKIP
    (6421, 6)
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.evaluation.baseline import Baseline, register_baseline
from dlworkflow.evaluation.classification_baselines import _ClassificationBaseline
from dlworkflow.evaluation.text_columns import other_input_positions, text_columns

if TYPE_CHECKING:
    from dlworkflow.spec.schema import EvaluateSpec

MAX_TERMS = 100_000
"""The most terms (words and word pairs) the TF-IDF vocabulary keeps: the most frequent ones."""

MAX_FIT_ROWS = 200_000
"""The most training rows the text baselines fit on; beyond, a fixed-seed sample of this many."""

SAGA_MAX_ITER = 200
"""The most passes of the saga solver over the training vectors (it stops earlier when converged)."""

MIN_ROWS_PER_TERM = 2
"""A term must occur in this many training rows to be kept (``min_df``); fewer rows keep every term."""


def row_texts(part: Part, columns: tuple[str, ...]) -> pd.Series:
    """One text per row of a part: its text columns joined with a space, a missing value empty.

    Args:
        part: Any part of the dataset (the raw rows are in ``part.frame``).
        columns: The text columns, in network order.

    Returns:
        A string Series aligned with the part's rows.

    Example:
        >>> part = Part("test", None, np.zeros(2), np.zeros(2),
        ...             pd.DataFrame({"title": ["Red fox", None], "body": ["runs", "sleeps"]}))
        >>> row_texts(part, ("title", "body")).tolist()
        ['Red fox runs', ' sleeps']
    """
    texts = part.frame[list(columns)].astype(object).where(part.frame[list(columns)].notna(), "")
    return texts.astype(str).agg(" ".join, axis=1) if len(columns) > 1 else texts[columns[0]].astype(str)


def fit_vectorizer(texts: pd.Series) -> tuple[TfidfVectorizer | None, sparse.csr_matrix | None]:
    """Fit the TF-IDF vocabulary on training texts.

    Terms in fewer than :data:`MIN_ROWS_PER_TERM` rows are dropped; when that leaves none (a
    handful of rows), every term is kept; when the texts hold no word at all, there is nothing
    to fit and both results are None.

    Args:
        texts: The training rows' texts.

    Returns:
        The fitted vectorizer and the training vectors, or ``(None, None)``.

    Example:
        >>> vectorizer, vectors = fit_vectorizer(pd.Series(["a red fox", "a red hen", "the fox"]))
        >>> sorted(vectorizer.vocabulary_), vectors.shape
        (['fox', 'red'], (3, 2))
    """
    for min_df in (MIN_ROWS_PER_TERM, 1):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, max_features=MAX_TERMS)
        try:
            return vectorizer, vectorizer.fit_transform(texts)
        except ValueError:
            # scikit-learn's "empty vocabulary" / "no terms remain": try every term, then give up.
            continue
    return None, None


class _TextBaseline(Baseline):
    """What the text baselines share: their columns, the other inputs, the row sample, opting out without text."""

    def __init__(
        self, columns: tuple[str, ...], *, other_inputs: tuple[int, ...] = (), max_fit_rows: int = MAX_FIT_ROWS,
        random_state: int = 0,
    ):
        self.columns = tuple(columns)
        self.other_inputs = tuple(int(position) for position in other_inputs)
        self.max_fit_rows = int(max_fit_rows)
        self.random_state = random_state
        self.rows_fitted_: int | None = None
        self.vectorizer_: TfidfVectorizer | None = None
        self.scaler_: StandardScaler | None = None
        if self.other_inputs:
            count = len(self.other_inputs)
            self.description = self.description.replace(
                "word pairs,", f"word pairs beside the {count} other input{'s' if count > 1 else ''} the network "
                "gets (standardized),")

    def skip_reason(self, dataset: Dataset) -> str | None:
        """Why the raw text is not at hand (a part's rows lack a text column), else None."""
        for name, part in dataset.parts.items():
            absent = [column for column in self.columns if column not in part.frame.columns]
            if absent:
                return f"the {name} part's rows lack the raw text of column {absent[0]!r}"
        return None

    def _texts(self, part: Part) -> pd.Series:
        return row_texts(part, self.columns)

    def _inputs(self, part: Part) -> pd.Series | sparse.csr_matrix:
        """The raw texts (for a pipeline of TF-IDF and model), or the TF-IDF vectors beside the other inputs."""
        texts = self._texts(part)
        if self.vectorizer_ is None or self.scaler_ is None:
            return texts
        others = self.scaler_.transform(np.asarray(part.x)[:, list(self.other_inputs)])
        return sparse.hstack([self.vectorizer_.transform(texts), sparse.csr_matrix(others)], format="csr")

    def _fit_inputs(
        self, train: Part, labels: np.ndarray
    ) -> tuple[TfidfVectorizer | None, sparse.csr_matrix | None, np.ndarray]:
        """Fit the vocabulary (and the other inputs' scaler) on the training rows: vectorizer, inputs, labels."""
        texts = self._texts(train)
        chosen = np.arange(len(texts))
        if len(texts) > self.max_fit_rows:
            rng = np.random.default_rng(self.random_state)
            chosen = np.sort(rng.choice(len(texts), size=self.max_fit_rows, replace=False))
        self.rows_fitted_ = len(chosen)
        vectorizer, vectors = fit_vectorizer(texts.iloc[chosen])
        self.vectorizer_ = self.scaler_ = None
        if vectorizer is None or not self.other_inputs:
            return vectorizer, vectors, labels[chosen]
        others = np.asarray(train.x)[chosen][:, list(self.other_inputs)]
        self.vectorizer_, self.scaler_ = vectorizer, StandardScaler().fit(others)
        inputs = sparse.hstack([vectors, sparse.csr_matrix(self.scaler_.transform(others))], format="csr")
        return vectorizer, inputs, labels[chosen]

    def _fitted_estimator(self, vectorizer: TfidfVectorizer, step: str, model: object) -> object:
        """The model alone (inputs made by :meth:`_inputs`), or TF-IDF then the model for the texts alone."""
        return model if self.vectorizer_ is not None else Pipeline([("tf_idf", vectorizer), (step, model)])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(columns={self.columns!r})"


@register_baseline("tf_idf_logistic_regression")
class TfIdfLogisticRegressionBaseline(_TextBaseline, _ClassificationBaseline):
    """TF-IDF of the training texts' words and word pairs, then a multinomial logistic regression.

    Runs beside every classification whose data has a text column; fitted on the training
    rows' raw strings and, when there are any, the other inputs beside them. Classes absent from the training part get probability 0; with a
    single training class, or texts without a word, it predicts the training class shares.

    Args:
        columns: The text columns (joined per row).
        num_classes: Number of classes (the probability columns).
        other_inputs: Positions in ``part.x`` of the inputs that are not text, used beside the words.
        max_fit_rows: The most training rows fitted on (a fixed-seed sample beyond).
        random_state: Seed of the row sample and of the saga solver (no global seeding).

    Attributes:
        rows_fitted_: The training rows fitted on (after :meth:`fit`).

    Example:
        >>> baseline = TfIdfLogisticRegressionBaseline(("definition",), num_classes=6)  # doctest: +SKIP
        >>> baseline.fit(dataset.train).predict(dataset.test).sum(axis=1)[:2]  # doctest: +SKIP
        array([1., 1.])
    """

    description = (
        "TF-IDF of the training texts' words and word pairs, then a logistic regression "
        f"(saga, at most {SAGA_MAX_ITER} passes)."
    )
    tasks: ClassVar[tuple[str, ...]] = ("classification",)

    def __init__(
        self,
        columns: tuple[str, ...],
        num_classes: int | None = None,
        *,
        other_inputs: tuple[int, ...] = (),
        max_fit_rows: int = MAX_FIT_ROWS,
        random_state: int = 0,
    ):
        _ClassificationBaseline.__init__(self, num_classes)
        _TextBaseline.__init__(self, columns, other_inputs=other_inputs, max_fit_rows=max_fit_rows,
                               random_state=random_state)

    @classmethod
    def from_dataset(
        cls, dataset: Dataset, evaluate_spec: EvaluateSpec | None, source: str = "<spec>"
    ) -> Baseline | None:
        columns = text_columns(dataset)
        if dataset.task not in cls.tasks or not columns:
            return None
        return cls(columns, num_classes=dataset.output_units, other_inputs=other_input_positions(dataset))

    def fit(self, train: Part) -> TfIdfLogisticRegressionBaseline:
        vectorizer, vectors, labels = self._fit_inputs(train, self._start_fit(train))
        if vectorizer is None or np.unique(labels).size < 2:
            # No word to learn from, or one class (LogisticRegression needs two): the class shares.
            self.estimator_ = DummyClassifier(strategy="prior").fit(np.zeros((len(labels), 1)), labels)
            return self
        model = LogisticRegression(solver="saga", max_iter=SAGA_MAX_ITER, random_state=self.random_state)
        with warnings.catch_warnings():
            # Stopping after SAGA_MAX_ITER passes is the bound on its cost.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(vectors, labels)
        self.estimator_ = self._fitted_estimator(vectorizer, "logistic_regression", model)
        return self


@register_baseline("tf_idf_ridge")
class TfIdfRidgeBaseline(_TextBaseline):
    """TF-IDF of the training texts' words and word pairs, then a ridge regression.

    Runs beside every regression whose data has a text column; fitted on the training rows'
    raw strings and, when there are any, the other inputs beside them. With texts that hold no word it predicts the training mean.

    Args:
        columns: The text columns (joined per row).
        alpha: The ridge penalty (``Ridge(alpha=...)``).
        other_inputs: Positions in ``part.x`` of the inputs that are not text, used beside the words.
        max_fit_rows: The most training rows fitted on (a fixed-seed sample beyond).
        random_state: Seed of the row sample.

    Example:
        >>> TfIdfRidgeBaseline(("abstract",)).fit(dataset.train).predict(dataset.test).shape  # doctest: +SKIP
        (165,)
    """

    description = "TF-IDF of the training texts' words and word pairs, then a ridge regression."
    tasks: ClassVar[tuple[str, ...]] = ("regression",)

    def __init__(
        self,
        columns: tuple[str, ...],
        alpha: float = 1.0,
        *,
        other_inputs: tuple[int, ...] = (),
        max_fit_rows: int = MAX_FIT_ROWS,
        random_state: int = 0,
    ):
        super().__init__(columns, other_inputs=other_inputs, max_fit_rows=max_fit_rows, random_state=random_state)
        self.alpha = float(alpha)
        self.estimator_: Pipeline | Ridge | DummyRegressor | None = None

    @classmethod
    def from_dataset(
        cls, dataset: Dataset, evaluate_spec: EvaluateSpec | None, source: str = "<spec>"
    ) -> Baseline | None:
        columns = text_columns(dataset)
        if dataset.task not in cls.tasks or not columns:
            return None
        return cls(columns, other_inputs=other_input_positions(dataset))

    def fit(self, train: Part) -> TfIdfRidgeBaseline:
        vectorizer, vectors, labels = self._fit_inputs(train, np.asarray(train.labels, dtype=np.float64))
        if vectorizer is None:
            self.estimator_ = DummyRegressor(strategy="mean").fit(np.zeros((len(labels), 1)), labels)
            return self
        model = Ridge(alpha=self.alpha).fit(vectors, labels)
        self.estimator_ = self._fitted_estimator(vectorizer, "ridge", model)
        return self

    def predict(self, part: Part) -> np.ndarray:
        if self.estimator_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(train) first.")
        return np.asarray(self.estimator_.predict(self._inputs(part)), dtype=np.float64).reshape(-1)
