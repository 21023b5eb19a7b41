"""Tests of dlworkflow.training.class_weights and ``[train] class_weight`` in training: imbalanced classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.class_weight import compute_class_weight

from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.errors import SpecError
from dlworkflow.models import build_model
from dlworkflow.spec import validate_spec
from dlworkflow.training import (
    compile_model,
    evaluate_model,
    fit_model,
    predict,
    seed_everything,
)
from dlworkflow.training.class_weights import ClassWeights, class_weights


def make_spec(class_weight=None, *, units=2, task="auto", epochs=3, learning_rate=None):
    train = {"epochs": epochs, "batch_size": 32}
    if class_weight is not None:
        train["class_weight"] = class_weight
    if learning_rate is not None:
        train["optimizer"] = {"type": "adam", "learning_rate": learning_rate}
    document = {
        "name": "imbalanced",
        "data": {"dataset": "weather", "target": "kind", "task": task},
        "split": {"validation": 0.2},
        "model": {"layers": [{"type": "Dense", "units": units, "activation": "softmax"}]},
        "train": train,
    }
    return validate_spec(document, source="imbalanced.toml")


def imbalanced_dataset(encoding="onehot", *, rows=600, seed=0, labels=None, names=("common", "rare")) -> Dataset:
    """Two features; 'rare' (about 1 row in 12) where the first feature, blurred by noise, is high.

    The classes overlap, so an unweighted model puts its boundary where the common class wins
    most rows and misses most rare ones. Parts: 60% train, 20% validation, 20% test, in order.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 2)).astype(np.float32)
    if labels is None:
        labels = (x[:, 0] + 0.8 * rng.normal(size=rows) > 1.8).astype(np.int64)
    classes = len(names)
    y = np.eye(classes, dtype=np.float32)[labels] if encoding == "onehot" else labels.astype(np.int32)
    cuts = {"train": (0, int(rows * 0.6)), "validation": (int(rows * 0.6), int(rows * 0.8)),
            "test": (int(rows * 0.8), rows)}
    frame = pd.DataFrame(x, columns=["a", "b"])
    parts = {name: Part(name=name, x=x[a:b], y=y[a:b], labels=labels[a:b], frame=frame.iloc[a:b])
             for name, (a, b) in cuts.items()}
    return Dataset(
        name="imbalanced", task="classification", target="kind", feature_names=("a", "b"), class_names=tuple(names),
        target_encoding=encoding, parts=parts,  # type: ignore[arg-type]
        preprocessing={"feature_names": ["a", "b"], "scaling": {"method": "none"}},
    )


def rare_recall(model, dataset: Dataset) -> float:
    """The share of all 'rare' rows (every part) the model predicts as 'rare'."""
    x = np.concatenate([part.x for part in dataset.parts.values()])
    labels = np.concatenate([part.labels for part in dataset.parts.values()])
    predicted = np.argmax(np.asarray(model.predict(x, verbose=0)), axis=1)
    return float(np.mean(predicted[labels == 1] == 1))


def trained(spec, dataset):
    seed_everything(spec.train.seed)
    model = compile_model(build_model(spec, dataset), spec, dataset)
    return model, fit_model(model, spec, dataset, quiet=True)


# --- the weights ------------------------------------------------------------------------


def test_balanced_weights_are_scikit_learns_on_the_training_rows_only():
    dataset = imbalanced_dataset()
    train_labels = dataset.train.labels
    weights = class_weights(make_spec("balanced"), dataset)

    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=train_labels)
    assert weights.weights == pytest.approx(tuple(expected))
    counts = np.bincount(train_labels)
    assert weights.by_name()["rare"] == pytest.approx(len(train_labels) / (2 * counts[1]))
    # the validation and test rows hold another share of rare rows, and change nothing
    everything = np.concatenate([part.labels for part in dataset.parts.values()])
    assert np.mean(everything) != pytest.approx(np.mean(train_labels), abs=1e-3)
    assert weights.for_keras() == {0: pytest.approx(expected[0]), 1: pytest.approx(expected[1])}
    assert weights.setting == "balanced"


def test_a_table_weighs_the_classes_it_names_and_the_others_one():
    labels = np.arange(300) % 3
    dataset = imbalanced_dataset(labels=labels, rows=300, names=("Adelie", "Chinstrap", "Gentoo"))
    weights = class_weights(make_spec({"Chinstrap": 2.5}, units=3), dataset)
    assert weights == ClassWeights(("Adelie", "Chinstrap", "Gentoo"), (1.0, 2.5, 1.0), "table")
    assert weights.for_keras() == {0: 1.0, 1: 2.5, 2: 1.0}


