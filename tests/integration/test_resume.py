"""Interrupted runs: Ctrl-C or SIGKILL mid-training, recorded as interrupted, and `dlw resume` finishes them."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EPOCHS = 40
STOP_AT = 10  # the checkpoint epoch at which the run is stopped; 30 epochs to spare before it would finish


def dlw(*arguments, cwd):
    """`dlw ARGUMENTS` run from the folder `cwd`, in this process (only the run that is stopped needs one of its own)."""
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(app, list(map(str, arguments)))
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def start_and_stop(cwd: Path, sig: signal.Signals, *, at_epoch: int = STOP_AT) -> None:
    """Start `dlw run` and send it a signal once its checkpoint holds epoch `at_epoch`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dlworkflow.cli", "run", str(EXAMPLES / "weather_small.toml"), "--quiet",
         "--set", f"train.epochs={EPOCHS}"], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = list((cwd / ".dlw" / "runs").glob(".staging-*/checkpoint/checkpoint.json"))
        try:
            if states and json.loads(states[0].read_text())["epoch"] >= at_epoch:
                break
        except (OSError, ValueError):
            pass
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    process.send_signal(sig)
    process.wait(timeout=60)


def listing(cwd: Path) -> list[dict]:
    result = dlw("runs", "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("sig", [
    pytest.param(signal.SIGKILL, id="killed", marks=pytest.mark.slow),  # tests/test_runner.py fakes a kill
    pytest.param(signal.SIGINT, id="ctrl-c"),
])
@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_an_interrupted_run_is_recorded_and_resume_finishes_it(tmp_path, sig):
    start_and_stop(tmp_path, sig)

    (row,) = listing(tmp_path)  # a killed run is recognised here (its process is gone)
    assert row["status"] == "interrupted"
    shown = json.loads(dlw("show", row["id"], "--json", cwd=tmp_path).stdout)
    stopped_at = shown["training"]["epochs_run"]
    assert STOP_AT <= stopped_at < EPOCHS and f"after epoch {stopped_at} of {EPOCHS}" in shown["error"]

    resumed = dlw("resume", row["id"], "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    (row,) = listing(tmp_path)  # one run, finished, under the same id
    assert row["status"] == "finished" and row["id"] == shown["id"]
    record = json.loads(dlw("show", row["id"], "--json", cwd=tmp_path).stdout)
    history = (Path(record["artifacts"]["dir"]) / "history.csv").read_text().splitlines()
    assert len(history) == EPOCHS + 1  # header + every epoch, continuous from 1
    assert not list((tmp_path / ".dlw" / "runs").glob(".*"))  # no staging or interrupted folder left

    # The same seed without interruption: on JAX the checkpoint restores weights, optimizer
    # moments, Dropout's random state and the shuffling state, so the run ends the same
    # (to float32 rounding of the restored arrays, hence a relative tolerance of 1e-4).
    uninterrupted = dlw("run", EXAMPLES / "weather_small.toml", "--quiet", "--set", f"train.epochs={EPOCHS}",
                        "--registry", f"sqlite:///{tmp_path / 'other.db'}", cwd=tmp_path)
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    (other,) = json.loads(dlw("runs", "--json", "--registry", f"sqlite:///{tmp_path / 'other.db'}", cwd=tmp_path).stdout)
    assert row["primary_value"] == pytest.approx(other["primary_value"], rel=1e-4)


def test_only_an_interrupted_run_can_go_on(tmp_path):
    done = dlw("run", EXAMPLES / "weather_small.toml", "--quiet", "--set", "train.epochs=1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (row,) = listing(tmp_path)
    refused = dlw("resume", row["id"], cwd=tmp_path)
    assert refused.returncode == 5
    assert "is finished, not interrupted" in refused.stderr
