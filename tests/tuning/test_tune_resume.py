"""A tuner killed in the middle of a study: the next `dlw tune` finishes the remaining trials."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow  # waits out the heartbeat grace period (about 30 s) of the killed trial
def test_killing_the_tuner_and_starting_it_again_finishes_the_study(tmp_path):
    command = [sys.executable, "-m", "dlworkflow.cli", "tune", str(EXAMPLES / "weather_tune.toml"),
               "--set", "tune.n_trials=4", "--set", "train.epochs=15", "--quiet"]
    runs = tmp_path / ".dlw" / "runs"
    first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len([p for p in runs.glob("2*")]) < 2:
        assert first.poll() is None, first.stderr.read().decode()
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)  # in the middle of the third trial
    first.wait()

    second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr

    study = optuna.load_study(study_name="weather_tune", storage=f"sqlite:///{tmp_path / '.dlw' / 'studies.db'}")
    finished = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 4
    assert "final run, trained once more" in second.stdout
