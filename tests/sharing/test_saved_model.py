"""dlw export --format savedmodel: a saved_model/ folder beside the preprocessing; dlw predict runs its serving signature."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dlworkflow import api
from dlworkflow.cli import app
from dlworkflow.errors import DataError, RegistryError
from dlworkflow.sharing.bundle import BUNDLE_FILE, Bundle
from dlworkflow.sharing.onnx_prediction import TOLERANCE

runner = CliRunner()


def invoke(*arguments):
    return runner.invoke(app, [str(a) for a in arguments], catch_exceptions=False)


@pytest.mark.slow  # the export starts TensorFlow in a child process (several seconds)
def test_saved_model_bundle_predicts_as_the_run_did_and_is_checked_like_any_bundle(penguins_run, tmp_path):
    folder = tmp_path / "penguins_tf"
    result = invoke("export", penguins_run.id, folder, "--format", "savedmodel", "--registry", penguins_run.registry)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == [
        "bundle.json", "model_card.md", "preprocessing.json", "saved_model", "spec.toml",
    ]
    listed = json.loads((folder / BUNDLE_FILE).read_text())
    assert listed["model_format"] == "savedmodel"
    assert "saved_model/saved_model.pb" in listed["files"]
    assert any(name.startswith("saved_model/variables/") for name in listed["files"])
    bundle = Bundle.open(folder)
    assert bundle.model_format == "savedmodel" and bundle.model_path.name == "saved_model"

    rows, output = tmp_path / "rows.csv", tmp_path / "predictions.csv"
    penguins_run.test_rows.to_csv(rows, index=False)
    predicted = invoke("predict", folder, "--input", rows, "--output", output)
    assert predicted.exit_code == 0, predicted.output
    frame, saved = pd.read_csv(output), penguins_run.saved_predictions()
    assert frame["prediction"].tolist() == saved["prediction"].tolist()
    probabilities = [name for name in saved.columns if name.startswith("probability_")]
    np.testing.assert_allclose(frame[probabilities].to_numpy(), saved[probabilities].to_numpy(), rtol=0, atol=TOLERANCE)

    # The folder's files are checked against the manifest as a bundle's files are.
    variables = next(path for path in (folder / "saved_model" / "variables").iterdir() if path.suffix == ".index")
    variables.write_bytes(variables.read_bytes() + b"x")
    with pytest.raises(DataError, match="variables.index: its sha256 does not match bundle.json"):
        Bundle.open(folder)

    # --force replaces the earlier bundle, folder included; a Keras bundle then leaves no saved_model behind.
    again = api.export(penguins_run.id, folder, registry=penguins_run.registry, force=True)
    assert sorted(path.name for path in again.iterdir()) == [
        "bundle.json", "model.keras", "model_card.md", "preprocessing.json", "spec.toml",
    ]


def test_an_unknown_format_names_savedmodel_among_the_choices():
    from dlworkflow.sharing.onnx_export import check_converter

    check_converter("savedmodel")  # TensorFlow is installed with dlworkflow
    with pytest.raises(RegistryError, match="'keras', 'onnx', 'savedmodel'; got 'tflite'"):
        check_converter("tflite")


def test_a_manifest_naming_a_path_outside_the_model_folder_is_refused(tmp_path):
    from dlworkflow.sharing.bundle import _inside

    assert _inside("saved_model/variables/variables.index") and _inside("spec.toml")
    assert not any(_inside(name) for name in ("../spec.toml", "other/file", "saved_model/../x", "saved_model//x",
                                               "/etc/passwd", "saved_model\\x"))
