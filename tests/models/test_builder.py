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


# --- model.input_shape -----------------------------------------------------------------

IMAGE_LAYERS = [
    {"type": "Conv2D", "filters": 4, "kernel_size": [3, 3], "activation": "relu"},
    {"type": "Flatten"},
    {"type": "Dense", "units": 3},
]


def image_dataset(shape=(8, 8, 3), classes=3):
    import numpy as np
    import pandas as pd

    from dlworkflow.data.dataset import Dataset, Part

    labels = np.arange(6) % classes
    part = Part("train", np.zeros((6, *shape), np.float32), labels.astype(np.int32), labels, pd.DataFrame({"label": labels}))
    names = tuple(f"c{i}" for i in range(classes))
    return Dataset("images", "classification", "label", (), names, "integer", {"train": part, "test": part})


def test_build_without_data_from_model_input_shape():
    spec = make_spec(model={"input_shape": [64, 64, 3], "layers": IMAGE_LAYERS})
    model = build_model(spec, None)
    assert tuple(model.input.shape) == (None, 64, 64, 3) and tuple(model.output.shape) == (None, 3)


def test_model_input_shape_equal_to_the_data_is_used():
    spec = make_spec(model={"input_shape": [8, 8, 3], "layers": IMAGE_LAYERS})
    assert tuple(build_model(spec, image_dataset()).input.shape) == (None, 8, 8, 3)


def test_model_input_shape_that_differs_from_the_data():
    spec = make_spec(model={"input_shape": [64, 64, 3], "layers": IMAGE_LAYERS})
    with pytest.raises(
        SpecError,
        match=r"x\.toml: model\.input_shape: differs from the shape of the data's inputs \(8, 8, 3\); got \[64, 64, 3\]\. "
        r"Set model\.input_shape = \[8, 8, 3\] or leave it out .*data\.image_size = \[64, 64\]",
    ):
        build_model(spec, image_dataset())


def test_no_data_and_no_model_input_shape():
    with pytest.raises(SpecError, match=r"x\.toml: model\.input_shape: is needed to build the model without data.*Set model\.input_shape"):
        build_model(make_spec(model={"layers": IMAGE_LAYERS}), None)


def test_builder_without_data_gets_the_input_shape(tmp_path):
    _write_module(
        tmp_path,
        "dlw_test_builder_no_data",
        """
        import keras

        def make(input_shape, output_units=10):
            inputs = keras.Input(shape=input_shape)
            return keras.Model(inputs, keras.layers.Dense(output_units)(keras.layers.Flatten()(inputs)))
        """,
    )
    spec = make_spec(
        model={"builder": "dlw_test_builder_no_data:make", "input_shape": [4, 4, 1]}, source=str(tmp_path / "spec.toml")
    )
    assert build_model(spec, None).count_params() == 16 * 10 + 10


def test_builder_that_needs_the_number_of_classes_cannot_build_without_data(tmp_path):
    _write_module(tmp_path, "dlw_test_builder_units", "def make(input_shape, output_units):\n    pass\n")
    spec = make_spec(
        model={"builder": "dlw_test_builder_units:make", "input_shape": [4]}, source=str(tmp_path / "spec.toml")
    )
    with pytest.raises(SpecError, match=r"model\.builder: .* needs output_units, which only the data can give"):
        build_model(spec, None)


@pytest.mark.parametrize(
    "layer",
    [
        {"type": "RandomFlip", "mode": "horizontal"},
        {"type": "RandomRotation", "factor": 0.1},
        {"type": "RandomZoom", "height_factor": 0.1},
        {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1},
        {"type": "RandomContrast", "factor": 0.2},
        {"type": "Rescaling", "scale": 0.5},
        {"type": "Resizing", "height": 6, "width": 6},
    ],
    ids=lambda layer: layer["type"],
)
def test_preprocessing_and_augmentation_layers(layer):
    spec = make_spec(model={"layers": [layer, *IMAGE_LAYERS]})
    model = build_model(spec, image_dataset())
    assert type(model.layers[1]).__name__ == layer["type"]


# --- the builder is the user's own code, and whatever it raises is one SpecError ----------------

BUILDERS = """
import sys
from os import system

def exits_ok(input_shape):
    sys.exit(0)

def exits_three(input_shape):
    raise SystemExit(3)

def recurses(input_shape):
    return recurses(input_shape)

def raises(input_shape):
    raise RuntimeError("no GPU here")
"""


@pytest.mark.parametrize(("function", "message"), [
    ("exits_ok", r"raised SystemExit\(0\)"),
    ("exits_three", r"raised SystemExit\(3\)"),
    ("recurses", r"raised RecursionError \(it calls itself without end\)"),
    ("raises", r"raised RuntimeError: no GPU here"),
])
def test_a_builder_that_exits_recurses_or_raises_is_one_spec_error(make_dataset, tmp_path, function, message):
    _write_module(tmp_path, "dlw_test_builder_bad", BUILDERS)
    spec = make_spec(model={"builder": f"dlw_test_builder_bad:{function}"}, source=str(tmp_path / "spec.toml"))
    try:
        with pytest.raises(SpecError, match=rf"spec\.toml: model\.builder: the builder dlw_test_builder_bad:{function} "
                           rf"{message}\. Fix the builder function"):
            build_model(spec, make_dataset())
    finally:
        sys.modules.pop("dlw_test_builder_bad", None)


def test_a_builder_imported_into_the_users_module_is_refused(make_dataset, tmp_path):
    _write_module(tmp_path, "dlw_test_builder_reexport", BUILDERS)
    spec = make_spec(model={"builder": "dlw_test_builder_reexport:system", "builder_args": {"command": "id > PWNED"}},
                     source=str(tmp_path / "spec.toml"))
    try:
        with pytest.raises(SpecError, match=r"model\.builder: 'system' is not defined in the module "
                           r"'dlw_test_builder_reexport' \(it is imported there from 'posix'\)"):
            build_model(spec, make_dataset())
    finally:
        sys.modules.pop("dlw_test_builder_reexport", None)
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


def test_a_layer_argument_keras_trips_over_is_a_spec_error():
    spec = make_spec(model={"input_shape": [4, 4], "layers": [{"type": "BatchNormalization", "axis": 99},
                                                              {"type": "Flatten"}, dense(1)]})
    with pytest.raises(SpecError, match=r"x\.toml: model\.layers\[0\]: keras\.layers\.BatchNormalization cannot take "
                       r"the output of the previous layer"):
        build_model(spec, None)
