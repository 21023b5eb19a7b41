"""Issue 15's acceptance on scikit-learn's diabetes table (bundled, no network): with target_scaling the network beats
the mean baseline on test, in the target's own units; without it, the diagnosis names target scaling first."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_diabetes

import dlworkflow
from dlworkflow.registry import artifacts

pytestmark = pytest.mark.slow


def diabetes_spec(tmp_path: Path, target_scaling: str) -> Path:
    """The issue's run: standardized inputs, Dense 64 → 1, 60 epochs; the table written as a CSV beside the spec."""
    load_diabetes(as_frame=True).frame.to_csv(tmp_path / "diabetes.csv", index=False)
    spec = tmp_path / f"diabetes_{target_scaling}.toml"
    spec.write_text(f"""name = "diabetes"
[data]
path = "diabetes.csv"
target = "target"
scaling = "standardize"
target_scaling = "{target_scaling}"
[split]
test = 0.2
validation = 0.2
[[model.layers]]
type = "Dense"
units = 64
activation = "relu"
[[model.layers]]
type = "Dense"
units = 1
[train]
epochs = 60
seed = 1
""")
    return spec


def test_standardized_target_beats_the_mean_baseline_in_the_targets_units(tmp_path, registry_url):
    result = dlworkflow.run(diabetes_spec(tmp_path, "standardize"), registry=registry_url)

    test = result.record.to_dict()["metrics"]["test"]
    mean = result.record.to_dict()["baselines"]["mean"]["test"]
    assert test["rmse"] < mean["rmse"]
    assert test["loss"] == pytest.approx(test["rmse"] ** 2, rel=1e-3)  # Keras' MSE put back into the target's units
    folder = Path(result.record.artifacts.dir)
    predictions = (folder / artifacts.predictions_file("test")).read_text().splitlines()
    assert float(predictions[1].split(",")[-1]) > 20  # progression values (25–346), not standardized ones
    assert json.loads((folder / artifacts.PREPROCESSING).read_text())["target_scaling"]["method"] == "standardize"
    assert not any("data.target_scaling" in warning for warning in result.warnings)
    history = pd.read_csv(folder / artifacts.HISTORY)  # the curves speak the target's units too
    validation = result.record.to_dict()["metrics"]["validation"]
    assert history["val_loss"].iloc[-1] == pytest.approx(validation["loss"], rel=1e-3)


@pytest.mark.filterwarnings("ignore::UserWarning")  # the spread suggestion, as the API warns it
def test_without_it_the_diagnosis_names_target_scaling_first(tmp_path, registry_url):
    result = dlworkflow.run(diabetes_spec(tmp_path, "none"), registry=registry_url)

    findings = result.record.to_dict()["diagnosis"]
    blamed = [finding for finding in findings if finding["kind"] in ("underfitting", "no_better_than_baseline")]
    assert blamed
    for finding in blamed:
        assert "Likely cause: the target is unscaled" in finding["summary"]
        assert finding["remedies"][0].startswith("scale the target: [data] target_scaling = 'standardize'")
    assert any(warning.startswith(f"{tmp_path / 'diabetes_none.toml'}: data.target_scaling: the training target's")
               for warning in result.warnings)
