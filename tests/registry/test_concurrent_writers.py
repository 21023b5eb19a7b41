"""Registry durability: 8 processes record 25 runs each into one registry at the same time, while
``dlw runs --json`` is read again and again; none of the 200 runs is lost or corrupt.

Runs on SQLite and on PostgreSQL (``any_registry_url``). Every run looks at the one test set, so
its look count is the sharpest check of the transactions: 200 looks, and the runs' own look
numbers exactly 1..200, each equal to the one inside the run's stored record.

Halfway, writer 0 stops inside a write transaction (its run inserted, not committed) until one
``dlw runs`` has been read: so at least one read is guaranteed to fall while a write is under way
and the other writers wait for it; the other reads fall where they fall.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dlworkflow.registry import Registry, RunRecord

WRITERS = 8
RUNS_EACH = 25
HALFWAY = 12
WEATHER = "a" * 64
TIMEOUT_SECONDS = 120.0

WRITER = """
import random, sys, time
from pathlib import Path
from sqlalchemy import event
sys.path.insert(0, {folder!r})
from test_concurrent_writers import planned_record, wait_for
from dlworkflow.registry import Registry

url, worker, signals = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
random.seed(worker)
with Registry.open(url, home=signals / "dlw") as registry:
    (signals / f"ready-{{worker}}").touch()
    wait_for(signals / "go")
    for index in range({runs_each}):
        if (worker, index) == (0, {halfway}):
            @event.listens_for(registry._engine, "commit", once=True)
            def hold(connection):  # just before COMMIT: the run is written, not committed
                (signals / "holding").touch()
                wait_for(signals / "carry-on")
        registry.record(planned_record(worker, index), looked_at_test=True, test_set_name="weather")
        time.sleep(random.uniform(0, 0.01))
"""
HELD_RUN = f"20250101-120000-w0r{HALFWAY:02d}"
"""The run writer 0 holds uncommitted while ``dlw runs`` is read."""


def planned_record(worker: int, index: int) -> RunRecord:
    """The run that writer ``worker`` records ``index``-th: every value depends on both numbers."""
    value = worker + index / 100
    return RunRecord(
        id=f"20250101-120000-w{worker}r{index:02d}",
        name=f"writer-{worker}",
        description=f"run {index} of writer {worker} " + "x" * (50 * index),  # records of many sizes
        status="finished",
        created_at="2025-01-01T12:00:00+00:00",
        test_set={"name": "weather", "fingerprint": WEATHER},
        primary={"metric": "rmse", "value": value, "baseline": "mean", "baseline_value": 9.0},
        metrics={"train": {"rmse": value}, "validation": {}, "test": {"rmse": value}},
        timings={f"epoch_{epoch}": value * epoch for epoch in range(index)},
        backend="jax",
    )


def wait_for(path: Path, timeout: float = TIMEOUT_SECONDS) -> None:
    """Wait until a signal file exists."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {path.name} after {timeout} s")
        time.sleep(0.005)


def read_runs(url: str) -> list[dict]:
    """``dlw runs --json --all`` in its own process; fails the test unless it succeeds."""
    result = subprocess.run(
        [sys.executable, "-m", "dlworkflow.cli", "runs", "--json", "--all", "--registry", url],
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    ids = [row["id"] for row in rows]
    looks = [row["test_set_look"] for row in rows]
    assert len(set(ids)) == len(ids) and len(set(looks)) == len(looks), "a read saw a run twice"
    return rows


def test_eight_writers_lose_nothing_while_dlw_runs_reads(any_registry_url: str, tmp_path: Path) -> None:
    url = any_registry_url
    signals = tmp_path / "signals"
    signals.mkdir()
    Registry.open(url, home=signals / "dlw").close()  # the schema exists before the writers start
    script = WRITER.format(folder=str(Path(__file__).parent), runs_each=RUNS_EACH, halfway=HALFWAY)
    writers = [
        subprocess.Popen([sys.executable, "-c", script, url, str(worker), str(signals)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for worker in range(WRITERS)
    ]
    counts: list[int] = []
    held_read: list[dict] | None = None
    try:
        for worker in range(WRITERS):
            wait_for(signals / f"ready-{worker}")
        (signals / "go").touch()  # all at once
        while any(writer.poll() is None for writer in writers):
            holding = (signals / "holding").exists()
            rows = read_runs(url)
            counts.append(len(rows))
            if holding and held_read is None:
                held_read = rows  # read from start to end while writer 0's transaction was open
                (signals / "carry-on").touch()
            if len(counts) > 1000:
                pytest.fail(f"writers still running after {len(counts)} reads")
    finally:
        (signals / "carry-on").touch()
        for writer in writers:
            _, errors = writer.communicate(timeout=TIMEOUT_SECONDS)
            assert writer.returncode == 0, errors

    # dlw runs always answered, never went backwards, and answered while a write was under way,
    # without the run not yet committed.
    assert counts == sorted(counts)
    assert held_read is not None
    assert 0 < len(held_read) < WRITERS * RUNS_EACH
    assert HELD_RUN not in {row["id"] for row in held_read}
    final = read_runs(url)
    assert len(final) == WRITERS * RUNS_EACH

    # Nothing lost, nothing twice, nothing torn.
    planned = {record.id: record for record in
               (planned_record(worker, index) for worker in range(WRITERS) for index in range(RUNS_EACH))}
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            runs = connection.execute(text("SELECT id, test_set_look, primary_value FROM runs")).all()
            stored = dict(connection.execute(text("SELECT run_id, record_json FROM run_records")).all())
            test_sets = connection.execute(text("SELECT fingerprint, looks FROM test_sets")).all()
            if engine.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        engine.dispose()
    assert sorted(run.id for run in runs) == sorted(planned)
    assert sorted(stored) == sorted(planned)
    assert [tuple(row) for row in test_sets] == [(WEATHER, WRITERS * RUNS_EACH)]
    assert sorted(run.test_set_look for run in runs) == list(range(1, WRITERS * RUNS_EACH + 1))
    for run in runs:
        record = RunRecord.from_json(stored[run.id])  # parseable, a valid record
        # ... the very record written, its look the row's look (the two written together).
        look = {"look": run.test_set_look, "looks": run.test_set_look}
        expected = RunRecord.from_json(planned[run.id].replace(test_set={**planned[run.id].test_set, **look}).to_json())
        assert record.to_dict() == expected.to_dict()
        assert run.primary_value == expected.primary["value"]
