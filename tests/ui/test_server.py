"""``dlw ui`` as a user starts it: a real server on a free port, read over HTTP, stopped afterwards."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app
from dlworkflow.registry import Registry
from dlworkflow.registry.record import RunRecord

from .server import free_port, listening_addresses, running_server

LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it


def test_dlw_ui_serves_the_runs_on_loopback_only(registry_url):
    with Registry.open(registry_url) as registry:
        registry.record(RunRecord(id="20250101-120000-000001", name="dense", description="<b>first</b>",
                                  status="finished", created_at="2025-01-01T12:00:00+00:00",
                                  test_set={"fingerprint": "f" * 64},
                                  primary={"metric": "rmse", "value": 3.5, "baseline": "mean", "baseline_value": 4.0}),
                        looked_at_test=True, test_set_name="weather_v1")
    with running_server(registry_url) as address:
        with urllib.request.urlopen(address + "/") as answer:
            page = answer.read().decode()
        assert "20250101-120000-000001" in page and "&lt;b&gt;first&lt;/b&gt;" in page
        with urllib.request.urlopen(address + "/api/runs") as answer:
            assert json.load(answer)["leaderboards"][0]["runs"][0]["name"] == "dense"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(address + "/static/../../etc/passwd")
        assert refused.value.code == 404
        if sys.platform == "linux":
            assert listening_addresses(urlsplit(address).port) == [LOOPBACK_HEX]


def test_a_taken_port_is_one_clear_error(registry_url):
    import socket

    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = CliRunner().invoke(app, ["ui", "--registry", registry_url, "--port", str(port)])
    assert result.exit_code != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output
