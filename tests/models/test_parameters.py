"""Tests of dlworkflow.models.parameters: counts equal Keras', formulas explain them."""

from __future__ import annotations

import ast
import json
import math

import keras
import pytest

from dlworkflow.models import (
    build_model,
    explain_parameters,
    layer_formula,
    overparameterized_warning,
    shape_note,
)
from dlworkflow.models.parameters import COUNTED_BY_KERAS, NO_WEIGHTS
from dlworkflow.spec import validate_spec


def formula_value(formula: str) -> int:
    """Evaluate the left side of a formula such as '89·100 + 100 = 9,000', '4·(3·(8 + 3) + 3) = 144'
    or '0 (no weights)': integers, '·', '+' and parentheses only."""
    left = formula.split("=", 1)[0].replace(",", "").replace("·", "*")
    if "=" not in formula:
        left = left.split("(", 1)[0]
    return _arithmetic(ast.parse(left.strip(), mode="eval").body)


def _arithmetic(node: ast.AST) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _arithmetic(node.left) + _arithmetic(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _arithmetic(node.left) * _arithmetic(node.right)
    raise ValueError(f"not a formula of integers, '·' and '+': {ast.dump(node)}")


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
        ((7, 89), keras.layers.Conv1D(16, 3)),
        ((7, 89), keras.layers.Conv1D(16, 3, use_bias=False)),
        ((7, 89), keras.layers.LSTM(32)),
        ((7, 89), keras.layers.LSTM(5, use_bias=False)),
        ((7, 89), keras.layers.GRU(32)),
        ((7, 89), keras.layers.GRU(6, reset_after=False)),
        ((7, 89), keras.layers.GRU(6, use_bias=False)),
        ((7, 89), keras.layers.SimpleRNN(4)),
        ((7, 89), keras.layers.Bidirectional(keras.layers.LSTM(3))),
        ((7, 89), keras.layers.Bidirectional(keras.layers.GRU(3))),
        ((40,), keras.layers.Embedding(20_000, 64)),
        ((7, 89), keras.layers.MaxPooling1D(2)),
        ((7, 89), keras.layers.GlobalAveragePooling1D()),
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
        "note": "",
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


# --- images ----------------------------------------------------------------------------

CONV = {"type": "Conv2D", "filters": 50, "kernel_size": [3, 3], "activation": "relu"}
POOL = {"type": "MaxPooling2D", "pool_size": [2, 2]}
FLAT = {"type": "Flatten"}
DENSE_50 = relu(50)
LOGITS_10 = {"type": "Dense", "units": 10}
DROPOUT = {"type": "Dropout", "rate": 0.8}


def image_spec(layers, input_shape, base=None):
    model = {"input_shape": list(input_shape), "layers": layers, **({"base": base} if base else {})}
    return validate_spec({"name": "images", "data": {"dataset": "cifar10"}, "model": model}, source="images.toml")


@pytest.mark.parametrize(
    ("layers", "input_shape", "total"),
    [
        ([CONV, POOL, CONV, POOL, CONV, FLAT, DENSE_50, LOGITS_10], (32, 32, 3), 87_060),
        ([CONV, POOL, CONV, POOL, CONV, DROPOUT, FLAT, DENSE_50, LOGITS_10], (32, 32, 3), 87_060),
        ([CONV, CONV, FLAT, LOGITS_10], (64, 64, 3), 1_823_960),
        ([CONV, POOL, CONV, POOL, FLAT, DENSE_50, LOGITS_10], (64, 64, 3), 514_510),
        ([FLAT, DENSE_50, DENSE_50, LOGITS_10], (64, 64, 3), 617_510),
        ([CONV, POOL, CONV, POOL, CONV, POOL, FLAT, DENSE_50, LOGITS_10], (64, 64, 3), 137_060),
        ([CONV, POOL, CONV, POOL, CONV, POOL, DROPOUT, FLAT, DENSE_50, LOGITS_10], (64, 64, 3), 137_060),
    ],
    ids=[
        "cifar-extra-conv", "cifar-dropout", "dollar-street-conv-conv", "dollar-street-pooling",
        "dollar-street-dense", "dollar-street-three-pools", "dollar-street-dropout",
    ],
)
def test_lesson_image_models(layers, input_shape, total):
    report = explain_parameters(build_model(image_spec(layers, input_shape), None))

    assert report.total == report.trainable == total and report.non_trainable == 0
    assert sum(row.total for row in report.layers) == total
    for row in report.layers:
        assert row.formula == NO_WEIGHTS or formula_value(row.formula) == row.total


def test_lesson_cifar_model_explained_layer_by_layer():
    layers = [CONV, POOL, CONV, POOL, CONV, FLAT, DENSE_50, LOGITS_10]
    report = explain_parameters(build_model(image_spec(layers, (32, 32, 3)), None))

    rows = [(row.output_shape, row.total, row.formula, row.note) for row in report.layers[1:]]
    assert rows == [
        ((None, 30, 30, 50), 1_400, "3·3·3·50 + 50 = 1,400",
         "32×32 → 30×30: a 3×3 kernel without padding loses 1 border pixel on each side"),
        ((None, 15, 15, 50), 0, NO_WEIGHTS, "30×30 → 15×15: 2×2 pooling halves each side"),
        ((None, 13, 13, 50), 22_550, "3·3·50·50 + 50 = 22,550",
         "15×15 → 13×13: a 3×3 kernel without padding loses 1 border pixel on each side"),
        ((None, 6, 6, 50), 0, NO_WEIGHTS, "13×13 → 6×6: 2×2 pooling halves each side, rounding down"),
        ((None, 4, 4, 50), 22_550, "3·3·50·50 + 50 = 22,550",
         "6×6 → 4×4: a 3×3 kernel without padding loses 1 border pixel on each side"),
        ((None, 800), 0, NO_WEIGHTS, "4·4·50 = 800 values"),
        ((None, 50), 40_050, "800·50 + 50 = 40,050", ""),
        ((None, 10), 510, "50·10 + 10 = 510", ""),
    ]


SHAPE_NOTES = [
    ((32, 32, 3), keras.layers.Conv2D(8, 3, padding="same"),
     "32×32 → 32×32: padding='same' keeps the size (a 3×3 kernel with zeros added around the border)"),
    ((32, 32, 3), keras.layers.Conv2D(8, 3, strides=2),
     "32×32 → 15×15: a 3×3 kernel with stride 2, no padding: ⌊(32 − 3) / 2⌋ + 1 = 15"),
    ((32, 32, 3), keras.layers.Conv2D(8, 3, strides=2, padding="same"),
     "32×32 → 16×16: a 3×3 kernel with stride 2 and padding='same': each side is divided by 2, rounding up"),
    ((32, 32, 3), keras.layers.Conv2D(8, 5),
     "32×32 → 28×28: a 5×5 kernel without padding loses 2 border pixels on each side"),
    ((32, 32, 3), keras.layers.Conv2D(8, 3, dilation_rate=2),
     "32×32 → 28×28: a 3×3 kernel (dilation 2×2: it spans 5×5) without padding loses 2 border pixels on each side"),
    ((30, 40, 3), keras.layers.Conv2D(8, (2, 4)),
     "30×40 → 29×37: a 2×4 kernel without padding makes each side 1×3 smaller (size − kernel + 1)"),
    ((30, 30, 3), keras.layers.MaxPooling2D(3),
     "30×30 → 10×10: 3×3 pooling divides each side by 3"),
    ((30, 30, 3), keras.layers.AveragePooling2D(2, strides=1),
     "30×30 → 29×29: 2×2 pooling without padding makes each side 1×1 smaller (size − kernel + 1)"),
    ((31, 31, 3), keras.layers.MaxPooling2D(2, padding="same"),
     "31×31 → 16×16: 2×2 pooling with stride 2 and padding='same': each side is divided by 2, rounding up"),
    ((100, 4), keras.layers.Conv1D(8, 3),
     "100 → 98: a kernel of size 3 without padding loses 1 step at each end"),
    ((100, 4), keras.layers.MaxPooling1D(2), "100 → 50: pooling of size 2 halves the length"),
    ((101, 4), keras.layers.MaxPooling1D(2), "101 → 50: pooling of size 2 halves the length, rounding down"),
    ((6, 6, 50), keras.layers.GlobalAveragePooling2D(),
     "6×6×50 → 50: global pooling keeps one value per channel"),
    ((12,), keras.layers.Flatten(), "12 values (already flat)"),
    ((12,), keras.layers.Dense(3), ""),
]


@pytest.mark.parametrize(
    ("input_shape", "layer", "note"),
    SHAPE_NOTES,
    ids=[f"{type(layer).__name__}-{index}" for index, (_, layer, _) in enumerate(SHAPE_NOTES)],
)
def test_shape_notes(input_shape, layer, note):
    build(input_shape, layer)
    assert shape_note(layer) == note


def test_nested_model_is_one_row():
    inner = build((8,), keras.layers.Dense(4), name="inner")
    outer = build((8,), inner, keras.layers.Dense(1), name="outer")
    report = explain_parameters(outer)
    assert [row.type for row in report.layers] == ["InputLayer", "Functional (nested Functional model, trainable)", "Dense"]
    assert report.layers[1].formula == f"{COUNTED_BY_KERAS}: 2 layers" and report.layers[1].total == 36


# Building DenseNet121 takes seconds: in the slow set. test_base.py builds pretrained bases
# (VGG16) by default, and the summaries of the other lesson models check the counting.
@pytest.mark.slow
def test_lesson_densenet121_transfer_model():
    # The lesson's transfer-learning model: a frozen DenseNet121 base (160×160×3, max pooling)
    # under Flatten, BatchNormalization, Dense(50, relu), Dropout(0.5), Dense(10).
    layers = [FLAT, {"type": "BatchNormalization"}, DENSE_50, {"type": "Dropout", "rate": 0.5}, LOGITS_10]
    spec = image_spec(layers, (160, 160, 3), base={"application": "DenseNet121", "pooling": "max"})

    report = explain_parameters(build_model(spec, None))

    assert (report.total, report.trainable) == (7_093_360, 53_808)
    base = report.layers[1]
    assert (base.name, base.type, base.output_shape) == ("DenseNet121", "DenseNet121 (base, random weights (not pretrained), frozen)", (None, 1024))
    assert (base.total, base.trainable, base.non_trainable) == (7_037_504, 0, 7_037_504)
    assert base.formula.startswith(f"{COUNTED_BY_KERAS}: ") and base.formula.endswith(" layers")
    assert [row.type for row in report.layers[2:]] == ["Flatten", "BatchNormalization", "Dense", "Dropout", "Dense"]


# --- sequences (issue 17) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_shape", "layer", "formula"),
    [
        ((7, 89), keras.layers.Conv1D(16, 3), "3·89·16 + 16 = 4,288"),
        ((40,), keras.layers.Embedding(20_000, 64), "20,000·64 = 1,280,000 (a vector of 64 for each of 20,000 token ids)"),
        ((7, 89), keras.layers.LSTM(32),
         "4·(32·(89 + 32) + 32) = 15,616 (input, forget, cell and output gates, each units·(inputs + units) + units)"),
        ((7, 89), keras.layers.GRU(32),
         ("3·32·(89 + 32 + 2) = 11,808 (update, reset and candidate gates, each units·(inputs + units + 2): "
          "reset_after, 2 biases per unit)")),
        ((7, 89), keras.layers.GRU(32, reset_after=False),
         "3·(32·(89 + 32) + 32) = 11,712 (update, reset and candidate gates, each units·(inputs + units) + units)"),
        ((7, 89), keras.layers.SimpleRNN(8), "8·(89 + 8) + 8 = 784"),
        ((7, 89), keras.layers.Bidirectional(keras.layers.LSTM(4)),
         "2·(4·(4·(89 + 4) + 4)) = 3,008 (one LSTM forward, one backward)"),
        ((7, 89), keras.layers.MaxPooling1D(2), NO_WEIGHTS),
        ((7, 89), keras.layers.GlobalAveragePooling1D(), NO_WEIGHTS),
    ],
    ids=["Conv1D", "Embedding", "LSTM", "GRU", "GRU-reset-before", "SimpleRNN", "Bidirectional", "MaxPooling1D",
         "GlobalAveragePooling1D"],
)
def test_sequence_layer_formulas(input_shape, layer, formula):
    build(input_shape, layer)
    assert layer_formula(layer) == formula
    assert formula_value(formula) == layer.count_params()


