"""The preprocessing contract (dlworkflow.data.preprocessing): typed, frozen, and the same JSON bytes as ever."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlworkflow.data import Dataset, build_dataset
from dlworkflow.data.image_preparation import (
    image_info,
    image_preprocessing,
    image_scale,
)
from dlworkflow.data.preprocessing import (
    ImageInput,
    ImagePreprocessing,
    ImageScaling,
    Preprocessing,
    TablePreprocessing,
    TableScaling,
    as_preprocessing,
)
from dlworkflow.data.scaling import Scaler
from dlworkflow.errors import DataError
from dlworkflow.spec import validate_spec

CASES = Path(__file__).parents[1] / "bad_inputs" / "cases"

OLD_TABLE = {  # as pipeline._preprocessing wrote it before the type (penguins, standardize, shortened)
    "feature_names": ["bill_length_mm", "body_mass_g"],
    "target": "species",
    "shift": 0,
    "task": "classification",
    "target_encoding": "onehot",
    "class_names": ["Adelie", "Chinstrap", "Gentoo"],
    "scaling": {
        "method": "standardize",
        "feature_names": ["bill_length_mm", "body_mass_g"],
        "offset": {"bill_length_mm": 43.92192982456141, "body_mass_g": 4201.754385964912},
        "scale": {"bill_length_mm": 5.4516, "body_mass_g": 801.9545356980955},
    },
}

OLD_REGRESSION = {  # weather: a shift, no classes, no scaling
    "feature_names": ["BASEL_sunshine", "BASEL_temp_mean"],
    "target": "BASEL_sunshine",
    "shift": -1,
    "task": "regression",
    "target_encoding": None,
    "class_names": None,
    "scaling": {"method": "none", "feature_names": ["BASEL_sunshine", "BASEL_temp_mean"],
                "offset": {"BASEL_sunshine": 0.0, "BASEL_temp_mean": 0.0},
                "scale": {"BASEL_sunshine": 1.0, "BASEL_temp_mean": 1.0}},
}

OLD_IMAGES = {  # as image_preparation.image_preprocessing wrote it before the type
    "kind": "images",
    "origin": "folder",
    "image": {"height": 32, "width": 32, "channels": 3, "scale": 0.00392156862745098},
    "class_names": ["Cat", "Dog"],
    "target": "label",
    "task": "classification",
    "target_encoding": "integer",
    "scaling": {"method": "pixels", "scale": 0.00392156862745098},
}

PENGUINS = {
    "name": "penguins",
    "data": {"dataset": "penguins", "target": "species", "drop": ["island", "sex"], "dropna": True,
             "scaling": "standardize"},
    "split": {"type": "stratified", "test": 0.2},
    "model": {"layers": [{"type": "Dense", "units": 3}]},
}


def saved_bytes(data: dict) -> str:
    """What the save stage writes: ``preprocessing.json``."""
    return json.dumps(data, indent=2)


@pytest.mark.parametrize("old", [OLD_TABLE, OLD_REGRESSION, OLD_IMAGES], ids=["classes", "regression", "images"])
def test_an_old_file_is_read_and_written_back_byte_for_byte(old):
    preprocessing = Preprocessing.from_dict(json.loads(saved_bytes(old)))
    assert type(preprocessing) is (ImagePreprocessing if "kind" in old else TablePreprocessing)
    assert saved_bytes(preprocessing.to_dict()) == saved_bytes(old)
    assert list(preprocessing.to_dict()) == list(old)  # the same keys in the same order
    assert Preprocessing.from_dict(preprocessing.to_dict()) == preprocessing


def test_a_table_reads_as_typed_attributes():
    table = Preprocessing.from_dict(OLD_TABLE)
    assert isinstance(table, TablePreprocessing) and not table.is_images
    assert table.feature_names == ("bill_length_mm", "body_mass_g")
    assert (table.target, table.shift, table.task, table.target_encoding) == ("species", 0, "classification", "onehot")
    assert table.class_names == ("Adelie", "Chinstrap", "Gentoo")
    assert table.scaling == TableScaling("standardize", table.feature_names, (43.92192982456141, 4201.754385964912),
                                         (5.4516, 801.9545356980955))
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.target = "island"  # type: ignore[misc]


def test_images_read_as_typed_attributes():
    images = Preprocessing.from_dict(OLD_IMAGES)
    assert isinstance(images, ImagePreprocessing) and images.is_images
    assert images.origin == "folder" and images.class_names == ("Cat", "Dog")
    assert images.image == ImageInput(32, 32, 3, 1 / 255)
    assert images.scaling == ImageScaling("pixels", 1 / 255)
    assert (images.target, images.task, images.target_encoding) == ("label", "classification", "integer")


def test_a_built_table_writes_the_bytes_the_old_builder_wrote():
    spec = validate_spec(PENGUINS)
    dataset = build_dataset(spec)
    train = dataset.train.frame[list(dataset.feature_names)]
    old = {  # the dict data.pipeline._preprocessing returned before the type
        "feature_names": list(dataset.feature_names),
        "target": spec.data.target,
        "shift": spec.data.shift,
        "task": dataset.task,
        "target_encoding": dataset.target_encoding,
        "class_names": list(dataset.class_names),
        "scaling": Scaler(spec.data.scaling).fit(train).to_dict(),
    }
    assert isinstance(dataset.preprocessing, TablePreprocessing)
    assert saved_bytes(dataset.preprocessing.to_dict()) == saved_bytes(old)
    assert TablePreprocessing.from_dict(json.loads(saved_bytes(old))) == dataset.preprocessing


@pytest.mark.parametrize("scaling", ["none", "pixels"])
@pytest.mark.parametrize("origin", ["arrays", "folder"])
def test_image_preprocessing_writes_the_bytes_the_old_builder_wrote(origin, scaling):
    image = image_info(24, 16, 3, scaling)
    old = {  # the dict image_preparation.image_preprocessing returned before the type
        "kind": "images", "origin": origin, "image": dict(image), "class_names": ["a", "b"], "target": "label",
        "task": "classification", "target_encoding": "onehot",
        "scaling": {"method": scaling, "scale": image_scale(scaling)},
    }
    typed = image_preprocessing(image, ["a", "b"], "onehot", scaling, origin=origin)
    assert saved_bytes(typed.to_dict()) == saved_bytes(old)
    assert typed.image.to_dict() == image  # as Dataset.image and the training layer have it


def test_the_fitted_scaler_transforms_as_in_training():
    spec = validate_spec(PENGUINS)
    dataset = build_dataset(spec)
    scaler = dataset.preprocessing.scaling.to_scaler()
    np.testing.assert_array_equal(scaler.transform(dataset.test.frame), dataset.test.x)
    assert TableScaling.from_scaler(scaler) == dataset.preprocessing.scaling


def test_short_forms_written_by_hand_are_read():
    bundle = json.loads((CASES / "65_predict_missing_columns" / "bundle" / "preprocessing.json").read_text())
    assert bundle["scaling"] == {"method": "none"}
    table = Preprocessing.from_dict(bundle)
    assert table.scaling == TableScaling("none", ("a", "b"), (0.0, 0.0), (1.0, 1.0))  # the features as they are
    assert TablePreprocessing.from_dict({"feature_names": ["a"]}).scaling.feature_names == ("a",)
    assert TablePreprocessing.from_dict({}) == TablePreprocessing()
    images = Preprocessing.from_dict({"kind": "images", "image": {"height": 8, "width": 6, "scale": 0.5},
                                      "scaling": {"method": "pixels"}})
    assert images.origin == "arrays" and images.image.channels == 3 and images.scaling.scale == 0.5


def test_unknown_keys_are_kept_after_the_known_ones():
    newer = {**OLD_TABLE, "imputation": {"bill_length_mm": 44.0}}
    table = Preprocessing.from_dict(newer)
    assert table.extra == {"imputation": {"bill_length_mm": 44.0}}
    assert saved_bytes(table.to_dict()) == saved_bytes(newer)
    images = Preprocessing.from_dict({**OLD_IMAGES, "crop": "center"})
    assert list(images.to_dict())[-1] == "crop"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"feature_names": "a"}, r"p\.json: preprocessing\.feature_names: must be a list of strings; got 'a'"),
        ({"shift": "-1"}, r"preprocessing\.shift: must be an integer; got '-1'"),
        ({"task": "ranking"}, r"preprocessing\.task: must be 'classification' or 'regression' \(or null\)"),
        ({"scaling": {"method": "minmax", "feature_names": ["x"], "offset": {}, "scale": {}}},
         r"preprocessing\.scaling: saved 'minmax' statistics lack features \['x'\]"),
        ({"scaling": {"method": "none", "offset": {"bill_length_mm": "0"}}},
         r"preprocessing\.scaling\.offset\.bill_length_mm: must be a number"),
        ({"kind": "audio"}, r"preprocessing\.kind: must be 'images', or left out for a table"),
    ],
)
def test_a_damaged_file_names_the_file_and_the_key(change, message):
    with pytest.raises(DataError, match=message) as caught:
        Preprocessing.from_dict({**OLD_TABLE, **change}, source="p.json")
    assert "export the run again" in str(caught.value)


def test_images_need_their_size_and_a_dict_must_be_an_object():
    with pytest.raises(DataError, match=r"preprocessing\.image: must be a JSON object; got None"):
        Preprocessing.from_dict({"kind": "images"})
    with pytest.raises(DataError, match=r"preprocessing: must be a JSON object; got \[1\]"):
        Preprocessing.from_dict([1])


def test_a_dataset_reads_a_dict_and_readers_take_either():
    dataset = Dataset("d", "regression", "y", ("a",), None, None, {}, preprocessing={"feature_names": ["a"]})
    assert isinstance(dataset.preprocessing, TablePreprocessing) and dataset.preprocessing.feature_names == ("a",)
    assert Dataset("d", "regression", "y", (), None, None, {}).preprocessing == TablePreprocessing()
    typed = Preprocessing.from_dict(OLD_IMAGES)
    assert as_preprocessing(typed) is typed and as_preprocessing(OLD_IMAGES) == typed


def test_the_preprocessing_imports_no_keras():
    code = "import sys, dlworkflow.data.preprocessing; sys.exit('keras' in sys.modules and 'keras imported')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr + result.stdout
