"""Tests of dlworkflow.evaluation.text_baselines and text_columns: TF-IDF baselines beside every text run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from dlworkflow.data.column_encoding import ColumnEncoding, TableEncoding
from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.data.preprocessing import TablePreprocessing
from dlworkflow.evaluation import baselines_for, evaluate_baselines, skipped_baselines
from dlworkflow.evaluation.text_baselines import (
    TfIdfLogisticRegressionBaseline,
    TfIdfRidgeBaseline,
    fit_vectorizer,
    row_texts,
)
from dlworkflow.evaluation.text_columns import (
    other_input_positions,
    text_columns,
    token_id_reason,
)

# Each class has its own words; every sentence also carries shared filler words.
CLASS_WORDS = {
    "animal": ["dog", "cat", "horse", "bird", "fish", "fur", "paws", "feathers"],
    "plant": ["tree", "leaf", "flower", "root", "seed", "bark", "petal", "moss"],
    "artifact": ["tool", "machine", "hammer", "engine", "wheel", "metal", "screw", "device"],
}
FILLER = ["a", "the", "of", "with", "that", "is", "small", "large", "kind", "usually"]


def sentences(rows: int, seed: int, classes=("animal", "plant", "artifact"), weights=(0.6, 0.25, 0.15)):
    """Short 'definitions' whose class shows in two of their words; imbalanced classes."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(len(classes), size=rows, p=weights)
    texts = []
    for label in labels:
        words = list(rng.choice(FILLER, size=5)) + list(rng.choice(CLASS_WORDS[classes[label]], size=2))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, labels


def text_part(name, texts, labels, *, extra: dict | None = None, x=None) -> Part:
    """A Part whose raw rows hold the text; ``x`` stands in for the network's encoded inputs."""
    labels = np.asarray(labels)
    frame = pd.DataFrame({"definition": texts, **(extra or {})})
    if x is None:
        x = np.random.default_rng(0).integers(0, 50, size=(len(labels), 6))
    return Part(name=name, x=np.ascontiguousarray(x, dtype=np.float32), y=labels.astype(np.float32),
                labels=labels, frame=frame)


def text_encoding(*names: str, sequence: bool = False) -> TableEncoding:
    """The fitted encoding of the text columns, as preparation saves it (``type == "text"``)."""
    columns = []
    for name in names:
        column = ColumnEncoding(name, "text", tuple(f"{name}[{i}]" for i in range(6)))
        if sequence:
            from dlworkflow.data.text_encoding import TextEncoding

            column = ColumnEncoding(name, "text", column.outputs, text=TextEncoding("sequence", ("dog", "cat")))
        columns.append(column)
    return TableEncoding(columns=tuple(columns))


def text_dataset(parts: dict[str, Part], *, task="classification", columns=("definition",), sequence=False,
                 encoding: TableEncoding | None = None) -> Dataset:
    classes = tuple(CLASS_WORDS) if task == "classification" else None
    return Dataset(
        name="hand-made-text",
        task=task,
        target="category" if task == "classification" else "score",
        feature_names=tuple(columns),
        class_names=classes,
        target_encoding="integer" if task == "classification" else None,
        parts=parts,
        preprocessing=TablePreprocessing(
            feature_names=tuple(columns), target="y", task=task,
            encoding=encoding if encoding is not None else text_encoding(*columns, sequence=sequence),
        ),
    )


@pytest.fixture
def glosses() -> Dataset:
    train_texts, train_labels = sentences(300, seed=1)
    test_texts, test_labels = sentences(120, seed=2)
    return text_dataset({
        "train": text_part("train", train_texts, train_labels),
        "test": text_part("test", test_texts, test_labels),
    })


# --- which columns are text ------------------------------------------------------------------


def test_text_columns_come_from_the_fitted_encoding(glosses):
    assert text_columns(glosses) == ("definition",)
    mixed = TableEncoding(columns=(
        ColumnEncoding("mass", "number", ("mass",)),
        ColumnEncoding("title", "text", ("title[0]",)),
        ColumnEncoding("island", "category", ("island=A", "island=<other>"), ("A",)),
        ColumnEncoding("body", "text", ("body[0]",)),
    ))
    assert text_columns(text_dataset(glosses.parts, encoding=mixed)) == ("title", "body")


