"""Tests of dlworkflow.data.pipeline: the lesson's numbers, end to end, without Keras."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

import dlworkflow.data
from dlworkflow.data import BUILTIN_DATASETS, build_dataset, load_table
from dlworkflow.data.preprocessing import TablePreprocessing
from dlworkflow.errors import DataError, SpecError
from dlworkflow.spec import DataSpec, load_spec

PENGUINS = {"dataset": "penguins", "target": "species", "drop": ["island", "sex"], "dropna": True}
WEATHER = {"dataset": "weather", "target": "BASEL_sunshine", "shift": -1, "rows": 1096, "drop": ["DATE", "MONTH"]}
WEATHER_SPLIT = {"type": "random", "test": 0.15, "validation": 0.15, "seed": 0}


def persistence_rmse(part) -> float:
    return float(np.sqrt(np.mean((part.labels - part.frame["BASEL_sunshine"].to_numpy()) ** 2)))


def lesson_weather_split(data: pd.DataFrame, nr_rows: int, columns=None):
    x_data = data.loc[:nr_rows].drop(columns=["DATE", "MONTH"])
    if columns is not None:
        x_data = x_data[columns]
    y_data = data.loc[1 : nr_rows + 1]["BASEL_sunshine"]
    x_train, x_holdout, y_train, y_holdout = train_test_split(x_data, y_data, test_size=0.3, random_state=0)
    x_val, x_test, y_val, y_test = train_test_split(x_holdout, y_holdout, test_size=0.5, random_state=0)
    return {"train": (x_train, y_train), "validation": (x_val, y_val), "test": (x_test, y_test)}


def test_public_exports():
    assert set(dlworkflow.data.__all__) >= {"build_dataset", "load_table", "BUILTIN_DATASETS"}
    assert dlworkflow.data.__doc__.startswith("Data layer")
    assert "penguins" in BUILTIN_DATASETS and callable(load_table)


def test_penguins_reproduce_the_lesson(make_spec, lesson_penguins):
    dataset = build_dataset(make_spec(PENGUINS, split={"type": "stratified", "test": 0.2, "seed": 0}))
    assert dataset.name == "penguins"
    assert dataset.sizes() == {"train": 273, "validation": 0, "test": 69}
    assert dataset.validation is None
    assert dataset.input_shape == (4,)
    assert dataset.class_names == ("Adelie", "Chinstrap", "Gentoo")
    assert dataset.task == "classification" and dataset.target_encoding == "onehot"
    assert dataset.output_units == 3

    filtered = lesson_penguins.drop(columns=["island", "sex"]).dropna()
    features = filtered.drop(columns=["species"])
    target = pd.get_dummies(filtered["species"])
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=0.2, random_state=0, shuffle=True, stratify=target
    )
    assert dataset.train.frame.index.equals(x_train.index)
    assert dataset.test.frame.index.equals(x_test.index)
    np.testing.assert_array_equal(dataset.test.x, x_test.to_numpy(np.float32))
    np.testing.assert_array_equal(dataset.test.y, y_test.to_numpy(np.float32))
    assert dataset.test.y.shape == (69, 3) and dataset.test.y.dtype == np.float32
    np.testing.assert_array_equal(dataset.test.labels, y_test.to_numpy().argmax(axis=1))


def test_weather_reproduces_the_lesson(make_spec, lesson_weather):
    dataset = build_dataset(make_spec(WEATHER, split=WEATHER_SPLIT, evaluate={"persistence": "BASEL_sunshine"}))
    assert dataset.name == "weather"
    assert dataset.task == "regression" and dataset.class_names is None and dataset.target_encoding is None
    assert dataset.input_shape == (89,)
    assert dataset.sizes() == {"train": 767, "validation": 164, "test": 165}
    assert persistence_rmse(dataset.test) == pytest.approx(3.877323350410224, abs=1e-9)

    lesson = lesson_weather_split(lesson_weather, 365 * 3)
    for name, (x, y) in lesson.items():
        part = dataset.parts[name]
        assert part.frame.index.equals(x.index)
        np.testing.assert_array_equal(part.x, x.to_numpy(np.float32))
        np.testing.assert_array_equal(part.labels, y.to_numpy())
        assert part.y.dtype == np.float32 and part.y.shape == (len(x),)
        assert part.labels.dtype == np.float64
    x_test, y_test = lesson["test"]
    assert persistence_rmse(dataset.test) == float(np.sqrt(np.mean((y_test.to_numpy() - x_test["BASEL_sunshine"].to_numpy()) ** 2)))


def test_weather_basel_reproduces_the_exercise(make_spec, lesson_weather):
    data = {**WEATHER, "rows": 3286, "select": ["BASEL_*"]}
    dataset = build_dataset(make_spec(data, split=WEATHER_SPLIT, evaluate={"persistence": "BASEL_sunshine"}))
    assert dataset.input_shape == (9,)
    assert all(name.startswith("BASEL_") for name in dataset.feature_names)
    assert dataset.sizes() == {"train": 2300, "validation": 493, "test": 493}
    assert persistence_rmse(dataset.test) == pytest.approx(4.248581674802133, abs=1e-9)
    basel = [column for column in lesson_weather.columns if column.startswith("BASEL_")]
    lesson = lesson_weather_split(lesson_weather, 365 * 9, basel)
    assert dataset.test.frame.index.equals(lesson["test"][0].index)


def test_parts_follow_the_dataset_contract(make_spec):
    dataset = build_dataset(make_spec(WEATHER, split=WEATHER_SPLIT))
    assert list(dataset.parts) == ["train", "validation", "test"]
    for part in dataset.parts.values():
        assert part.x.dtype == np.float32 and part.x.flags.c_contiguous
        assert len(part.x) == len(part.y) == len(part.labels) == len(part.frame)
        assert {"DATE", "MONTH", "BASEL_sunshine"} <= set(part.frame.columns)  # raw rows keep every column
    assert dataset.feature_names == dataset.preprocessing.feature_names


def test_preprocessing_is_json(make_spec):
    spec = make_spec({**PENGUINS, "scaling": "standardize"}, split={"type": "stratified", "test": 0.2})
    preprocessing = build_dataset(spec).preprocessing
    saved = preprocessing.to_dict()
    assert json.loads(json.dumps(saved)) == saved
    assert TablePreprocessing.from_dict(saved) == preprocessing
    assert preprocessing.target == saved["target"] == "species"
    assert preprocessing.shift == saved["shift"] == 0
    assert preprocessing.task == "classification"
    assert preprocessing.target_encoding == "onehot"
    assert saved["class_names"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert preprocessing.scaling.method == saved["scaling"]["method"] == "standardize"
    assert saved["scaling"]["feature_names"] == saved["feature_names"]


def test_scaler_is_fitted_on_the_training_rows(make_spec):
    dataset = build_dataset(make_spec({**WEATHER, "scaling": "standardize"}, split=WEATHER_SPLIT))
    np.testing.assert_allclose(dataset.train.x.mean(axis=0), 0.0, atol=1e-5)
    train_means = dataset.train.frame[list(dataset.feature_names)].mean()
    assert dataset.preprocessing.scaling.feature_names == dataset.feature_names
    np.testing.assert_allclose(dataset.preprocessing.scaling.offset, train_means.to_numpy())
    assert not np.allclose(dataset.test.x.mean(axis=0), 0.0, atol=1e-5)


def test_integer_encoding(make_spec):
    dataset = build_dataset(make_spec({**PENGUINS, "target_encoding": "integer"}, split={"type": "stratified"}))
    assert dataset.train.y.dtype == np.int32 and dataset.train.y.ndim == 1
    np.testing.assert_array_equal(dataset.train.y, dataset.train.labels)


def test_fingerprints(make_spec):
    first = build_dataset(make_spec(WEATHER, split=WEATHER_SPLIT))
    again = build_dataset(make_spec(WEATHER, split=WEATHER_SPLIT))
    other_seed = build_dataset(make_spec(WEATHER, split={**WEATHER_SPLIT, "seed": 1}))
    fewer_rows = build_dataset(make_spec({**WEATHER, "rows": 1095}, split=WEATHER_SPLIT))
    assert len(first.fingerprint) == len(first.test_fingerprint) == 64
    assert (first.fingerprint, first.test_fingerprint) == (again.fingerprint, again.test_fingerprint)
    assert other_seed.fingerprint == first.fingerprint  # same table ...
    assert other_seed.test_fingerprint != first.test_fingerprint  # ... other test rows
    assert fewer_rows.fingerprint != first.fingerprint


def test_csv_relative_to_the_spec_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "experiment"
    folder.mkdir()
    rng = np.random.default_rng(0)
    pd.DataFrame({"day": range(40), "x1": rng.normal(size=40), "temp": rng.normal(size=40)}).to_csv(
        folder / "station.csv", index=False
    )
    (folder / "spec.toml").write_text(
        'name = "station"\n[data]\npath = "station.csv"\ntarget = "temp"\nshift = -1\ndrop = ["day"]\n'
        '[split]\ntype = "ordered"\ntest = 0.25\n[evaluate]\npersistence = "temp"\n'
        '[[model.layers]]\ntype = "Dense"\nunits = 1\n'
    )
    monkeypatch.chdir(tmp_path)
    dataset = build_dataset(load_spec(folder / "spec.toml"))
    assert dataset.name == "station"
    assert dataset.feature_names == ("x1", "temp")
    assert dataset.sizes() == {"train": 29, "validation": 0, "test": 10}
    assert dataset.test.frame["day"].tolist() == list(range(29, 39))  # ordered: the last days are the test set


def test_dataframe_from_the_api(make_spec):
    frame = pd.DataFrame({"a": np.arange(20.0), "label": ["u", "v"] * 10})
    dataset = build_dataset(make_spec({"path": "ignored.csv", "target": "label"}, split={"test": 0.25}), frame=frame)
    assert dataset.name == "dataframe"
    assert dataset.class_names == ("u", "v")
    assert dataset.sizes()["test"] == 5


def test_errors_name_the_spec_file(make_spec):
    with pytest.raises(SpecError, match=r"^weather\.toml: split\.type: stratified splitting needs a classification"):
        build_dataset(make_spec(WEATHER, split={"type": "stratified"}, source="weather.toml"))
    with pytest.raises(DataError, match=r"^weather\.toml: evaluate\.persistence: no column 'BASEL_sun' in weather"):
        build_dataset(make_spec(WEATHER, evaluate={"persistence": "BASEL_sun"}, source="weather.toml"))


def test_image_settings_are_refused_for_a_table(make_spec):
    with pytest.raises(SpecError) as caught:
        build_dataset(make_spec({**PENGUINS, "image_size": [32, 32], "scaling": "pixels"}, source="p.toml"))
    assert [problem.path for problem in caught.value.problems] == ["data.image_size", "data.scaling"]
    assert "'pixels' (divide by 255) applies to images only; got 'pixels'" in str(caught.value)


def test_a_table_needs_a_target(make_spec):
    with pytest.raises(SpecError, match=r"^p\.toml: data\.target: a table needs a target: the column of penguins to "
                       r"predict\. Add target = '<column>' to the \[data\] table; columns: 'species', 'island'"):
        build_dataset(make_spec({"dataset": "penguins"}, source="p.toml"))


def test_a_keras_set_name_is_not_a_table():
    with pytest.raises(SpecError, match=r"data\.dataset: is a Keras image set, not a table; got 'cifar10'"):
        load_table(DataSpec(dataset="cifar10"), source="p.toml")


def _imported_roots(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module:
        return {node.module.split(".")[0]}
    return set()


def test_the_data_layer_never_imports_keras():
    """No Keras/TensorFlow/JAX import in the data layer, except the one documented exception.

    ``keras_datasets._keras_loader`` imports Keras inside the function, to call
    ``keras.datasets.<name>.load_data()`` for a Keras image set (the backend is active then).
    """
    package = Path(dlworkflow.data.__file__).parent
    forbidden = {"keras", "tensorflow", "jax", "torch"}
    allowed = {("keras_datasets.py", "_keras_loader", "keras")}
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        inside = {id(inner): function.name for function in functions for inner in ast.walk(function)}
        for node in ast.walk(tree):
            for name in _imported_roots(node) & forbidden:
                assert (module.name, inside.get(id(node)), name) in allowed, f"{module.name} imports {name}"
