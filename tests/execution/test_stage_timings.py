"""The run's time per stage: prepare's own stages, and a whole run's record (keys, sums, what it imports)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlworkflow.execution.preparation import prepare
from dlworkflow.spec import validate_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PREPARE_STAGES = {"prepare", "imports", "read", "split", "encode", "fingerprint"}
RUN_STAGES = PREPARE_STAGES | {"build", "record", "train", "evaluate", "baselines", "write", "plots"}


def _table_spec(path: Path) -> dict:
    return {
        "name": "timed", "data": {"path": str(path), "target": "y"},
        "split": {"type": "random", "test": 0.2, "validation": 0.2, "seed": 0},
        "model": {"layers": [{"type": "Dense", "units": 1}]}, "train": {"epochs": 1},
    }


def test_prepare_measures_each_of_its_stages_once(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "table.csv"
    pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40), "y": rng.normal(size=40)}).to_csv(
        path, index=False)
    started = time.perf_counter()
    prepared = prepare(validate_spec(_table_spec(path)))
    elapsed = time.perf_counter() - started
    assert set(prepared.timings) == PREPARE_STAGES
    assert min(prepared.timings.values()) >= 0.0
    assert sum(prepared.timings.values()) == pytest.approx(prepared.seconds)
    assert prepared.seconds <= elapsed  # the stages lie within the call, none counted twice


RUN_SCRIPT = """
import json, sys, time
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
started = time.perf_counter()
import dlworkflow
result = dlworkflow.run(sys.argv[1], registry=sys.argv[2], train__epochs=2)
elapsed = time.perf_counter() - started
heavy = [m for m in ("tensorflow", "torch") if m in sys.modules]
reads = sum(1 for path in opened if path.endswith("weather_prediction_dataset_light.csv"))
print(json.dumps({"timings": result.record["timings"], "elapsed": elapsed, "heavy": heavy, "reads": reads,
                  "id": result.record["id"]}))
"""


@pytest.mark.slow
def test_a_jax_run_records_every_stage_imports_no_tensorflow_and_reads_its_file_once(tmp_path, registry_url):
    completed = subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT, str(EXAMPLES / "weather.toml"), registry_url],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    timings = outcome["timings"]
    assert set(timings) == RUN_STAGES | {"total"}
    assert min(timings.values()) >= 0.0
    assert timings["total"] == pytest.approx(sum(v for k, v in timings.items() if k != "total"))
    assert timings["total"] <= outcome["elapsed"]  # measured, within the call: nothing counted twice
    assert outcome["heavy"] == []  # a JAX run imports neither TensorFlow nor PyTorch
    assert outcome["reads"] == 1  # the data file is opened once (read and fingerprinted from memory)
    shown = subprocess.run(
        [sys.executable, "-m", "dlworkflow.cli", "show", outcome["id"], "--json", "--registry", registry_url],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["timings"] == timings
