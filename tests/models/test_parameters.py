"""Tests of dlworkflow.models.parameters: counts equal Keras', formulas explain them."""

from __future__ import annotations

import json
import math

import keras
import pytest

from dlworkflow.models import build_model, explain_parameters, layer_formula, overparameterized_warning
from dlworkflow.models.parameters import COUNTED_BY_KERAS, NO_WEIGHTS
from dlworkflow.spec import validate_spec


def formula_value(formula: str) -> int:
    """Evaluate the left side of a formula such as '89·100 + 100 = 9,000' or '0 (no weights)'."""
    left = formula.split("=", 1)[0].split("(", 1)[0]
    return sum(math.prod(int(f.replace(",", "")) for f in term.split("·")) for term in left.split("+"))


def build(input_shape, *layers, name="model"):
    inputs = keras.Input(shape=input_shape, name="input")
    outputs = inputs
    for layer in layers:
        outputs = layer(outputs)
    return keras.Model(inputs, outputs, name=name)


def weather_spec(layers):
    document = {"name": "weather", "data": {"dataset": "weather", "target": "y"}, "model": {"layers": layers}}
    return validate_spec(document, source="weather.toml")


def relu(units):
    return {"type": "Dense", "units": units, "activation": "relu"}


@pytest.mark.parametrize(
    ("layers", "total", "non_trainable"),
    [
        ([relu(100), relu(50), {"type": "Dense", "units": 1}], 14_101, 0),
        ([relu(10), relu(5), {"type": "Dense", "units": 1}], 961, 0),
        ([{"type": "BatchNormalization"}, relu(100), relu(50), {"type": "Dense", "units": 1}], 14_457, 178),
    ],
    ids=["weather-100-50-1", "weather-10-5-1", "weather-batchnorm"],
)
def test_lesson_weather_models(make_dataset, layers, total, non_trainable):
    report = explain_parameters(build_model(weather_spec(layers), make_dataset(features=89)))

    assert (report.total, report.non_trainable, report.trainable) == (total, non_trainable, total - non_trainable)
    assert sum(row.total for row in report.layers) == total
    assert report.layers[0].type == "InputLayer" and report.layers[0].formula == NO_WEIGHTS


def test_lesson_formulas_for_the_weather_model(make_dataset):
    layers = [{"type": "BatchNormalization"}, relu(100), relu(50), {"type": "Dense", "units": 1}]
    report = explain_parameters(build_model(weather_spec(layers), make_dataset(features=89)))

    formulas = [row.formula for row in report.layers]
    assert formulas[1] == "4·89 = 356 (2·89 = 178 non-trainable: moving mean and variance)"
    assert formulas[2] == "89·100 + 100 = 9,000"
    assert formulas[3] == "100·50 + 50 = 5,050"
    assert formulas[4] == "50·1 + 1 = 51"
    assert report.layers[2].output_shape == (None, 100)


def test_lesson_penguins_model_has_83_parameters(make_dataset):
    spec = weather_spec([relu(10), {"type": "Dense", "units": 3, "activation": "softmax"}])
    report = explain_parameters(build_model(spec, make_dataset(task="classification", features=4, classes=3)))
    assert report.total == 83
    assert [row.formula for row in report.layers[1:]] == ["4·10 + 10 = 50", "10·3 + 3 = 33"]


@pytest.mark.parametrize(
    ("input_shape", "layer"),
    [
        ((89,), keras.layers.Dense(100)),
        ((89,), keras.layers.Dense(7, use_bias=False)),
        ((89,), keras.layers.BatchNormalization()),
        ((89,), keras.layers.BatchNormalization(center=False)),
        ((32, 32, 3), keras.layers.Conv2D(100, 3)),
        ((32, 32, 3), keras.layers.Conv2D(100, 3, use_bias=False)),
        ((20, 4), keras.layers.Conv1D(8, 5)),
        ((89,), keras.layers.Dropout(0.2)),
        ((10,), keras.layers.Embedding(1000, 16)),
        ((12,), keras.layers.LayerNormalization()),
        ((8, 8, 2), keras.layers.MaxPooling2D()),
        ((8, 8, 2), keras.layers.Flatten()),
    ],
    ids=lambda value: value.__class__.__name__ if isinstance(value, keras.layers.Layer) else str(value),
)
def test_formula_result_equals_the_keras_count(input_shape, layer):
    model = build(input_shape, layer)
    row = explain_parameters(model).layers[1]

    assert row.total == layer.count_params()
    assert formula_value(row.formula) == row.total
    assert row.formula.endswith(f"= {row.total:,}") or f"= {row.total:,} (" in row.formula or row.formula == NO_WEIGHTS


def test_lesson_convolution_exercise_without_bias():
    # 100 kernels of 3·3·3 on 32·32·3 images, no bias: 2,700 parameters.
    layer = keras.layers.Conv2D(100, 3, use_bias=False)
    build((32, 32, 3), layer)
    assert layer_formula(layer) == "3·3·3·100 = 2,700"


def test_batchnorm_formula_splits_non_trainable():
    layer = keras.layers.BatchNormalization()
    build((89,), layer)
    formula = layer_formula(layer)
    non_trainable = formula.split("(", 1)[1]
    assert formula_value(non_trainable) == sum(math.prod(w.shape) for w in layer.non_trainable_weights) == 178


def test_weightless_and_unknown_layers():
    dropout = keras.layers.Dropout(0.5)
    prelu = keras.layers.PReLU()
    build((6,), dropout, prelu)
    assert layer_formula(dropout) == "0 (no weights)"
    assert layer_formula(prelu) == f"{COUNTED_BY_KERAS}: 6"


def test_frozen_layer_is_all_non_trainable():
    layer = keras.layers.Dense(2)
    model = build((3,), layer)
    layer.trainable = False
    report = explain_parameters(model)
    assert (report.trainable, report.non_trainable) == (0, 8)
    assert report.layers[1].formula == "3·2 + 2 = 8 (layer frozen: all non-trainable)"


def test_records_are_json_serializable(make_dataset):
    report = explain_parameters(build_model(weather_spec([relu(3), {"type": "Dense", "units": 1}]), make_dataset()))
    records = json.loads(json.dumps(report.records()))
    assert records[1] == {
        "name": "dense",
        "type": "Dense",
        "output_shape": [None, 3],
        "total": 15,
        "trainable": 15,
        "non_trainable": 0,
        "formula": "4·3 + 3 = 15",
    }


def test_overparameterized_warning(make_dataset):
    layers = [relu(100), relu(50), {"type": "Dense", "units": 1}]
    report = explain_parameters(build_model(weather_spec(layers), make_dataset(features=89)))

    message = overparameterized_warning(report, train_rows=767)

    assert message is not None
    assert "14,101 trainable parameters for 767 training rows (18 per row)" in message
    assert overparameterized_warning(report, train_rows=2000) is None
    assert overparameterized_warning(report, train_rows=2000, ratio=5) is not None
    assert overparameterized_warning(report, train_rows=0) is None
