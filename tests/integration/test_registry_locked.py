"""A run that finishes while another process holds the SQLite registry locked for 60 seconds, through the real
``dlw run``: the run folder survives and, once the lock is gone, ``dlw runs`` (after ``dlw recover`` if needed)
lists the run as finished with its metrics. Slow (a minute); ``tests/test_runner.py`` covers the same with a
short busy timeout and a fake trainer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlworkflow.registry import Registry, artifacts
from tests.conftest import tiny_weather_spec

LOCK_SECONDS = 60.0

SPEC = tiny_weather_spec("locked_registry")

LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


def dlw(*arguments: str, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from dlworkflow.cli import main; main()", *arguments]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.slow
def test_a_run_finishing_while_the_registry_is_locked_for_a_minute_survives_and_is_listed_finished(tmp_path: Path):
    (tmp_path / "spec.toml").write_text(SPEC, encoding="utf-8")
    database = tmp_path / "dlw" / "registry.db"
    url = f"sqlite:///{database}"
    Registry.open(url).close()
    env = {**os.environ, "DLW_REGISTRY": url, "DLW_DATA_HOME": str(tmp_path / "data_home")}
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(database), str(LOCK_SECONDS)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        locked_at = time.monotonic()
        run = dlw("run", "spec.toml", "--quiet", cwd=tmp_path, env=env, timeout=600)
        waited = time.monotonic() - locked_at
        assert locker.wait(timeout=LOCK_SECONDS + 30) == 0
    finally:
        if locker.poll() is None:
            locker.kill()
        locker.wait()
    assert run.returncode in (0, 5), run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    if run.returncode == 5:  # every try fell inside the lock: the run is kept, noted as not yet recorded
        assert "nothing is lost" in run.stderr and "dlw recover" in run.stderr
        recovered = dlw("recover", cwd=tmp_path, env=env)
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    else:
        assert waited >= LOCK_SECONDS - 5  # it waited for the lock instead of giving up
    listed = dlw("runs", "--json", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["status"] == "finished" and row["primary_metric"] == "rmse" and row["primary_value"] > 0
    folder = artifacts.run_dir(database.parent, row["id"])
    assert (folder / "model.keras").is_file() and (folder / "run.json").is_file()
    assert not list(artifacts.runs_dir(database.parent).glob(".*"))  # no staging folder, no note left