def test_no_text_columns_without_an_encoding_or_for_images(glosses, make_image_dataset):
    plain = Dataset(name="t", task="classification", target="y", feature_names=("definition",),
                    class_names=tuple(CLASS_WORDS), target_encoding="integer", parts=glosses.parts)
    assert plain.preprocessing.encoding is None
    assert text_columns(plain) == () and token_id_reason(plain) is None
    assert text_columns(make_image_dataset()) == ()
    assert [b.name for b in baselines_for(plain, None)] == ["majority_class", "logistic_regression"]


# --- beside every text run -------------------------------------------------------------------


def test_tf_idf_baseline_runs_beside_the_majority_class_and_beats_it(glosses):
    assert [b.name for b in baselines_for(glosses, None)] == [
        "majority_class", "logistic_regression", "tf_idf_logistic_regression"
    ]
    results = evaluate_baselines(glosses, None)

    majority = results["majority_class"]["test"]["accuracy"]
    tf_idf = results["tf_idf_logistic_regression"]["test"]["accuracy"]
    assert majority < 0.7
    assert tf_idf > 0.95
    assert results["tf_idf_logistic_regression"]["test"]["log_loss"] < results["majority_class"]["test"]["log_loss"]


def test_probabilities_have_a_column_per_class_and_sum_to_one(glosses):
    baseline = TfIdfLogisticRegressionBaseline(("definition",), num_classes=5).fit(glosses.train)
    probabilities = baseline.predict(glosses.test)
    assert probabilities.shape == (glosses.test.size, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert np.all(probabilities[:, 3:] == 0)  # classes never seen in training


def test_fitted_on_the_training_rows_only(glosses):
    # A word only the test rows use never enters the vocabulary.
    test = glosses.test
    marked = text_part("test", [text + " zebraword" for text in test.frame["definition"]], test.labels)
    baseline = TfIdfLogisticRegressionBaseline(("definition",), num_classes=3).fit(glosses.train)
    vocabulary = baseline.estimator_.named_steps["tf_idf"].vocabulary_
    assert not any("zebraword" in term for term in vocabulary)
    assert baseline.rows_fitted_ == glosses.train.size
    assert baseline.predict(marked).shape == (test.size, 3)  # the unseen word is simply no term


def test_several_text_columns_are_joined(glosses):
    # The class words sit in the second column only: the baseline must read it.
    def part(name, seed, rows):
        texts, labels = sentences(rows, seed)
        filler = [" ".join(np.random.default_rng(seed + i).choice(FILLER, size=4)) for i in range(rows)]
        return text_part(name, filler, labels, extra={"notes": texts})

    dataset = text_dataset({"train": part("train", 3, 300), "test": part("test", 4, 100)},
                           columns=("definition", "notes"))
    assert row_texts(dataset.train, ("definition", "notes"))[0].endswith(dataset.train.frame["notes"][0])
    results = evaluate_baselines(dataset, None)
    assert results["tf_idf_logistic_regression"]["test"]["accuracy"] > 0.95


def test_missing_texts_are_empty():
    part = text_part("train", ["red fox", None, np.nan], [0, 1, 0])
    assert row_texts(part, ("definition",)).tolist() == ["red fox", "", ""]


def test_a_handful_of_rows_keeps_every_term_and_wordless_texts_predict_the_class_shares():
    vectorizer, vectors = fit_vectorizer(pd.Series(["red fox", "blue hen"]))
    assert vectorizer is not None and vectors.shape[0] == 2  # no term in 2 rows: min_df falls back to 1

    train = text_part("train", ["", "...", None, "!"], [0, 0, 1, 0])
    test = text_part("test", ["a dog", ""], [1, 0])
    baseline = TfIdfLogisticRegressionBaseline(("definition",), num_classes=3).fit(train)
    np.testing.assert_allclose(baseline.predict(test), [[0.75, 0.25, 0.0]] * 2)


def test_one_training_class_predicts_it():
    train = text_part("train", ["a dog", "a cat", "the dog"], [2, 2, 2])
    baseline = TfIdfLogisticRegressionBaseline(("definition",), num_classes=3).fit(train)
    np.testing.assert_allclose(baseline.predict(train), [[0.0, 0.0, 1.0]] * 3)


def test_a_large_training_part_is_fitted_on_a_fixed_sample(glosses):
    first = TfIdfLogisticRegressionBaseline(("definition",), num_classes=3, max_fit_rows=100).fit(glosses.train)
    second = TfIdfLogisticRegressionBaseline(("definition",), num_classes=3, max_fit_rows=100).fit(glosses.train)
    assert first.rows_fitted_ == 100
    np.testing.assert_array_equal(first.predict(glosses.test), second.predict(glosses.test))


def test_predict_before_fit_says_so():
    with pytest.raises(NotFittedError, match="call fit"):
        TfIdfLogisticRegressionBaseline(("definition",), num_classes=2).predict(text_part("t", ["a"], [0]))
    with pytest.raises(NotFittedError, match="call fit"):
        TfIdfRidgeBaseline(("definition",)).predict(text_part("t", ["a"], [0.0]))


def test_skipped_when_the_rows_lack_the_raw_text(glosses):
    test = glosses.test
    bare = Part("test", test.x, test.y, test.labels, test.frame.drop(columns=["definition"]))
    dataset = text_dataset(dict(glosses.parts, test=bare))
    assert skipped_baselines(dataset, None) == {
        "tf_idf_logistic_regression": "the test part's rows lack the raw text of column 'definition'"
    }
    assert "tf_idf_logistic_regression" not in evaluate_baselines(dataset, None)


# --- token ids: the linear baselines on the inputs step aside --------------------------------


def test_token_ids_skip_the_linear_baselines_on_the_inputs(glosses):
    pytest.importorskip("dlworkflow.data.text_encoding")
    dataset = text_dataset(glosses.parts, sequence=True)
    reason = token_id_reason(dataset)
    assert reason == (
        "the inputs are token ids of the text column 'definition' (an id's size means nothing to a linear "
        "model): tf_idf_logistic_regression fits on the words instead"
    )
    assert skipped_baselines(dataset, None) == {"logistic_regression": reason}
    assert [b.name for b in baselines_for(dataset, None)] == ["majority_class", "tf_idf_logistic_regression"]


# --- regression ------------------------------------------------------------------------------


def regression_part(name, rows, seed):
    """A score that counts the 'big' words of each text: a bag of words explains it."""
    rng = np.random.default_rng(seed)
    big = ["huge", "giant", "vast", "enormous"]
    texts, scores = [], []
    for _ in range(rows):
        count = int(rng.integers(0, 4))
        words = list(rng.choice(FILLER, size=5)) + list(rng.choice(big, size=count))
        rng.shuffle(words)
        texts.append(" ".join(words))
        scores.append(2.0 * count + rng.normal(scale=0.1))
    return text_part(name, texts, np.asarray(scores, dtype=np.float64))


def test_tf_idf_ridge_runs_beside_the_mean_for_a_text_regression():
    dataset = text_dataset({"train": regression_part("train", 300, 5), "test": regression_part("test", 100, 6)},
                           task="regression")
    assert [b.name for b in baselines_for(dataset, None)] == ["mean", "linear_regression", "tf_idf_ridge"]
    results = evaluate_baselines(dataset, None)
    assert results["tf_idf_ridge"]["test"]["r2"] > 0.8
    assert results["tf_idf_ridge"]["test"]["rmse"] < 0.5 * results["mean"]["test"]["rmse"]


def test_tf_idf_ridge_without_words_predicts_the_training_mean():
    train = text_part("train", ["", None, "?"], np.array([1.0, 2.0, 6.0]))
    baseline = TfIdfRidgeBaseline(("definition",)).fit(train)
    np.testing.assert_allclose(baseline.predict(text_part("test", ["a dog"], np.array([0.0]))), [3.0])


def test_regression_token_ids_skip_linear_regression():
    pytest.importorskip("dlworkflow.data.text_encoding")
    dataset = text_dataset({"train": regression_part("train", 40, 5), "test": regression_part("test", 20, 6)},
                           task="regression", sequence=True)
    assert list(skipped_baselines(dataset, None)) == ["linear_regression"]
    assert "tf_idf_ridge fits on the words instead" in skipped_baselines(dataset, None)["linear_regression"]


# --- text beside other columns ---------------------------------------------------------------


def test_other_input_positions_are_the_encoded_columns_that_are_not_text(glosses):
    mixed = TableEncoding(columns=(
        ColumnEncoding("mass", "number", ("mass",)),
        ColumnEncoding("title", "text", ("title[0]", "title[1]")),
        ColumnEncoding("island", "category", ("island=A", "island=<other>"), ("A",)),
        ColumnEncoding("body", "text", ("body[0]",)),
    ))
    assert other_input_positions(text_dataset(glosses.parts, encoding=mixed)) == (0, 3, 4)
    assert other_input_positions(glosses) == ()


def text_and_number_part(name, rows, seed):
    """A score from the text's 'big' words and from a number column: neither alone explains it."""
    part = regression_part(name, rows, seed)
    amount = np.random.default_rng(seed + 100).normal(10.0, 3.0, rows)
    ids = np.random.default_rng(seed).integers(0, 50, size=(rows, 6))
    return Part(name=name, x=np.column_stack([ids, amount]).astype(np.float32),
                y=(part.labels + 3.0 * amount).astype(np.float32), labels=part.labels + 3.0 * amount, frame=part.frame)


def test_the_tf_idf_baselines_use_the_other_columns_beside_the_words():
    from dlworkflow.data.text_encoding import TextEncoding

    encoding = TableEncoding(columns=(
        ColumnEncoding("definition", "text", tuple(f"definition[{i}]" for i in range(6)),
                       text=TextEncoding("sequence", ("huge",), sequence_length=6)),
        ColumnEncoding("amount", "number", ("amount",)),
    ))
    dataset = text_dataset({"train": text_and_number_part("train", 300, 5), "test": text_and_number_part("test", 100, 6)},
                           task="regression", columns=("definition", "amount"), encoding=encoding)
    (baseline,) = [b for b in baselines_for(dataset, None) if b.name == "tf_idf_ridge"]
    assert baseline.other_inputs == (6,)
    assert "words and word pairs beside the 1 other input the network gets (standardized)" in baseline.description
    both = evaluate_baselines(dataset, None)["tf_idf_ridge"]["test"]["r2"]
    words_only = TfIdfRidgeBaseline(("definition",)).fit(dataset.train)
    assert "other input" not in words_only.description
    truth = dataset.test.labels
    r2_words = 1 - np.sum((words_only.predict(dataset.test) - truth) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert both > 0.95 and r2_words < 0.7


def test_the_tf_idf_classifier_uses_a_category_beside_the_words(glosses):
    # The label shows in the words for most rows, and in a one-hot column for every row.
    rng = np.random.default_rng(3)

    def part(name, rows, seed):
        texts, labels = sentences(rows, seed)
        texts = [text if rng.random() < 0.5 else "a the of" for text in texts]  # half the rows lose their words
        onehot = np.eye(3)[labels]
        return text_part(name, texts, labels, x=np.column_stack([np.zeros((rows, 6)), onehot]))

    encoding = TableEncoding(columns=(
        *text_encoding("definition", sequence=True).columns,
        ColumnEncoding("kind", "category", ("kind=0", "kind=1", "kind=2"), ("0", "1", "2")),
    ))
    dataset = text_dataset({"train": part("train", 300, 1), "test": part("test", 120, 2)}, encoding=encoding)
    results = evaluate_baselines(dataset, None)
    assert results["tf_idf_logistic_regression"]["test"]["accuracy"] > 0.95
    words_only = TfIdfLogisticRegressionBaseline(("definition",), num_classes=3).fit(dataset.train)
    accuracy = np.mean(words_only.predict(dataset.test).argmax(axis=1) == dataset.test.labels)
    assert accuracy < 0.9
