"""Tests of dlworkflow.data.split: the lesson's scikit-learn calls, by split.type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from dlworkflow.data.split import SPLITTERS, Splitter, part_sizes, split_rows, split_train_validation
from dlworkflow.errors import DataError, SpecError
from dlworkflow.spec import SplitSpec


def onehot(labels: list[int] | np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float32)[np.asarray(labels)]


def test_registry_covers_every_spec_type():
    from dlworkflow.spec import registries

    assert SPLITTERS is registries.SPLIT_TYPES
    assert list(SPLITTERS) == ["random", "stratified", "ordered"]
    assert SPLITTERS["stratified"].stratify and not SPLITTERS["ordered"].shuffle


class TailFirst(Splitter):
    """A test splitter: the test rows are the first rows (the opposite of 'ordered')."""

    def cut(self, rows, fraction, y, *, seed):
        count = int(np.ceil(fraction * len(rows)))
        return rows[count:], rows[:count]


def test_a_registered_split_type_is_validated_and_used():
    from dlworkflow.spec import validate_spec

    document = {"name": "s", "data": {"dataset": "weather", "target": "BASEL_sunshine"},
                "split": {"type": "tail_first", "test": 0.2}, "model": {"layers": [{"type": "Dense", "units": 1}]}}
    with pytest.raises(SpecError, match=r"split\.type: unknown split type; got 'tail_first'\. Valid options: "
                       r"'random', 'stratified', 'ordered'\."):
        validate_spec(document)
    SPLITTERS.register("tail_first", TailFirst(shuffle=False))
    try:
        spec = validate_spec(document)
        parts = split_rows(spec.split, np.zeros(10), task="regression")
        assert parts["test"].tolist() == [0, 1] and parts["train"].tolist() == list(range(2, 10))
    finally:
        SPLITTERS.unregister("tail_first")


@pytest.mark.parametrize(("rows", "test", "validation", "seed"), [(1096, 0.15, 0.15, 0), (100, 0.2, 0.1, 3), (57, 0.1, 0.3, 42)])
def test_random_is_the_lessons_two_calls(rows, test, validation, seed):
    parts = split_rows(SplitSpec(type="random", test=test, validation=validation, seed=seed), np.zeros(rows), task="regression")
    x = np.arange(rows)
    train, holdout = train_test_split(x, test_size=test + validation, random_state=seed)
    val, tst = train_test_split(holdout, test_size=test / (test + validation), random_state=seed)
    assert list(parts) == ["train", "validation", "test"]
    np.testing.assert_array_equal(parts["train"], train)
    np.testing.assert_array_equal(parts["validation"], val)
    np.testing.assert_array_equal(parts["test"], tst)


def test_lesson_weather_sizes():
    parts = split_rows(SplitSpec(test=0.15, validation=0.15, seed=0), np.zeros(1096), task="regression")
    assert [len(part) for part in parts.values()] == [767, 164, 165]


def test_without_validation_one_call_and_no_validation_part():
    parts = split_rows(SplitSpec(test=0.25, seed=1), np.zeros(40), task="regression")
    assert list(parts) == ["train", "test"]
    train, test = train_test_split(np.arange(40), test_size=0.25, random_state=1)
    np.testing.assert_array_equal(parts["train"], train)
    np.testing.assert_array_equal(parts["test"], test)


def test_parts_partition_the_rows():
    parts = split_rows(SplitSpec(type="stratified", test=0.2, validation=0.2, seed=5),
                       onehot(np.arange(90) % 3, 3), task="classification")
    together = np.concatenate(list(parts.values()))
    assert sorted(together.tolist()) == list(range(90))


def test_stratified_uses_the_onehot_target_as_the_lesson(shared_data):
    penguins = pd.read_csv(shared_data / "penguins" / "penguins.csv").drop(columns=["island", "sex"]).dropna()
    target = pd.get_dummies(penguins["species"])
    _, _, lesson_train, lesson_test = train_test_split(
        penguins.drop(columns=["species"]), target, test_size=0.2, random_state=0, shuffle=True, stratify=target
    )
    y = target.to_numpy(np.float32)
    parts = split_rows(SplitSpec(type="stratified", test=0.2, seed=0), y, task="classification",
                       class_names=tuple(target.columns))
    assert penguins.index[parts["train"]].equals(lesson_train.index)
    assert penguins.index[parts["test"]].equals(lesson_test.index)
    # Stratifying on 1-D labels orders the classes differently and gives another split.
    labels = split_rows(SplitSpec(type="stratified", test=0.2, seed=0), y.argmax(axis=1).astype(np.int32),
                        task="classification")
    assert not np.array_equal(labels["test"], parts["test"])


def test_stratified_keeps_proportions_in_every_part():
    y = onehot(np.repeat([0, 1], [80, 20]), 2)
    parts = split_rows(SplitSpec(type="stratified", test=0.2, validation=0.2, seed=0), y, task="classification")
    for part in parts.values():
        assert y[part][:, 1].mean() == pytest.approx(0.2, abs=0.01)


def test_stratified_second_call_stratifies_the_holdout():
    y = onehot(np.arange(60) % 3, 3)
    parts = split_rows(SplitSpec(type="stratified", test=0.25, validation=0.25, seed=7), y, task="classification")
    train, holdout = train_test_split(np.arange(60), test_size=0.5, random_state=7, stratify=y)
    val, test = train_test_split(holdout, test_size=0.5, random_state=7, stratify=y[holdout])
    np.testing.assert_array_equal(parts["validation"], val)
    np.testing.assert_array_equal(parts["test"], test)


def test_ordered_keeps_time_order():
    parts = split_rows(SplitSpec(type="ordered", test=0.15, validation=0.15, seed=3), np.zeros(100), task="regression")
    assert parts["train"].tolist() == list(range(70))
    assert parts["validation"].tolist() == list(range(70, 85))
    assert parts["test"].tolist() == list(range(85, 100))


@pytest.mark.parametrize(("rows", "test", "validation"), [(342, 0.2, 0.0), (1096, 0.15, 0.15), (3286, 0.15, 0.15), (11, 0.3, 0.3)])
def test_part_sizes_match_the_split(rows, test, validation):
    split = SplitSpec(test=test, validation=validation)
    parts = split_rows(split, np.zeros(rows), task="regression")
    sizes = part_sizes(rows, split)
    assert sizes == {name: len(parts.get(name, ())) for name in ("train", "validation", "test")}


def test_stratified_regression_is_a_spec_error():
    with pytest.raises(SpecError, match=r"^w\.toml: split\.type: stratified splitting needs a classification target, "
                       r"but the task is regression; got 'stratified'\. Use type = 'random'"):
        split_rows(SplitSpec(type="stratified"), np.zeros(50), task="regression", source="w.toml")


def test_class_too_small_to_stratify():
    y = onehot([0] * 10 + [1] * 10 + [2], 3)
    with pytest.raises(DataError, match=r"p\.toml: split\.type: cannot stratify: class 'Gentoo' has only 1 row in the "
                       r"data, and every class needs at least 2; got 'stratified'\. Use type = 'random'"):
        split_rows(SplitSpec(type="stratified", test=0.3), y, task="classification",
                   class_names=("Adelie", "Chinstrap", "Gentoo"), source="p.toml")


def test_class_too_small_in_the_holdout():
    y = onehot([0] * 20 + [1] * 2, 2)
    with pytest.raises(DataError, match=r"split: cannot make the 'stratified' split of 22 rows: .*least populated class"):
        split_rows(SplitSpec(type="stratified", test=0.2, validation=0.2), y, task="classification")


@pytest.mark.parametrize(
    ("rows", "test", "validation", "empty"),
    [(1, 0.2, 0.0, "train"), (2, 0.3, 0.3, "train"), (3, 0.1, 0.1, "validation")],
)
def test_too_few_rows(rows, test, validation, empty):
    with pytest.raises(DataError, match=rf"s\.toml: split: too few rows \({rows}\) for this split: the {empty} part would be empty"):
        split_rows(SplitSpec(test=test, validation=validation), np.zeros(rows), task="regression", source="s.toml")


@pytest.mark.parametrize("split_type", ["random", "stratified"])
def test_validation_split_is_one_train_test_split_call(split_type):
    labels = np.arange(5000) % 10
    parts = split_train_validation(SplitSpec(type=split_type, validation=0.15, seed=3), labels)
    train, validation = train_test_split(
        np.arange(5000), test_size=0.15, random_state=3, stratify=labels if split_type == "stratified" else None
    )
    assert list(parts) == ["train", "validation"]
    np.testing.assert_array_equal(parts["train"], train)
    np.testing.assert_array_equal(parts["validation"], validation)
    assert [len(part) for part in parts.values()] == [4250, 750]


def test_validation_split_ordered_and_absent():
    parts = split_train_validation(SplitSpec(type="ordered", validation=0.2), np.zeros(10, np.int64))
    assert {name: part.tolist() for name, part in parts.items()} == {
        "train": [0, 1, 2, 3, 4, 5, 6, 7], "validation": [8, 9]
    }
    assert {name: part.tolist() for name, part in split_train_validation(SplitSpec(), np.zeros(3)).items()} == {
        "train": [0, 1, 2]
    }


def test_validation_split_errors():
    with pytest.raises(DataError, match=r"^s\.toml: split\.validation: too few training rows \(1\) for this split: "
                       r"the train part would be empty; got 0\.5"):
        split_train_validation(SplitSpec(validation=0.5), np.zeros(1, np.int64), source="s.toml")
    with pytest.raises(DataError, match=r"cannot stratify: class 'b' has only 1 row in the training data"):
        split_train_validation(
            SplitSpec(type="stratified", validation=0.5), np.array([0, 0, 1, 0]), class_names=["a", "b"]
        )


def test_test_rows_repeated_in_training_give_a_warning():
    from dlworkflow.data.split import duplicated_rows_warnings

    features = pd.DataFrame({"a": [1, 2, 1, 3, 4, 4], "b": [5, 6, 5, 7, 8, 8]})
    target = pd.Series([0.0, 1.0, 0.0, 1.0, 2.0, 2.0], name="y")
    parts = {"train": np.array([0, 1, 4]), "validation": np.array([3]), "test": np.array([2, 5])}
    (warning,) = duplicated_rows_warnings(features, target, parts, source="t.toml")
    assert warning.startswith("t.toml: split: 2 of 2 test rows are also in the training rows")
    assert "drop_duplicates()" in warning
    assert duplicated_rows_warnings(features, target.where(target.index != 2, 9.0), parts) == (
        "<spec>: split: 1 of 2 test rows are also in the training rows (same features and target), so the test "
        "score partly measures memory, not new rows. Remove repeated rows before the split (pandas: "
        "table.drop_duplicates()), or keep the copies of a row together in one part.",
    )
    assert duplicated_rows_warnings(features.iloc[:4], target.iloc[:4], {"train": np.array([0, 1]),
                                                                         "test": np.array([3])}) == ()


def test_a_split_with_a_part_under_10_rows_warns_with_the_counts():
    from dlworkflow.data.split import MIN_PART_ROWS, small_parts_warnings, split_warnings

    parts = {"train": np.array([0]), "validation": np.array([1]), "test": np.array([2])}
    (warning,) = split_warnings(pd.DataFrame({"a": [1, 2, 3]}), pd.Series([1.0, 2.0, 3.0]), parts, source="t.toml")
    assert warning == (
        "t.toml: split: 3 rows split into train 1, validation 1, test 1; fewer than 10 rows in the train, validation, "
        "test parts, so a score there says little (one row more or less moves it by a large step). Use more rows "
        "(check data.rows and dropna), or give the small part a larger fraction in [split]."
    )
    (one,) = small_parts_warnings({"train": np.arange(40), "test": np.arange(40, 48)})
    assert "48 rows split into train 40, test 8; fewer than 10 rows in the test part," in one
    assert small_parts_warnings({"train": np.arange(40), "test": np.arange(40, 40 + MIN_PART_ROWS)}) == ()
