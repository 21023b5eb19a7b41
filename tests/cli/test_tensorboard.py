"""TensorBoard: a run with [train] tensorboard = true writes logs, and `dlw tensorboard` serves them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dlworkflow
from dlworkflow.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    registry = f"sqlite:///{tmp_path_factory.mktemp('tb') / 'registry.db'}"
    result = dlworkflow.run(
        EXAMPLES / "weather_small.toml", registry=registry, quiet=True,
        train__epochs=3, train__tensorboard={"histogram_freq": 1},
    )
    return registry, result


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_the_run_folder_holds_epoch_scalars_and_weight_histograms(logged_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, result = logged_run
    logs = Path(result.record["artifacts"]["dir"]) / "tensorboard"
    assert "tensorboard" in result.record["artifacts"]["files"]
    train = EventAccumulator(str(logs / "train"), size_guidance={"tensors": 0}).Reload()
    validation = EventAccumulator(str(logs / "validation"), size_guidance={"tensors": 0}).Reload()
    epoch_loss = [event.step for event in train.Tensors("epoch_loss")]
    assert epoch_loss == [0, 1, 2]  # once per epoch, also with whole-epoch executions
    assert [event.step for event in validation.Tensors("epoch_loss")] == [0, 1, 2]
    assert any(tag.endswith("histogram") for tag in train.Tags()["tensors"])


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_a_run_without_logs_is_named_with_the_fix(logged_run, tmp_path):
    registry, _ = logged_run
    other = dlworkflow.run(EXAMPLES / "weather_small.toml", registry=registry, quiet=True, train__epochs=1)
    result = CliRunner().invoke(app, ["tensorboard", other.id, "--registry", registry])
    assert result.exit_code == 5
    assert "wrote no TensorBoard logs" in result.output and "tensorboard = true" in result.output


@pytest.mark.slow  # starts a TensorBoard server; the tests above check what it is given
def test_dlw_tensorboard_serves_the_runs_on_localhost(logged_run):
    registry, result = logged_run
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dlworkflow.cli", "tensorboard", result.id[:15], "--port", str(port),
         "--registry", registry],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        runs = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and runs is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=2) as answer:
                    runs = json.loads(answer.read())
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.5)
        assert runs is not None, "TensorBoard did not answer within 60 s"
        label = f"{result.id}_{result.record['name']}"
        assert {f"{label}/train", f"{label}/validation"} <= set(runs)
    finally:
        server.terminate()
        server.wait(timeout=30)
