"""dlw export --format onnx: model.onnx beside the saved preprocessing; dlw predict runs it with onnxruntime, no Keras."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dlworkflow import api
from dlworkflow.cli import app
from dlworkflow.errors import DataError
from dlworkflow.sharing.bundle import BUNDLE_FILE, Bundle, manifest
from dlworkflow.sharing.onnx_prediction import TOLERANCE, outputs_to_predictions

runner = CliRunner()

PREDICT_WITHOUT_KERAS = textwrap.dedent("""
    import sys
    from dlworkflow.cli import app
    from typer.testing import CliRunner
    result = CliRunner().invoke(app, sys.argv[1:], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    imported = [name for name in ("keras", "tensorflow", "jax", "torch") if name in sys.modules]
    assert not imported, imported
    print("no framework imported")
""")


def invoke(*arguments):
    return runner.invoke(app, [str(a) for a in arguments], catch_exceptions=False)


def predict_in_a_fresh_process(bundle, rows, output) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PREDICT_WITHOUT_KERAS, "predict", str(bundle), "--input", str(rows),
         "--output", str(output)], check=False, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "no framework imported" in completed.stdout


@pytest.mark.slow  # the conversion starts TensorFlow in a child process (about 8 s)
def test_onnx_bundle_predicts_as_keras_without_importing_it(weather_run, tmp_path):
    folder = tmp_path / "weather_onnx"
    result = invoke("export", weather_run.id, folder, "--format", "onnx", "--registry", weather_run.registry)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == [
        "bundle.json", "model.onnx", "model_card.md", "preprocessing.json", "spec.toml",
    ]
    listed = json.loads((folder / BUNDLE_FILE).read_text())
    assert listed["model_format"] == "onnx" and set(listed["files"]) == {
        "model.onnx", "preprocessing.json", "spec.toml", "model_card.md"}
    bundle = Bundle.open(folder)
    assert bundle.model_format == "onnx" and bundle.model_path.name == "model.onnx"

    rows, output = tmp_path / "rows.csv", tmp_path / "predictions.csv"
    weather_run.test_rows.to_csv(rows, index=False)
    predict_in_a_fresh_process(folder, rows, output)
    predicted = pd.read_csv(output, float_precision="round_trip")["prediction"].to_numpy()
    saved = weather_run.saved_predictions()["prediction"].to_numpy()  # the Keras model's own, from the run
    assert len(predicted) == len(saved) == 165
    np.testing.assert_allclose(predicted, saved, rtol=0, atol=TOLERANCE)


@pytest.mark.slow  # the conversion starts TensorFlow in a child process (about 8 s)
def test_onnx_classifier_gives_the_runs_classes_and_probabilities(penguins_run, tmp_path):
    folder = api.export(penguins_run.id, tmp_path / "penguins_onnx", registry=penguins_run.registry,
                        model_format="onnx")
    rows, output = tmp_path / "rows.csv", tmp_path / "predictions.csv"
    penguins_run.test_rows.to_csv(rows, index=False)
    predict_in_a_fresh_process(folder, rows, output)
    predicted, saved = pd.read_csv(output), penguins_run.saved_predictions()
    probabilities = [name for name in saved.columns if name.startswith("probability_")]
    assert predicted["prediction"].tolist() == saved["prediction"].tolist()
    np.testing.assert_allclose(predicted[probabilities], saved[probabilities], rtol=0, atol=TOLERANCE)


def _fake_onnx_bundle(weather_run, tmp_path, content: bytes):
    """A weather bundle whose model.keras is replaced by ``content`` as model.onnx (no conversion: fast)."""
    folder = api.export(weather_run.id, tmp_path / "bundle", registry=weather_run.registry)
    (folder / "model.keras").unlink()
    (folder / "model.onnx").write_bytes(content)
    record = api.show(weather_run.id, registry=weather_run.registry)
    files = ["model.onnx", "preprocessing.json", "spec.toml", "model_card.md"]
    listed = manifest(folder, files, record, None, model_format="onnx")
    (folder / BUNDLE_FILE).write_text(json.dumps(listed))
    return folder


def test_a_missing_onnxruntime_is_one_error_naming_the_extra(weather_run, tmp_path, monkeypatch):
    folder = _fake_onnx_bundle(weather_run, tmp_path, b"not a model")
    rows = tmp_path / "rows.csv"
    weather_run.test_rows.head(3).to_csv(rows, index=False)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    result = invoke("predict", folder, "--input", rows)
    assert result.exit_code == DataError.exit_code
    assert "onnxruntime" in result.output and 'pip install "dlworkflow[onnx]"' in result.output


def test_a_damaged_onnx_model_is_one_error(weather_run, tmp_path):
    folder = _fake_onnx_bundle(weather_run, tmp_path, b"not a model")
    rows = tmp_path / "rows.csv"
    weather_run.test_rows.head(3).to_csv(rows, index=False)
    result = invoke("predict", folder, "--input", rows)
    assert result.exit_code == DataError.exit_code
    assert "model.onnx" in result.output and "onnxruntime cannot load the model" in result.output


def test_an_unknown_format_is_refused_before_anything_is_written(weather_run, tmp_path):
    result = invoke("export", weather_run.id, tmp_path / "out", "--format", "tflite", "--registry", weather_run.registry)
    assert result.exit_code == 5
    assert "--format" in result.output and "'tflite'" in result.output and "'onnx'" in result.output
    assert not (tmp_path / "out").exists()


def test_outputs_become_predictions_as_a_runs_do():
    logits = np.array([[2.0, -1.0, 0.0]])
    probabilities = outputs_to_predictions(logits)
    assert probabilities.sum() == pytest.approx(1.0) and probabilities.argmax() == 0
    already = np.array([[0.2, 0.8]])
    np.testing.assert_array_equal(outputs_to_predictions(already), already)
    assert outputs_to_predictions(np.array([[3.5]])).shape == (1,)
