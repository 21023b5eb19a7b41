"""dlw predict and an exported bundle for a table with categories and gaps (issue 16): same numbers, clear notes."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dlworkflow import api
from dlworkflow.data.sources import load_builtin
from dlworkflow.workflow_warning import WorkflowWarning
from tests.sharing.conftest import EXAMPLES, TrainedRun, _train


@pytest.fixture(scope="module")
def mixed_run(sharing_registry) -> TrainedRun:
    """examples/penguins_all_columns.toml (island and sex one-hot, gaps imputed), 2 epochs."""
    return _train(EXAMPLES / "penguins_all_columns.toml", sharing_registry, load_builtin("penguins"), train__epochs=2)


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip")


@pytest.mark.slow  # a fresh process imports Keras (several seconds)
def test_fresh_process_reproduces_the_mixed_runs_test_predictions_exactly(mixed_run, tmp_path):
    bundle = api.export(mixed_run.id, tmp_path / "bundle", registry=mixed_run.registry)
    rows = tmp_path / "rows.csv"
    assert mixed_run.test_rows[["sex"]].isna().any().item()  # gaps among the test rows, imputed
    mixed_run.test_rows.to_csv(rows, index=False)
    output = tmp_path / "predictions.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "dlworkflow.cli", "predict", str(bundle), "--input", str(rows), "--output", str(output)],
        check=False, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": ""}, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    predicted, saved = read(output), mixed_run.saved_predictions()
    columns = ["prediction", "probability_Adelie", "probability_Chinstrap", "probability_Gentoo"]
    pd.testing.assert_frame_equal(predicted[columns], saved[columns])


def test_unseen_category_and_missing_value_give_finite_predictions_and_notes(mixed_run, tmp_path):
    rows = load_builtin("penguins").drop(columns=["species"]).iloc[[0, 1, 200]].copy()
    rows.loc[rows.index[0], "island"] = "Atlantis"
    rows.loc[rows.index[1], "sex"] = None
    path = tmp_path / "new.csv"
    rows.to_csv(path, index=False)
    with pytest.warns(WorkflowWarning) as caught:
        frame = api.predict(mixed_run.id, path, registry=mixed_run.registry)
    probabilities = frame.filter(like="probability_").to_numpy()
    assert np.isfinite(probabilities).all() and probabilities.shape == (3, 3)
    notes = [str(warning.message) for warning in caught]
    assert "island: 1 value never seen in training ('Atlantis') went to the out-of-vocabulary bucket" in notes
    assert "sex: 1 missing value imputed ('FEMALE')" in notes


def test_the_record_and_preprocessing_say_what_was_encoded_and_imputed(mixed_run):
    import json

    saved = json.loads((mixed_run.folder / "preprocessing.json").read_text())
    assert saved["feature_names"] == ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                      "body_mass_g", "sex"]
    assert saved["scaling"]["feature_names"][:4] == ["island=Biscoe", "island=Dream", "island=Torgersen",
                                                     "island=<other>"]
    assert saved["scaling"]["scale"]["sex_missing"] == 1.0 and saved["scaling"]["offset"]["island=Dream"] == 0.0
    assert any("data.missing: 'impute' filled 19 gaps in 5 columns" in warning and "sex 11 ('FEMALE')" in warning for warning in mixed_run.record["warnings"])