def test_keras_3_gru_resets_after_by_default():
    # The GRU formula's "+ 2" is Keras 3's default reset_after=True: two bias vectors per gate.
    layer = keras.layers.GRU(10)
    build((5, 3), layer)
    assert layer.reset_after is True
    assert layer.count_params() == 3 * 10 * (3 + 10 + 2)


@pytest.mark.parametrize(
    ("input_shape", "layer", "note"),
    [
        ((7, 89), keras.layers.LSTM(32), "7 steps → 32: the 32 values after the last step"),
        ((7, 89), keras.layers.GRU(16, return_sequences=True),
         "7 steps → 7×16: return_sequences keeps the 16 values of every step"),
        ((7, 89), keras.layers.Bidirectional(keras.layers.LSTM(4)),
         "7 steps → 8: the 4 values after the last step, forward and backward"),
        ((40,), keras.layers.Embedding(1000, 16), "40 token ids → 40×16: one vector of 16 per token"),
        ((7, 89), keras.layers.GlobalAveragePooling1D(), "7×89 → 89: global pooling keeps one value per channel"),
        ((None, 89), keras.layers.LSTM(3), ""),
    ],
    ids=["LSTM", "GRU-sequences", "Bidirectional", "Embedding", "GlobalAveragePooling1D", "unknown-steps"],
)
def test_sequence_shape_notes(input_shape, layer, note):
    build(input_shape, layer)
    assert shape_note(layer) == note


def test_window_model_summary_counts_equal_keras():
    # A window of 7 days × 89 features through Conv1D, pooling, LSTM and Dense: every row's formula
    # adds up to Keras' own count, and the rows add up to the model's.
    model = build(
        (7, 89), keras.layers.Conv1D(16, 3, activation="relu"), keras.layers.MaxPooling1D(2),
        keras.layers.LSTM(8), keras.layers.Dense(1),
    )
    report = explain_parameters(model)
    assert report.total == model.count_params() == sum(row.total for row in report.layers)
    for row in report.layers:
        assert row.formula == NO_WEIGHTS or formula_value(row.formula) == row.total
    assert [row.output_shape for row in report.layers] == [(None, 7, 89), (None, 5, 16), (None, 2, 16), (None, 8), (None, 1)]
