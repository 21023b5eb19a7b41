"""Permutation importance of a table's input columns, against the model's own score.

Each input column of the table (before encoding) is shuffled across the rows, all of its
encoded network inputs together (a category's one-hot columns, a text column's term
vectors or token ids, a gap indicator), and the rows are scored again with the run's
primary metric (:func:`dlworkflow.evaluation.metrics.score`). A column's importance is how
much worse the score gets, the mean over ``repeats`` shuffles, with their standard
deviation as the spread: near 0, the model does not use the column (or another column
carries the same information). Breiman (2001); scikit-learn's ``permutation_importance``
computes the same for one input column at a time, so the grouping is done here.

Nothing here imports Keras: the model comes in as a ``predict`` function of inputs.

Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 2))
    >>> y = 3 * x[:, 0]
    >>> result = permutation_importance(lambda rows: 3 * rows[..., 0], x, y, groups={"a": [0], "b": [1]},
    ...                                 task="regression", metric="rmse", repeats=3)
    >>> [column.column for column in result.columns], result.columns[1].importance
    (['a', 'b'], 0.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS
from dlworkflow.evaluation.metrics import score

if TYPE_CHECKING:
    from dlworkflow.data.preprocessing import Preprocessing

DEFAULT_REPEATS = 5
"""Shuffles per column: the spread over them says how far to trust a small difference."""


@dataclass(frozen=True)
class ColumnImportance:
    """One input column's permutation importance.

    Attributes:
        column: The table's column (before encoding).
        importance: How much worse the metric gets with the column shuffled (mean over repeats;
            positive: the model uses it).
        spread: The standard deviation over the repeats.
        inputs: How many network inputs the column is encoded into.

    Example:
        >>> ColumnImportance("BASEL_sunshine", 0.8, 0.1, 1).importance
        0.8
    """

    column: str
    importance: float
    spread: float
    inputs: int = 1


@dataclass(frozen=True)
class PermutationImportance:
    """The permutation importances of a run's input columns on one part, most important first.

    Attributes:
        metric: The metric scored (the run's primary metric).
        part: ``validation`` or ``test``.
        rows: The rows scored.
        repeats: Shuffles per column.
        score: The metric on the rows as they are.
        columns: One entry per input column, most important first.

    Example:
        >>> result = PermutationImportance("rmse", "validation", 164, 5, 3.2, (ColumnImportance("a", 0.5, 0.1),))
        >>> PermutationImportance.from_dict(result.to_dict()) == result
        True
    """

    metric: str
    part: str
    rows: int
    repeats: int
    score: float
    columns: tuple[ColumnImportance, ...]

    def to_dict(self) -> dict[str, Any]:
        """As JSON-compatible data (``explanation.json``)."""
        return {**{key: value for key, value in asdict(self).items() if key != "columns"},
                "columns": [asdict(column) for column in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PermutationImportance:
        """Read :meth:`to_dict`'s data back."""
        return cls(
            metric=str(data["metric"]), part=str(data["part"]), rows=int(data["rows"]), repeats=int(data["repeats"]),
            score=float(data["score"]), columns=tuple(ColumnImportance(**column) for column in data["columns"]),
        )


def column_groups(preprocessing: Preprocessing) -> dict[str, list[int]]:
    """The network inputs of each table column: one-hot values, text terms and gap indicators grouped back.

    Args:
        preprocessing: A table run's saved preprocessing.

    Returns:
        Column name → the indices of its inputs in network order (the last axis of the input).

    Example:
        >>> from dlworkflow.data.preprocessing import Preprocessing
        >>> column_groups(Preprocessing.from_dict({"feature_names": ["a", "b"]}))
        {'a': [0], 'b': [1]}
    """
    encoding = getattr(preprocessing, "encoding", None)
    if encoding is None:
        return {name: [index] for index, name in enumerate(preprocessing.feature_names)}
    groups: dict[str, list[int]] = {}
    position = 0
    for column in encoding.columns:
        groups[column.name] = list(range(position, position + len(column.outputs)))
        position += len(column.outputs)
    return groups


def permutation_importance(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    labels: np.ndarray,
    *,
    groups: Mapping[str, Sequence[int]],
    task: str,
    metric: str,
    part: str = "validation",
    num_classes: int | None = None,
    repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
) -> PermutationImportance:
    """Shuffle each column group across the rows and score the model again.

    Args:
        predict: The model as a function of inputs: ``(rows, ...)`` values or probabilities.
        x: The network inputs of the rows, ``(rows, inputs)`` or ``(rows, steps, inputs)``.
        labels: Their true values (regression) or class indices.
        groups: Column → indices on the last axis of ``x`` (:func:`column_groups`).
        task: ``regression`` or ``classification``.
        metric: The metric to score (e.g. the run's primary metric).
        part: Which part the rows are, for the record.
        num_classes: The number of classes (classification).
        repeats: Shuffles per column.
        seed: The shuffles' seed.

    Returns:
        The importances, most important first.

    Example:
        >>> x = np.arange(20.0).reshape(10, 2)
        >>> permutation_importance(lambda rows: rows[..., 1], x, x[:, 1], groups={"a": [0], "b": [1]},
        ...                        task="regression", metric="mae", repeats=2).columns[0].column
        'b'
    """
    worse = 1.0 if METRIC_DIRECTIONS.get(metric, "min") == "min" else -1.0
    rng = np.random.default_rng(seed)

    def measured(inputs: np.ndarray) -> float:
        return score(task, labels, predict(inputs), num_classes=num_classes)[metric]

    reference = measured(x)
    found = []
    for name, indices in groups.items():
        changes = []
        for _ in range(repeats):
            shuffled = x.copy()
            shuffled[..., list(indices)] = x[rng.permutation(len(x))][..., list(indices)]
            changes.append(worse * (measured(shuffled) - reference))
        found.append(ColumnImportance(name, float(np.mean(changes)), float(np.std(changes)), len(indices)))
    found.sort(key=lambda column: -column.importance)
    return PermutationImportance(metric, part, len(x), repeats, float(reference), tuple(found))
