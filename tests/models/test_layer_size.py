"""Tests of dlworkflow.models.layer_size: weights counted before Keras allocates them; a huge layer refused."""

from __future__ import annotations

import keras
import pytest

from dlworkflow.errors import SpecError
from dlworkflow.models import build_model
from dlworkflow.models.layer_size import check_layer_size, estimated_parameters
from dlworkflow.spec import validate_spec

LAYERS = [
    ("Dense", {"units": 7}, (None, 5)),
    ("Conv1D", {"filters": 4, "kernel_size": 3}, (None, 8, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": [3, 2]}, (None, 8, 8, 3)),
    ("Conv3D", {"filters": 2, "kernel_size": 2}, (None, 4, 4, 4, 3)),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3}, (None, 8, 8, 3)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2}, (None, 8, 8, 3)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (None, 8, 8, 3)),
    ("Embedding", {"input_dim": 10, "output_dim": 3}, (None, 5)),
    ("SimpleRNN", {"units": 4}, (None, 5, 3)),
    ("LSTM", {"units": 4}, (None, 5, 3)),
    ("GRU", {"units": 4}, (None, 5, 3)),
]


DEFAULT = {"Dense", "Conv2D", "Embedding", "LSTM"}
"""Counted in the default run; the other layers in the slow set (a Keras build each, about a second)."""


@pytest.mark.parametrize(("layer_type", "arguments", "input_shape"), [
    pytest.param(*layer, id=layer[0], marks=() if layer[0] in DEFAULT else pytest.mark.slow) for layer in LAYERS
])
def test_the_count_is_keras_count(layer_type, arguments, input_shape):
    layer = getattr(keras.layers, layer_type)(**arguments)
    layer(keras.Input(shape=input_shape[1:]))
    assert estimated_parameters(layer_type, arguments, input_shape) == layer.count_params()


def test_layers_without_size_arguments_are_not_counted():
    assert estimated_parameters("Flatten", {}, (None, 4, 4)) is None
    assert estimated_parameters("Dense", {"units": 1.5e11}, (None, 4)) is None  # Keras refuses it itself


def test_a_layer_larger_than_memory_is_refused_naming_its_argument():
    with pytest.raises(SpecError, match=r"^s\.toml: model\.layers\[0\]\.units: keras\.layers\.Dense would hold "
                       r"9,100,000,000,000 weights \(33\.1 TiB as float32\) on an input of shape \(None, 90\), more "
                       r"than the .* of memory available; got 100000000000\. Lower units"):
        check_layer_size("Dense", {"units": 10**11}, (None, 90), path="model.layers[0]", source="s.toml")
    assert check_layer_size("Dense", {"units": 10}, (None, 90), path="model.layers[0]", source="s.toml") == 910


def test_build_model_refuses_units_1e11_before_allocating(make_dataset):
    spec = validate_spec({"name": "w", "data": {"dataset": "weather", "target": "y"}, "model": {"layers": [
        {"type": "Dense", "units": 10}, {"type": "Dense", "units": 100_000_000_000}, {"type": "Dense", "units": 1}]}},
        source="w.toml")
    with pytest.raises(SpecError, match=r"w\.toml: model\.layers\[1\]\.units: keras\.layers\.Dense would hold "
                       r"1,100,000,000,000 weights"):
        build_model(spec, make_dataset(features=4))
