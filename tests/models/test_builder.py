"""Tests of dlworkflow.models.builder: spec layers → Keras model, errors at spec paths."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import keras
import pytest

from dlworkflow.errors import SpecError
from dlworkflow.models import build_model, model_name, output_activation_note
from dlworkflow.spec import validate_spec


def make_spec(layers=None, *, source="x.toml", **sections):
    document = {
        "name": sections.pop("name", "weather"),
        "data": {"dataset": "weather", "target": "y"},
        "model": sections.pop("model", {"layers": layers}),
        **sections,
    }
    return validate_spec(document, source=source)


def dense(units, activation=None, **arguments):
    layer = {"type": "Dense", "units": units, **arguments}
    if activation is not None:
        layer["activation"] = activation
    return layer


def test_lesson_weather_model_has_14101_parameters(make_dataset):
    dataset = make_dataset(features=89)
    spec = make_spec([dense(100, "relu"), dense(50, "relu"), dense(1)], name="weather prediction model")

    model = build_model(spec, dataset)

    assert model.count_params() == 14_101
    assert model.name == "weather_prediction_model"
    assert [layer.name for layer in model.layers] == ["input", "dense", "dense_1", "dense_2"]
    assert tuple(model.output.shape) == (None, 1)


def test_layer_names_do_not_depend_on_earlier_builds(make_dataset):
    dataset = make_dataset(features=4)
    spec = make_spec([dense(3, "relu"), {"type": "Dropout", "rate": 0.1}, dense(1)])

    first = [layer.name for layer in build_model(spec, dataset).layers]
    second = [layer.name for layer in build_model(spec, dataset).layers]

    assert first == second == ["input", "dense", "dropout", "dense_1"]


def test_model_name_prefers_model_name_and_is_sanitized():
    spec = make_spec([dense(1)], model={"name": "small/net 10-5-1", "layers": [dense(1)]})
    assert model_name(spec) == "small_net_10-5-1"
    assert model_name(make_spec([dense(1)], name="__?!")) == "model"


def test_penguins_classifier_has_83_parameters(make_dataset):
    dataset = make_dataset(task="classification", features=4, classes=3)
    spec = make_spec([dense(10, "relu"), dense(3, "softmax")])

    model = build_model(spec, dataset)

    assert model.count_params() == 83
    assert output_activation_note(model, spec, dataset) is None


def test_misspelt_argument_names_the_argument_and_suggests_the_right_one(make_dataset):
    spec = make_spec([{"type": "Dense", "unit": 3}])
    with pytest.raises(SpecError, match=r"x\.toml: model\.layers\[0\]\.unit: .*Did you mean 'units'\?"):
        build_model(spec, make_dataset())


def test_bad_activation_is_reported_at_the_argument_with_a_suggestion(make_dataset):
    spec = make_spec([dense(1, "relux")])
    with pytest.raises(SpecError, match=r"model\.layers\[0\]\.activation: .*relux.*Did you mean 'relu'\?"):
        build_model(spec, make_dataset())


def test_invalid_value_keeps_the_keras_message(make_dataset):
    spec = make_spec([dense(-5), dense(1)])
    with pytest.raises(SpecError, match=r"model\.layers\[0\]\.units: .*expected a positive integer.*got -5"):
        build_model(spec, make_dataset())


def test_missing_required_argument(make_dataset):
    spec = make_spec([{"type": "Dense", "activation": "relu"}, dense(1)])
    with pytest.raises(SpecError, match=r"model\.layers\[0\]: keras\.layers\.Dense needs the argument\(s\) 'units'"):
        build_model(spec, make_dataset())


def test_input_shape_argument_is_rejected_because_data_gives_it(make_dataset):
    spec = make_spec([dense(1, input_shape=[4])])
    with pytest.raises(SpecError, match=r"model\.layers\[0\]\.input_shape: .*comes from the data"):
        build_model(spec, make_dataset())


def test_layer_that_cannot_take_its_input_names_the_layer(make_dataset):
    spec = make_spec([dense(8), {"type": "Conv2D", "filters": 4, "kernel_size": 3}, dense(1)])
    with pytest.raises(SpecError, match=r"model\.layers\[1\]: keras\.layers\.Conv2D cannot take .*\(None, 8\).*Reshape"):
        build_model(spec, make_dataset())


def test_classifier_with_wrong_number_of_units(make_dataset):
    dataset = make_dataset(task="classification", classes=3)
    spec = make_spec([dense(10, "relu"), dense(2, "softmax")])
    with pytest.raises(
        SpecError, match=r"model\.layers\[1\]\.units: the data has 3 classes; the last layer has 2 units\. Set .* = 3"
    ):
        build_model(spec, dataset)


@pytest.mark.parametrize("encoding", ["onehot", "integer"])
def test_classifier_units_equal_classes_for_both_encodings(make_dataset, encoding):
    dataset = make_dataset(task="classification", classes=4, encoding=encoding)
    model = build_model(make_spec([dense(4, "softmax")]), dataset)
    assert tuple(model.output.shape) == (None, 4)


def test_regression_needs_one_output(make_dataset):
    spec = make_spec([dense(3)])
    with pytest.raises(SpecError, match=r"model\.layers\[0\]\.units: .*regression.*3 units.*units = 1"):
        build_model(spec, make_dataset())


def test_note_when_classifier_outputs_are_not_probabilities(make_dataset):
    dataset = make_dataset(task="classification", classes=3)
    spec = make_spec([dense(3)])
    note = output_activation_note(build_model(spec, dataset), spec, dataset)
    assert note is not None
    assert "model.layers[0].activation" in note and "'linear'" in note and "softmax" in note


def _write_module(directory: Path, name: str, body: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")


def test_builder_function_gets_data_sizes_and_builder_args(make_dataset, tmp_path):
    _write_module(
        tmp_path,
        "dlw_test_builder_ok",
        """
        import keras

        def make(input_shape, output_units, hidden=2):
            inputs = keras.Input(shape=input_shape)
            hidden_layer = keras.layers.Dense(hidden, activation="relu")(inputs)
            return keras.Model(inputs, keras.layers.Dense(output_units)(hidden_layer))
        """,
    )
    spec = make_spec(
        model={"builder": "dlw_test_builder_ok:make", "builder_args": {"hidden": 5}},
        source=str(tmp_path / "spec.toml"),
    )
    before = list(sys.path)

    model = build_model(spec, make_dataset(features=4))

    assert model.count_params() == 4 * 5 + 5 + 5 * 1 + 1
    assert sys.path == before


def test_builder_must_return_a_model(make_dataset, tmp_path):
    _write_module(tmp_path, "dlw_test_builder_none", "def make():\n    return None\n")
    spec = make_spec(model={"builder": "dlw_test_builder_none:make"}, source=str(tmp_path / "spec.toml"))
    with pytest.raises(SpecError, match=r"model\.builder: .*must return a keras\.Model; got 'NoneType'"):
        build_model(spec, make_dataset())


def test_builder_module_that_cannot_be_imported(make_dataset, tmp_path):
    spec = make_spec(model={"builder": "dlw_no_such_module:make"}, source=str(tmp_path / "spec.toml"))
    with pytest.raises(SpecError, match=r"model\.builder: cannot import the module 'dlw_no_such_module'.*searched first"):
        build_model(spec, make_dataset())


def test_builder_args_the_function_does_not_take(make_dataset, tmp_path):
    _write_module(tmp_path, "dlw_test_builder_args", "def make(input_shape, hidden=2):\n    pass\n")
    spec = make_spec(
        model={"builder": "dlw_test_builder_args:make", "builder_args": {"hiden": 3}},
        source=str(tmp_path / "spec.toml"),
    )
    with pytest.raises(SpecError, match=r"model\.builder_args\.hiden: .*Did you mean 'hidden'\?"):
        build_model(spec, make_dataset())


def test_builder_output_is_checked(make_dataset, tmp_path):
    _write_module(
        tmp_path,
        "dlw_test_builder_wrong_units",
        """
        import keras

        def make(input_shape):
            inputs = keras.Input(shape=input_shape)
            return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
        """,
    )
    spec = make_spec(model={"builder": "dlw_test_builder_wrong_units:make"}, source=str(tmp_path / "spec.toml"))
    with pytest.raises(SpecError, match=r"model\.builder: the data has 3 classes; the last layer has 2 units"):
        build_model(spec, make_dataset(task="classification", classes=3))


def test_sequential_from_builder_is_accepted(make_dataset, tmp_path):
    _write_module(
        tmp_path,
        "dlw_test_builder_sequential",
        """
        import keras

        def make(input_shape, output_units):
            return keras.Sequential([keras.Input(shape=input_shape), keras.layers.Dense(output_units)])
        """,
    )
    spec = make_spec(model={"builder": "dlw_test_builder_sequential:make"}, source=str(tmp_path / "spec.toml"))
    assert isinstance(build_model(spec, make_dataset()), keras.Model)
