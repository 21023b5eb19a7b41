"""Permutation importance: columns grouped back from their encoding, the score's direction, the spread."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dlworkflow.data.column_encoding import TableEncoding
from dlworkflow.data.column_types import column_profiles
from dlworkflow.data.preprocessing import TablePreprocessing
from dlworkflow.evaluation.explanation_plots import importance_figure
from dlworkflow.evaluation.permutation_importance import (
    PermutationImportance,
    column_groups,
    permutation_importance,
)


def test_a_category_is_one_column_however_many_one_hot_inputs_it_has():
    train = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "colour": ["red", "blue", "green", "red"]})
    encoding = TableEncoding.fit(train, column_profiles(train))
    preprocessing = TablePreprocessing(encoding.output_names, "y", encoding=encoding)
    groups = column_groups(preprocessing)
    assert set(groups) == {"size", "colour"}
    assert len(groups["colour"]) >= 3  # one input per value (and an <other>), shuffled together
    assert sorted(index for indices in groups.values() for index in indices) == list(range(len(encoding.output_names)))


def test_the_column_the_model_uses_ranks_first_and_an_unused_one_scores_zero():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3))
    labels = 2.0 * x[:, 2] + 0.5 * x[:, 0]
    result = permutation_importance(lambda rows: 2.0 * rows[:, 2] + 0.5 * rows[:, 0], x, labels,
                                    groups={"a": [0], "unused": [1], "b": [2]}, task="regression", metric="rmse")
    assert [column.column for column in result.columns] == ["b", "a", "unused"]
    assert result.columns[0].importance > result.columns[1].importance > 0
    assert result.columns[2].importance == 0.0 and result.columns[2].spread == 0.0
    assert result.score == 0.0 and result.rows == 300 and result.repeats == 5
    assert result.columns[0].spread > 0  # different shuffles, different damage


def test_a_metric_where_higher_is_better_counts_a_drop_as_importance():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 2))
    labels = (x[:, 1] > 0).astype(int)

    def probabilities(rows):
        positive = 1 / (1 + np.exp(-10 * rows[:, 1]))
        return np.stack([1 - positive, positive], axis=1)

    result = permutation_importance(probabilities, x, labels, groups={"noise": [0], "signal": [1]},
                                    task="classification", metric="accuracy", num_classes=2, repeats=3)
    assert result.columns[0].column == "signal" and result.columns[0].importance > 0.3
    assert PermutationImportance.from_dict(result.to_dict()) == result
    assert len(importance_figure(result).axes) == 1
