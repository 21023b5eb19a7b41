"""Windows of past days end to end: the example runs, its record shows the time order, predict agrees in a fresh process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dlworkflow
from dlworkflow import api
from dlworkflow.data.sources import load_builtin
from dlworkflow.data.time_order import time_order
from dlworkflow.plain_text import PlainConsole
from dlworkflow.reporting.run_text import render_run

EXAMPLE = Path(__file__).parents[2] / "examples" / "weather_window_conv1d.toml"


@pytest.fixture(scope="module")
def window_run(tmp_path_factory):
    registry = f"sqlite:///{tmp_path_factory.mktemp('windows') / 'registry.db'}"
    result = dlworkflow.run(EXAMPLE, registry=registry, train__epochs=2, train__backend="jax")
    return result, registry


@pytest.mark.slow  # a 2-epoch Conv1D run on 1,096 days: about 5 s
def test_the_example_records_its_split_in_time_order_beside_the_lessons_persistence(window_run):
    result, _ = window_run
    record = result.record.to_dict()
    assert record["split"] == {"type": "ordered", "seed": 0, "train": 761, "validation": 164, "test": 165,
                               "window": 7, "window_stride": 1, "time_ordered": True}
    assert record["params"]["layers"][0]["output_shape"] == "(None, 7, 89)"
    folder = Path(record["artifacts"]["dir"])
    parts = {part: pd.read_csv(folder / f"predictions_{part}.csv")["row"] for part in ("train", "validation", "test")}
    assert parts["train"].max() < parts["validation"].min() and parts["validation"].max() < parts["test"].min()
    # persistence as in the lesson: today's sunshine (the window's last row) for tomorrow's
    table = load_builtin("weather")
    table = table.iloc[time_order(table, "DATE")]
    test_rows = table.loc[parts["test"]]
    tomorrow = table["BASEL_sunshine"].shift(-1).loc[parts["test"]]
    expected = float(np.sqrt(np.mean((test_rows["BASEL_sunshine"] - tomorrow) ** 2)))
    assert record["baselines"]["persistence"]["test"]["rmse"] == pytest.approx(expected)
    assert "linear_regression" in record["baselines"]
    shown = io.StringIO()
    render_run(PlainConsole(file=shown, width=200), result.record)
    assert "windows of 7 rows (stride 1): every validation and test target comes after every training target" in (
        shown.getvalue())


@pytest.mark.slow  # trains, exports and starts a fresh Python: about 15 s
def test_predict_in_a_fresh_process_gives_the_runs_predictions_for_every_complete_window(window_run, tmp_path):
    result, registry = window_run
    bundle = api.export(result.id, tmp_path / "bundle", registry=registry)
    folder = Path(result.record.to_dict()["artifacts"]["dir"])
    saved = pd.read_csv(folder / "predictions_test.csv", float_precision="round_trip")
    table = load_builtin("weather")
    rows = table.loc[saved["row"].min() - 6: saved["row"].min() + 9]  # 6 days of past, then 10 test days
    rows.to_csv(tmp_path / "days.csv", index=False)
    output = tmp_path / "predictions.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "dlworkflow.cli", "predict", str(bundle), "--input", str(tmp_path / "days.csv"),
         "--output", str(output)],
        check=False, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": ""}, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    predicted = pd.read_csv(output, float_precision="round_trip")
    assert predicted["row"].tolist() == list(range(7, 17))  # the rows of the file that end a whole window
    np.testing.assert_allclose(predicted["prediction"], saved["prediction"].head(10), rtol=1e-6)
    rows.head(5).to_csv(tmp_path / "short.csv", index=False)
    short = subprocess.run(
        [sys.executable, "-m", "dlworkflow.cli", "predict", str(bundle), "--input", str(tmp_path / "short.csv")],
        check=False, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": ""}, timeout=300,
    )
    assert short.returncode == 3 and "Give at least 7 consecutive rows" in short.stderr


@pytest.mark.slow  # an LSTM and a GRU over windows on JAX, 1 epoch each
def test_recurrent_and_pooling_layers_train_on_windows_with_jax(tmp_path):
    spec = EXAMPLE.read_text().replace('rows = 1096 ', 'rows = 300 ')
    layers = """
[[model.layers]]
type = "Conv1D"
filters = 4
kernel_size = 2
padding = "same"

[[model.layers]]
type = "MaxPooling1D"
pool_size = 2

[[model.layers]]
type = "LSTM"
units = 4
return_sequences = true

[[model.layers]]
type = "GRU"
units = 4

[[model.layers]]
type = "Dense"
units = 1
"""
    spec = spec[: spec.index("[[model.layers]]")] + layers + spec[spec.index("[train]"):]
    (tmp_path / "lstm.toml").write_text(spec)
    result = dlworkflow.run(tmp_path / "lstm.toml", registry=f"sqlite:///{tmp_path / 'r.db'}", train__epochs=1,
                            train__backend="jax")
    record = result.record.to_dict()
    assert record["backend"] == "jax" and record["status"] == "finished"
    assert [layer["type"] for layer in record["params"]["layers"]][1:] == ["Conv1D", "MaxPooling1D", "LSTM", "GRU",
                                                                           "Dense"]
    assert np.isfinite(record["metrics"]["test"]["rmse"])
