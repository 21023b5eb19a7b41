"""dlw predict: the saved preprocessing applied to new rows, the run's own predictions reproduced exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dlworkflow import api
from dlworkflow.cli import app
from dlworkflow.errors import DataError, RegistryError
from dlworkflow.sharing.bundle import BUNDLE_FILE, manifest
from dlworkflow.sharing.model_loading import unsafe_layers

runner = CliRunner()


def invoke(*arguments):
    return runner.invoke(app, [str(a) for a in arguments], catch_exceptions=False)


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip")


@pytest.fixture(scope="module")
def weather_bundle(weather_run, tmp_path_factory):
    return api.export(weather_run.id, tmp_path_factory.mktemp("bundles") / "weather", registry=weather_run.registry)


@pytest.fixture(scope="module")
def penguins_bundle(penguins_run, tmp_path_factory):
    return api.export(penguins_run.id, tmp_path_factory.mktemp("bundles") / "penguins", registry=penguins_run.registry)


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_fresh_process_reproduces_the_runs_test_predictions_exactly(weather_run, weather_bundle, tmp_path):
    rows = tmp_path / "rows.csv"
    weather_run.test_rows.to_csv(rows, index=False)  # the raw table's rows: DATE and MONTH too
    output = tmp_path / "predictions.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "dlworkflow.cli", "predict", str(weather_bundle), "--input", str(rows),
         "--output", str(output)],
        capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": ""}, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "165 predictions written" in completed.stderr
    predicted, saved = read(output), weather_run.saved_predictions()
    assert predicted.columns.tolist() == ["prediction"]
    np.testing.assert_array_equal(predicted["prediction"].to_numpy(), saved["prediction"].to_numpy())


def test_classification_round_trip_names_and_probabilities(penguins_run, penguins_bundle, tmp_path):
    rows = tmp_path / "penguins.csv"
    penguins_run.test_rows.to_csv(rows, index=False)  # species, island and sex included
    result = invoke("predict", penguins_bundle, "--input", rows, "--output", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    predicted, saved = read(tmp_path / "out.csv"), penguins_run.saved_predictions()
    probabilities = ["probability_Adelie", "probability_Chinstrap", "probability_Gentoo"]
    assert predicted.columns.tolist() == ["prediction", *probabilities]
    assert predicted["prediction"].tolist() == saved["prediction"].tolist()
    np.testing.assert_array_equal(predicted[probabilities].to_numpy(), saved[probabilities].to_numpy())


def test_predict_from_a_run_id_prints_csv(penguins_run, tmp_path):
    rows = tmp_path / "rows.csv"
    penguins_run.test_rows.head(3).drop(columns=["species"]).to_csv(rows, index=False)
    result = invoke("predict", penguins_run.id, "--input", rows, "--registry", penguins_run.registry)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("prediction,probability_Adelie") and len(lines) == 4
    frame = api.predict(penguins_run.id[:15], rows, registry=penguins_run.registry)
    assert frame["prediction"].tolist() == penguins_run.saved_predictions()["prediction"].head(3).tolist()
    from_frame = api.predict(penguins_run.id, penguins_run.test_rows.head(3), registry=penguins_run.registry)
    pd.testing.assert_frame_equal(from_frame, frame)


def test_missing_and_extra_columns_are_one_error_naming_both(penguins_bundle, penguins_run, tmp_path):
    rows = tmp_path / "rows.csv"
    penguins_run.test_rows.drop(columns=["bill_length_mm", "flipper_length_mm"]).assign(colour="blue").to_csv(
        rows, index=False
    )
    result = invoke("predict", penguins_bundle, "--input", rows)
    assert result.exit_code == 3
    assert str(rows) in result.output
    assert "2 feature columns the model needs are missing: 'bill_length_mm', 'flipper_length_mm'" in result.output
    assert "1 column the model was not trained on: 'colour'" in result.output
    assert "--ignore-extra" in result.output


def test_extra_columns_can_be_ignored(penguins_bundle, penguins_run, tmp_path):
    rows = tmp_path / "rows.csv"
    penguins_run.test_rows.assign(colour="blue").to_csv(rows, index=False)
    with pytest.raises(DataError, match="'colour'"):
        api.predict(penguins_bundle, rows)
    frame = api.predict(penguins_bundle, rows, ignore_extra=True)
    assert frame["prediction"].tolist() == penguins_run.saved_predictions()["prediction"].tolist()


def test_text_and_missing_values_in_features_are_refused(penguins_bundle, penguins_run, tmp_path):
    rows = tmp_path / "rows.csv"
    table = penguins_run.test_rows.head(4).copy()
    table.loc[table.index[1], "body_mass_g"] = np.nan
    table.to_csv(rows, index=False)
    with pytest.raises(DataError, match=r"1 row has missing values in feature columns 'body_mass_g' \(data row 2,"):
        api.predict(penguins_bundle, rows)
    table["bill_depth_mm"] = "deep"
    table.to_csv(rows, index=False)
    with pytest.raises(DataError, match="feature columns must be numeric.*'bill_depth_mm'"):
        api.predict(penguins_bundle, rows)


def test_the_target_is_needed_with_a_shift_as_todays_value(weather_bundle, weather_run, tmp_path):
    rows = tmp_path / "rows.csv"
    weather_run.test_rows.drop(columns=["BASEL_sunshine", "DATE"]).to_csv(rows, index=False)
    with pytest.raises(DataError, match="1 feature column the model needs is missing: 'BASEL_sunshine'"):
        api.predict(weather_bundle, rows)


def test_a_tampered_file_is_refused(weather_bundle, weather_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(weather_bundle, copy)
    saved = json.loads((copy / "preprocessing.json").read_text())
    saved["scaling"]["method"] = "standardize"
    (copy / "preprocessing.json").write_text(json.dumps(saved))
    rows = tmp_path / "rows.csv"
    weather_run.test_rows.to_csv(rows, index=False)
    result = invoke("predict", copy, "--input", rows)
    assert result.exit_code == 3
    assert "preprocessing.json: its sha256 does not match bundle.json" in result.output
    (copy / "model.keras").unlink()
    with pytest.raises(DataError, match="model.keras: missing"):
        api.predict(copy, rows)


def test_a_lambda_layer_is_refused_with_an_explanation(weather_bundle, weather_run, tmp_path):
    import shutil

    import keras

    copy = tmp_path / "lambda"
    shutil.copytree(weather_bundle, copy)
    inputs = keras.Input((89,))
    doubled = keras.layers.Lambda(lambda values: values * 2, name="doubler")(inputs)
    keras.Model(inputs, keras.layers.Dense(1)(doubled)).save(copy / "model.keras")
    listed = json.loads((copy / BUNDLE_FILE).read_text())
    rewritten = manifest(copy, list(listed["files"]), weather_run.record)  # an intact bundle, as sent
    (copy / BUNDLE_FILE).write_text(json.dumps(rewritten))
    rows = tmp_path / "rows.csv"
    weather_run.test_rows.head(2).to_csv(rows, index=False)
    result = invoke("predict", copy, "--input", rows)
    assert result.exit_code == 3
    assert "refused: the model holds Python code" in result.output
    assert "layer 'doubler' (Lambda)" in result.output
    assert "safe mode" in result.output and "safe_mode=False" in result.output


def test_unsafe_layers_finds_nested_lambdas():
    config = {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Dense", "config": {"name": "d", "activation": {"class_name": "__lambda__", "config": {}}}},
        {"class_name": "Functional", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "inner"}}]}},
    ]}}
    found = unsafe_layers(config)
    assert len(found) == 2 and "layer 'inner' (Lambda)" in found[1] and "Python lambda" in found[0]
    assert unsafe_layers({"class_name": "Sequential", "config": {"layers": []}}) == []


def test_unknown_source_and_wrong_input_kind(weather_bundle, weather_run, tmp_path):
    rows = tmp_path / "rows.csv"
    weather_run.test_rows.head(2).to_csv(rows, index=False)
    with pytest.raises(RegistryError, match="'nobundle' is neither a bundle folder nor a run"):
        api.predict("nobundle", rows, registry=weather_run.registry)
    with pytest.raises(DataError, match="bundle folder not found"):
        api.predict(tmp_path / "missing", rows)
    with pytest.raises(DataError, match="is a folder; a table model takes a CSV file"):
        api.predict(weather_bundle, tmp_path)


def test_image_model_predicts_files_as_the_run_did(image_arrays_run, tmp_path):
    from PIL import Image

    arrays = np.load(image_arrays_run.record["spec"]["data"]["path"])
    folder = tmp_path / "new_images"
    (folder / "more").mkdir(parents=True)
    for index, pixels in enumerate(arrays["x_test"]):  # sorted names keep the test set's order
        target = folder / ("more" if index >= 10 else "") / f"{index:03d}.png"
        Image.fromarray(pixels).save(target)
    bundle = api.export(image_arrays_run.id, tmp_path / "bundle", registry=image_arrays_run.registry)
    frame = api.predict(bundle, folder)
    saved = image_arrays_run.saved_predictions()
    assert frame.columns.tolist() == ["file", "prediction", "probability_cat", "probability_dog"]
    assert frame["file"].tolist()[-2:] == ["more/010.png", "more/011.png"]
    assert frame["prediction"].tolist() == saved["prediction"].tolist()
    np.testing.assert_array_equal(frame[["probability_cat", "probability_dog"]].to_numpy(),
                                  saved[["probability_cat", "probability_dog"]].to_numpy())
    one = api.predict(bundle, folder / "000.png")
    assert one["file"].tolist() == ["000.png"]
    with pytest.raises(DataError, match="is not an image file"):
        api.predict(bundle, bundle / "spec.toml")


def test_model_trained_on_an_image_folder_reads_new_files_the_same_way(sharing_registry, tmp_path):
    import shutil

    from PIL import Image

    import dlworkflow

    rng = np.random.default_rng(1)
    photos = tmp_path / "photos"
    for label in ("cat", "dog"):
        (photos / label).mkdir(parents=True)
        for index in range(10):
            pixels = rng.integers(0, 256, size=(10, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(photos / label / f"{index}.png")
    spec = {
        "name": "tiny-photos",
        "data": {"path": str(photos), "scaling": "pixels", "image_size": [6, 6]},
        "split": {"test": 0.3, "validation": 0.0},
        "model": {"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 2, "activation": "softmax"}]},
        "train": {"epochs": 1, "backend": "jax"},
    }
    result = dlworkflow.run(spec, registry=sharing_registry)
    saved = pd.read_csv(f"{result.record['artifacts']['dir']}/predictions_test.csv", float_precision="round_trip")
    new = tmp_path / "new"
    new.mkdir()
    for position, name in enumerate(saved["file"]):  # names that sort in the test set's order
        shutil.copyfile(photos / name, new / f"{position:02d}_{name.replace('/', '_')}")
    frame = api.predict(result.id, new, registry=sharing_registry)
    assert frame["prediction"].tolist() == saved["prediction"].tolist()
    np.testing.assert_array_equal(frame[["probability_cat", "probability_dog"]].to_numpy(),
                                  saved[["probability_cat", "probability_dog"]].to_numpy())


def test_a_run_on_any_csv_or_parquet_table_is_reproduced_by_predict_from_a_csv(sharing_registry, tmp_path):
    """One CSV reader (round-trip floats) for training and predict; a Parquet-trained run takes CSV rows too."""
    pytest.importorskip("pyarrow")
    import dlworkflow

    rng = np.random.default_rng(7)
    table = pd.DataFrame(rng.normal(size=(80, 4)) * [1.0, 1e3, 1e-3, 1.0], columns=["a", "b", "c", "y"])
    table.to_csv(tmp_path / "table.csv", index=False)  # pandas' default parser would misread about a third
    table.to_parquet(tmp_path / "table.parquet")
    for name in ("table.csv", "table.parquet"):
        spec = {"name": "any-table", "data": {"path": str(tmp_path / name), "target": "y", "scaling": "standardize"},
                "split": {"test": 0.25}, "model": {"layers": [{"type": "Dense", "units": 1}]}, "train": {"epochs": 1}}
        trained = dlworkflow.run(spec, registry=sharing_registry, train__backend="jax")
        saved = read(Path(trained.record["artifacts"]["dir"]) / "predictions_test.csv")
        rows = tmp_path / f"rows_{name}.csv"
        table.loc[saved["row"]].to_csv(rows, index=False)
        result = invoke("predict", trained.id, "--input", rows, "--output", tmp_path / "out.csv", "--force",
                        "--registry", sharing_registry)
        assert result.exit_code == 0, result.output
        np.testing.assert_array_equal(read(tmp_path / "out.csv")["prediction"].to_numpy(),
                                      saved["prediction"].to_numpy())
