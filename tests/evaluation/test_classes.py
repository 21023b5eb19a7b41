"""Tests of dlworkflow.evaluation.classes: the per-class report a classification run records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dlworkflow.evaluation import class_report, confusion, per_class_accuracy
from dlworkflow.evaluation.classes import class_balance_lines
from dlworkflow.registry import RunRecord


def one_hot(indices, classes: int) -> np.ndarray:
    return np.eye(classes)[np.asarray(indices)]


def test_report_of_hand_checked_predictions(make_dataset):
    dataset = make_dataset(task="classification", rows=20, classes=3, validation=False)
    labels = dataset.test.labels
    predicted = labels.copy()
    predicted[0] = (labels[0] + 1) % 3  # one mistake: row 0's true class taken for the next one
    report = class_report(dataset, {"test": one_hot(predicted, 3)})

    assert report["names"] == ["class_0", "class_1", "class_2"]
    matrix = report["confusion"]["test"]
    assert matrix == confusion(labels, predicted, 3)
    assert sum(map(sum, matrix)) == dataset.test.size
    # Rows are true classes, columns predicted ones.
    true, guessed = int(labels[0]), int(predicted[0])
    assert matrix[true][guessed] == 1
    for index in range(3):
        assert sum(matrix[index]) == int(np.sum(labels == index))
    expected = per_class_accuracy(labels, predicted, 3, report["names"])
    assert report["per_class_accuracy"]["test"] == expected
    assert report["per_class_accuracy"]["test"][f"class_{true}"] < 1.0


def test_parts_follow_the_dataset_order_and_only_predicted_parts(make_dataset):
    dataset = make_dataset(task="classification", rows=30, validation=True)
    predictions = {name: one_hot(dataset.parts[name].labels, 3) for name in ("test", "train")}
    report = class_report(dataset, predictions)
    assert list(report["confusion"]) == ["train", "test"]
    assert list(report["per_class_accuracy"]) == ["train", "test"]
    assert all(value in (1.0, None) for value in report["per_class_accuracy"]["train"].values())


def test_class_indices_work_as_predictions_too(make_dataset):
    dataset = make_dataset(task="classification", rows=20, validation=False)
    from_indices = class_report(dataset, {"test": dataset.test.labels})
    from_probabilities = class_report(dataset, {"test": one_hot(dataset.test.labels, 3)})
    assert from_indices == from_probabilities


def test_a_class_without_test_rows_has_no_accuracy(make_image_dataset):
    dataset = make_image_dataset(rows=6, test_rows=2, classes=3)  # test labels hold 2 of the 3 classes
    report = class_report(dataset, {"test": np.zeros(dataset.test.size, dtype=np.int64)})
    missing = set(report["names"]) - {report["names"][label] for label in dataset.test.labels}
    assert missing
    for name in missing:
        assert report["per_class_accuracy"]["test"][name] is None


def test_regression_has_no_class_report(make_dataset):
    dataset = make_dataset(task="regression")
    assert class_report(dataset, {"test": dataset.test.labels}) is None


def test_the_report_is_plain_json_and_fits_the_run_record(make_dataset):
    dataset = make_dataset(task="classification", rows=30, validation=True)
    probabilities = np.random.default_rng(0).dirichlet(np.ones(3), size=dataset.test.size)
    report = class_report(dataset, {"test": probabilities})
    assert json.loads(json.dumps(report)) == report
    record = RunRecord(id="r1", name="m", classes=report)
    assert RunRecord.from_json(record.to_json()).classes == report


def test_rows_must_match_the_labels(make_dataset):
    dataset = make_dataset(task="classification", rows=20, validation=False)
    with pytest.raises(ValueError, match=r"class_report: the test predictions have 3 rows for 4 labels"):
        class_report(dataset, {"test": one_hot([0, 1, 2], 3)})


def test_an_unknown_part_is_refused(make_dataset):
    dataset = make_dataset(task="classification", rows=20, validation=False)
    with pytest.raises(ValueError, match=r"'validation' is not a part of the dataset; its parts are 'train', 'test'"):
        class_report(dataset, {"validation": one_hot([0], 3)})


def test_counts_cover_every_part_of_the_dataset_even_unpredicted_ones(make_dataset):
    dataset = make_dataset(task="classification", rows=40, validation=True)
    report = class_report(dataset, {"test": one_hot(dataset.test.labels, 3)})
    assert list(report["counts"]) == ["train", "validation", "test"]
    for name, part in dataset.parts.items():
        assert report["counts"][name] == {
            f"class_{index}": int(np.sum(part.labels == index)) for index in range(3)
        }
        assert sum(report["counts"][name].values()) == part.size
    # the test counts agree with the confusion matrix's rows
    assert [sum(row) for row in report["confusion"]["test"]] == list(report["counts"]["test"].values())


def test_a_class_without_rows_in_a_part_counts_zero(make_image_dataset):
    dataset = make_image_dataset(rows=6, test_rows=2, classes=3)
    report = class_report(dataset, {"test": np.zeros(dataset.test.size, dtype=np.int64)})
    absent = {name for index, name in enumerate(report["names"]) if index not in set(dataset.test.labels.tolist())}
    assert absent and all(report["counts"]["test"][name] == 0 for name in absent)


def test_class_balance_in_words():
    classes = {"counts": {"train": {"common": 208, "rare": 12}, "validation": {"common": 76, "rare": 4},
                          "test": {"common": 94, "rare": 6}}}
    weights = {"common": 0.528846, "rare": 9.1666}
    balanced = {"train": {"class_weight": "balanced"}}
    assert class_balance_lines(classes, weights, spec=balanced) == [
        "rows per class (train / validation / test): common 208/76/94 · rare 12/4/6",
        "class weights in the training loss (balanced on the training rows): common 0.529 · rare 9.17",
    ]
    table = {"train": {"class_weight": {"rare": 9.0}}}
    assert class_balance_lines(classes, {"common": 1.0, "rare": 9.0}, spec=table)[1] == (
        "class weights in the training loss: common 1 · rare 9"
    )
    # a record written before counts and weights existed says nothing
    assert class_balance_lines({"names": ["a"], "per_class_accuracy": {}}, None) == []
    assert class_balance_lines(None, None) == []