def test_a_class_without_training_rows_weighs_one():
    labels = np.zeros(100, dtype=np.int64)
    labels[80:] = 1  # 'rare' only in the test part; a third class nowhere
    dataset = imbalanced_dataset(labels=labels, rows=100, names=("common", "rare", "never"))
    weights = class_weights(make_spec("balanced", units=3), dataset)
    assert weights.by_name() == {"common": 1.0, "rare": 1.0, "never": 1.0}


def test_no_setting_no_weights():
    assert class_weights(make_spec(), imbalanced_dataset()) is None


def test_a_label_the_data_lacks_is_refused_at_its_key_with_did_you_mean():
    dataset = imbalanced_dataset()
    with pytest.raises(SpecError, match=r"imbalanced\.toml: train\.class_weight\.raer: is not a class of the "
                                        r"target 'kind'; got 'raer'\. Did you mean 'rare'\?"):
        class_weights(make_spec({"raer": 3.0}), dataset)


def test_a_regression_target_is_refused(make_dataset):
    dataset = make_dataset(task="regression")
    with pytest.raises(SpecError, match=r"imbalanced\.toml: train\.class_weight: weighs classes, but the target "
                                        r"'y' is a regression target.*Remove train\.class_weight"):
        class_weights(make_spec("balanced", units=1), dataset)
    with pytest.raises(SpecError, match=r"train\.class_weight weighs classes, but data\.task is 'regression'"):
        make_spec("balanced", task="regression")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("balance", r"must be 'balanced' or a table of weights per class; got 'balance'\. Did you mean 'balanced'\?"),
        ({}, r"must be 'balanced' or a table of weights per class; got \{\}"),
        (3, r"must be 'balanced' or a table of weights per class; got 3"),
        ({"rare": -1}, r"the weight of class 'rare' must be a positive number; got -1"),
        ({"rare": 0}, r"the weight of class 'rare' must be a positive number; got 0"),
        ({"rare": True}, r"the weight of class 'rare' must be a positive number; got True"),
        ({"rare": "high"}, r"the weight of class 'rare' must be a positive number; got 'high'"),
    ],
)
def test_the_spec_refuses_what_is_not_balanced_or_a_table_of_positive_weights(value, message):
    with pytest.raises(SpecError, match=r"imbalanced\.toml: train\.class_weight: " + message):
        make_spec(value)


def test_a_spec_without_class_weight_keeps_its_fingerprint():
    assert "class_weight" not in make_spec().resolved()["train"]
    assert make_spec("balanced").resolved()["train"]["class_weight"] == "balanced"


# --- training with them -----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["onehot", "integer"])
def test_balanced_weights_raise_the_minority_recall(encoding):
    dataset = imbalanced_dataset(encoding)
    plain_model, plain = trained(make_spec(epochs=30, learning_rate=0.05), dataset)
    weighted_model, weighted = trained(make_spec("balanced", epochs=30, learning_rate=0.05), dataset)

    assert plain.class_weight is None
    assert weighted.class_weight == class_weights(make_spec("balanced"), dataset).by_name()
    assert weighted.class_weight["rare"] > 5 * weighted.class_weight["common"]
    unweighted_recall, balanced_recall = rare_recall(plain_model, dataset), rare_recall(weighted_model, dataset)
    assert unweighted_recall < 0.6
    assert balanced_recall > unweighted_recall + 0.25


def test_the_validation_loss_is_not_weighted():
    dataset = imbalanced_dataset()
    model, result = trained(make_spec({"rare": 50.0}, epochs=2), dataset)
    validation_loss = evaluate_model(model, dataset.validation)["loss"]
    assert result.history["val_loss"].iloc[-1] == pytest.approx(validation_loss, rel=1e-3)
    # the training rows' weighted loss is far above their unweighted one
    probabilities = predict(model, dataset.train)
    unweighted = -np.mean(np.log(probabilities[np.arange(dataset.train.size), dataset.train.labels]))
    assert result.history["loss"].iloc[-1] > 2 * unweighted



@pytest.mark.slow  # two convolutional fits, one reading PNG files (about 5 s)
def test_a_streamed_part_is_weighed_as_the_same_rows_in_memory(make_image_dataset, tmp_path):
    from test_streams import image_spec

    spec = image_spec(shuffle=False, epochs=1, class_weight={"bright": 4.0})
    losses = []
    for dataset in (make_image_dataset(), make_image_dataset(files=tmp_path)):
        seed_everything(0)
        model = compile_model(build_model(spec, dataset), spec, dataset)
        result = fit_model(model, spec, dataset, quiet=True)
        assert result.class_weight == {"dark": 1.0, "bright": 4.0}
        losses.append(result.history[["loss", "val_loss"]].to_numpy())
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4, atol=1e-6)
