"""End to end, TOML → registry: the lesson's numbers reproduce, and every run is recorded honestly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dlworkflow
from dlworkflow.errors import DataError, SpecError
from dlworkflow.registry import artifacts
from dlworkflow.training import BackendWarning
from dlworkflow.training.backend import forget_backend_warnings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_weather_reproduces_split_and_persistence_baseline(registry_url):
    result = dlworkflow.run(EXAMPLES / "weather.toml", registry=registry_url, train__epochs=2)
    record = result.record
    assert (record["split"]["train"], record["split"]["validation"], record["split"]["test"]) == (767, 164, 165)
    assert record["baselines"]["persistence"]["test"]["rmse"] == pytest.approx(3.877323350410224, abs=1e-9)
    assert set(record["baselines"]) == {"mean", "linear_regression", "persistence"}
    assert record["backend"] == "jax"
    assert record["training"]["epochs_run"] == 2 and record["training"]["evaluated_epoch"] == 2
    assert list(result.history["epoch"]) == [1, 2]
    assert {"loss", "val_loss", "root_mean_squared_error"} <= set(result.history.columns)
    # The model's own test RMSE agrees with Keras' RootMeanSquaredError on the same rows.
    test = record["metrics"]["test"]
    assert test["rmse"] == pytest.approx(test["root_mean_squared_error"], rel=1e-4)
    assert record["primary"]["metric"] == "rmse" and record["primary"]["value"] == test["rmse"]
    assert record["primary"]["baseline"] in record["baselines"]
    run_dir = Path(record["artifacts"]["dir"])
    for name in (artifacts.MODEL, artifacts.PREPROCESSING, artifacts.SPEC, artifacts.HISTORY,
                 artifacts.predictions_file("validation"), artifacts.predictions_file("test")):
        assert (run_dir / name).is_file(), name
    predictions = pd.read_csv(run_dir / artifacts.predictions_file("test"))
    assert len(predictions) == 165
    np.testing.assert_allclose(
        np.sqrt(np.mean((predictions["BASEL_sunshine"] - predictions["prediction"]) ** 2)), test["rmse"], rtol=1e-6
    )
    # The saved resolved spec reproduces the run's spec, overrides included.
    assert dlworkflow.load_spec(run_dir / artifacts.SPEC).resolved() == record["spec"]
    assert record["spec"]["train"]["epochs"] == 2


def test_weather_basel_exercise(registry_url):
    result = dlworkflow.run(EXAMPLES / "weather_basel.toml", registry=registry_url, train__epochs=2)
    record = result.record
    assert len(record["data"]["features"]) == 9
    assert (record["split"]["train"], record["split"]["validation"], record["split"]["test"]) == (2300, 493, 493)
    assert record["baselines"]["persistence"]["test"]["rmse"] == pytest.approx(4.248581674802133, abs=1e-9)
    params = record["params"]
    assert (params["total"], params["trainable"], params["non_trainable"]) == (6137, 6119, 18)
    assert sum(layer["parameters"] for layer in params["layers"]) == 6137


def test_penguins_classification(registry_url):
    # The automatic choice is JAX; the softmax classifier trains on its logits (from_logits=True).
    result = dlworkflow.run(EXAMPLES / "penguins.toml", registry=registry_url, train__epochs=3)
    record = result.record
    assert (record["backend"], record["backend_requested"]) == ("jax", "jax")
    assert record["devices"] == [{"kind": "cpu", "name": "cpu:0"}]  # this machine has no accelerator
    assert record["training"]["trained_on_logits"] is True
    assert (record["split"]["train"], record["split"]["validation"], record["split"]["test"]) == (273, 0, 69)
    assert record["data"]["class_names"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert set(record["baselines"]) == {"majority_class", "logistic_regression"}
    # Adelie is the majority: 30 of the 69 stratified test rows.
    assert record["baselines"]["majority_class"]["test"]["accuracy"] == pytest.approx(30 / 69)
    assert record["baselines"]["logistic_regression"]["test"]["accuracy"] > 0.9
    assert not record["metrics"]["validation"]
    assert record["params"]["total"] == 83
    assert record["primary"]["metric"] == "accuracy"


def test_test_set_looks_count_up_across_runs_and_specs(registry_url):
    first = dlworkflow.run(EXAMPLES / "weather.toml", registry=registry_url, train__epochs=1)
    second = dlworkflow.run(EXAMPLES / "weather_small.toml", registry=registry_url, train__epochs=1)
    assert first.record["test_set"]["fingerprint"] == second.record["test_set"]["fingerprint"]
    assert (first.record["test_set"]["look"], second.record["test_set"]["look"]) == (1, 2)
    assert dlworkflow.show(first.id, registry=registry_url)["test_set"]["looks"] == 2
    table = dlworkflow.runs(registry=registry_url)
    assert set(table["name"]) == {"weather", "weather_small"}


def test_same_seed_same_result(registry_url):
    one = dlworkflow.run(EXAMPLES / "weather_small.toml", registry=registry_url, train__epochs=3)
    two = dlworkflow.run(EXAMPLES / "weather_small.toml", registry=registry_url, train__epochs=3)
    assert one.metrics["test"]["rmse"] == pytest.approx(two.metrics["test"]["rmse"], rel=1e-6)
    pd.testing.assert_frame_equal(one.history, two.history)


def test_misspelt_layer_writes_nothing(tmp_path):
    spec = tmp_path / "typo.toml"
    spec.write_text((EXAMPLES / "weather.toml").read_text().replace('type = "Dense"', 'type = "Dnse"', 1))
    registry_file = tmp_path / "registry.db"
    with pytest.raises(SpecError, match=r"model\.layers\[0\]\.type.*Did you mean 'Dense'"):
        dlworkflow.run(spec, registry=f"sqlite:///{registry_file}")
    assert not registry_file.exists()


def test_dataframe_from_the_python_api(registry_url, make_dataset):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    frame["y"] = 2 * frame["a"] - frame["b"] + 0.1 * rng.normal(size=80)
    spec = {
        "name": "frame",
        "data": {"target": "y", "scaling": "standardize"},
        "split": {"test": 0.25, "validation": 0.25, "seed": 1},
        "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dense", "units": 1}]},
        "train": {"epochs": 2},
    }
    result = dlworkflow.run(spec, data=frame, registry=registry_url)
    assert result.record["data"]["name"] == "dataframe"
    assert result.record["split"]["test"] == 20
    assert result.record["baselines"]["linear_regression"]["test"]["rmse"] < 0.2


def test_builder_function(tmp_path, registry_url):
    (tmp_path / "mymodels.py").write_text(
        "import keras\n"
        "def create_nn(input_shape, nodes=7):\n"
        "    inputs = keras.Input(shape=input_shape)\n"
        "    hidden = keras.layers.Dense(nodes, activation='relu')(inputs)\n"
        "    return keras.Model(inputs, keras.layers.Dense(1)(hidden), name='built')\n"
    )
    spec = tmp_path / "built.toml"
    spec.write_text(
        (EXAMPLES / "weather.toml").read_text().split("[[model.layers]]")[0]
        + '[model]\nbuilder = "mymodels:create_nn"\nbuilder_args = { nodes = 4 }\n\n[train]\nepochs = 1\n'
    )
    forget_backend_warnings()  # said once per process: whichever test came first may have heard it
    with pytest.warns(BackendWarning, match="'tensorflow' could not be used"):
        result = dlworkflow.run(spec, registry=registry_url)
    assert result.record["params"]["total"] == 89 * 4 + 4 + 4 + 1
    assert (result.record["backend"], result.record["backend_requested"]) == ("jax", "tensorflow")


def test_bad_data_is_a_data_error_before_training(tmp_path, registry_url):
    spec = tmp_path / "missing.toml"
    spec.write_text((EXAMPLES / "weather.toml").read_text().replace('target = "BASEL_sunshine"', 'target = "BASEL_sunshin"'))
    with pytest.raises(DataError, match="BASEL_sunshine"):
        dlworkflow.run(spec, registry=registry_url)


def test_diverging_run_is_recorded_as_failed_without_artifacts(registry_url, tmp_path):
    from dlworkflow.errors import TrainingError

    with pytest.raises(TrainingError, match="loss became NaN at epoch 1.*learning rate"):
        dlworkflow.run(
            EXAMPLES / "weather.toml", registry=registry_url,
            overrides=["train.optimizer.learning_rate=1e8", "train.epochs=3"],
        )
    (row,) = dlworkflow.runs(registry=registry_url).to_dict("records")
    assert row["status"] == "failed"
    assert row["test_set_looks"] == 0  # a failed run never looked at the test set
    record = dlworkflow.show(row["id"], registry=registry_url)
    assert "NaN" in record["error"]
    runs_folder = Path(registry_url.removeprefix("sqlite:///")).parent / "runs"
    assert not runs_folder.exists() or not any(runs_folder.iterdir())


def test_misspelt_persistence_column_fails_before_training(tmp_path, registry_url):
    spec = tmp_path / "persist.toml"
    spec.write_text((EXAMPLES / "weather.toml").read_text().replace('persistence = "BASEL_sunshine"', 'persistence = "BASEL_sunshin"'))
    with pytest.raises((SpecError, DataError), match=r"persist\.toml: evaluate\.persistence.*BASEL_sunshine"):
        dlworkflow.run(spec, registry=registry_url)
    assert dlworkflow.runs(registry=registry_url).empty


def test_the_lessons_weather_model_is_diagnosed_as_overfitting(registry_url):
    # The workshop's point about the 100-50 model on 3 years: validation loss bottoms out
    # early and rises while training loss keeps falling. 60 of the 200 epochs show it.
    result = dlworkflow.run(EXAMPLES / "weather.toml", registry=registry_url, train__epochs=60)
    history = result.history
    lowest = int(history["val_loss"].idxmin()) + 1
    findings = {finding["kind"]: finding for finding in result.record["diagnosis"]}
    assert "overfitting" in findings, result.record["diagnosis"]
    overfitting = findings["overfitting"]
    assert f"validation loss was lowest at epoch {lowest}" in overfitting["evidence"]
    assert lowest < 40 and history["loss"].iloc[-1] < history["loss"].iloc[lowest - 1]
    assert any(remedy.startswith("early stopping") for remedy in overfitting["remedies"])
    assert dlworkflow.show(result.id, registry=registry_url)["diagnosis"] == result.record["diagnosis"]
