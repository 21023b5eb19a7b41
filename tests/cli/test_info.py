"""`dlw info`: the backends, the default one and the devices, as text and as JSON."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _as_a_fresh_process(monkeypatch) -> None:
    """`dlw info` in its own process has no Keras imported; other tests may have imported it."""
    monkeypatch.delitem(sys.modules, "keras", raising=False)


def test_info_lists_backends_and_the_cpu() -> None:
    result = runner.invoke(app, ["info"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("dlworkflow ") and "· Python 3." in lines[0]
    assert any(line.startswith("jax ") and "cpu:0 (cpu)" in line for line in lines)
    assert any(line.startswith("torch ") for line in lines)
    assert "trains with jax on: cpu:0 (cpu)" in result.output
    assert "no GPU seen" in result.output


def test_info_json() -> None:
    result = runner.invoke(app, ["info", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [backend["name"] for backend in report["backends"]] == ["jax", "tensorflow", "torch"]
    jax = report["backends"][0]
    assert jax["installed"] is True and jax["version"].count(".") >= 1
    assert report["default_backend"] == "jax"
    assert report["devices"][0] == {"kind": "cpu", "name": "cpu:0"}
