"""Word importances of a text column by occlusion: which words of a row its prediction rests on.

Each word of a row's text (its terms as the run's text encoding reads them: lowercased,
punctuation removed, :func:`~dlworkflow.data.text_encoding.tokens`) is left out in turn, the
shortened text encoded again as the run encodes it, and the row predicted again. A word's
importance is how much the predicted class's probability (a regression: the predicted value)
falls without it: positive, the word speaks for the answer; negative, against it. This is
the occlusion (leave-one-out) explanation of text models (Li, Monroe & Jurafsky, "Understanding
Neural Networks through Representation Erasure", 2016); it needs only the model's predictions,
so it holds for every text mode (token ids or term vectors) and every backend.

Nothing here imports Keras: the model comes in as a ``predict`` function of texts.

Example:
    >>> def predict(texts):  # the probability of 'food' grows with the word 'bread'
    ...     food = np.array([0.9 if "bread" in text.split() else 0.2 for text in texts])
    ...     return np.stack([1 - food, food], axis=1)
    >>> found = word_occlusion(predict, ["fresh bread today"], labels=[1], class_names=("animal", "food"),
    ...                        column="text")
    >>> [(word.word, round(word.importance, 2)) for word in found.rows[0].top(2)]
    [('bread', 0.7), ('fresh', 0.0)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dlworkflow.data.text_encoding import tokens

METHOD = "occlusion"
"""The method's name in ``explanation.json``."""

CITATION = "Li, Monroe & Jurafsky (2016), Understanding Neural Networks through Representation Erasure"
"""Where the method comes from (said in the report)."""

MAX_ROWS = 5
"""Rows whose words are weighed (the first ones of the part)."""

MAX_WORDS = 64
"""Words of a row weighed at most (the first ones); the rest stay in every shortened text."""


@dataclass(frozen=True)
class WordWeight:
    """One word of a row and how much the prediction falls without it.

    Example:
        >>> WordWeight("bread", 1, 0.7).importance
        0.7
    """

    word: str
    position: int
    importance: float


@dataclass(frozen=True)
class RowWords:
    """One row's words with their importances, in text order.

    Attributes:
        row: The row's position in the part (aligned with its predictions file).
        text: The row's text as given.
        true: The true class (or value).
        predicted: The predicted class (or value).
        score: The predicted class's probability (or the predicted value) with every word.
        words: The weighed words, in text order.

    Example:
        >>> row = RowWords(0, "a b", "x", "x", 0.8, (WordWeight("a", 0, 0.1), WordWeight("b", 1, 0.5)))
        >>> [word.word for word in row.top(1)]
        ['b']
    """

    row: int
    text: str
    true: str
    predicted: str
    score: float
    words: tuple[WordWeight, ...]

    def top(self, count: int = 5) -> tuple[WordWeight, ...]:
        """The ``count`` most important words, most important first."""
        return tuple(sorted(self.words, key=lambda word: -word.importance)[:count])


@dataclass(frozen=True)
class WordImportances:
    """The word importances of a few rows of one text column.

    Attributes:
        column: The text column.
        part: ``validation`` or ``test``.
        rows: One entry per row, in the part's order.
        method: :data:`METHOD`.

    Example:
        >>> found = WordImportances("text", "validation", (RowWords(0, "a", "x", "x", 0.8, (WordWeight("a", 0, 0.3),)),))
        >>> WordImportances.from_dict(found.to_dict()) == found
        True
    """

    column: str
    part: str
    rows: tuple[RowWords, ...]
    method: str = METHOD

    def to_dict(self) -> dict[str, Any]:
        """As JSON-compatible data (an entry of ``explanation.json``'s ``word_importance``)."""
        return {"method": self.method, "citation": CITATION, "column": self.column, "part": self.part,
                "rows": [{**asdict(row), "words": [asdict(word) for word in row.words]} for row in self.rows]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WordImportances:
        """Read :meth:`to_dict`'s data back."""
        rows = tuple(
            RowWords(int(row["row"]), str(row["text"]), str(row["true"]), str(row["predicted"]), float(row["score"]),
                     tuple(WordWeight(str(word["word"]), int(word["position"]), float(word["importance"]))
                           for word in row["words"]))
            for row in data["rows"]
        )
        return cls(str(data["column"]), str(data["part"]), rows, str(data.get("method", METHOD)))


def word_occlusion(
    predict: Callable[[list[str]], np.ndarray],
    texts: Sequence[Any],
    *,
    labels: Sequence[Any],
    class_names: Sequence[str] | None,
    column: str,
    part: str = "validation",
) -> WordImportances:
    """Leave each word of each text out in turn and measure the fall of the prediction.

    Args:
        predict: The model as a function of texts (the other columns of each row held as they
            are): ``(n, classes)`` probabilities, ``(n,)`` for one sigmoid unit, or ``(n,)``
            values (regression, ``class_names`` None).
        texts: The rows' texts.
        labels: Their true class indices (or values).
        class_names: The class labels in output order; None for a regression.
        column: The text column's name, for the record.
        part: Which part the rows are, for the record.

    Returns:
        The importances of each row's words.

    Example:
        >>> found = word_occlusion(lambda texts: np.array([len(t.split()) for t in texts], float), ["a b c"],
        ...                        labels=[3.0], class_names=None, column="text")
        >>> [word.importance for word in found.rows[0].words]
        [1.0, 1.0, 1.0]
    """
    words = [tokens(text) for text in texts]
    variants = [" ".join(row) for row in words]
    for row in words:
        variants += [" ".join(row[:position] + row[position + 1:]) for position in range(min(len(row), MAX_WORDS))]
    output = np.asarray(predict(variants), dtype=np.float64)
    if class_names is not None and (output.ndim == 1 or output.shape[-1] == 1):
        output = np.stack([1.0 - output.reshape(-1), output.reshape(-1)], axis=1)
    chosen = output[:len(texts)].argmax(axis=1) if class_names is not None else None
    found = []
    start = len(texts)
    for index, row in enumerate(words):
        count = min(len(row), MAX_WORDS)
        if chosen is None:
            scores = output[[index, *range(start, start + count)]].reshape(-1)
            true, predicted = f"{float(labels[index]):.4g}", f"{scores[0]:.4g}"
        else:
            scores = output[[index, *range(start, start + count)], chosen[index]]
            true, predicted = str(class_names[int(labels[index])]), str(class_names[int(chosen[index])])
        weights = tuple(WordWeight(row[position], position, float(scores[0] - scores[1 + position]))
                        for position in range(count))
        found.append(RowWords(index, str(texts[index]), true, predicted, float(scores[0]), weights))
        start += count
    return WordImportances(column, part, tuple(found))
