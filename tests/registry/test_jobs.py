"""The registry's jobs table (registry/jobs.py) on SQLite and PostgreSQL, and recovery judged by a job's heartbeat."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from dlworkflow.registry import Registry, artifacts
from dlworkflow.registry.jobs import JobRecord
from dlworkflow.registry.record import RunRecord
from dlworkflow.registry.recovery import STALE_AFTER_SECONDS, recover_killed_runs


@pytest.fixture
def store(any_registry_url, tmp_path):
    with Registry.open(any_registry_url, home=tmp_path / "dlw") as registry:
        yield registry


def test_a_submitted_job_is_queued_then_running_then_ended(store):
    store.jobs.submit(JobRecord.new("4242", "slurm", "run", "weather", stdout_path="/logs/4242.out"))
    assert [(job.job_id, job.state, job.started_at) for job in store.jobs.live()] == [("4242", "queued", None)]
    store.jobs.start("4242", run_id="20261207-120000-abcdef", host="node1")
    running = store.jobs.get("4242")
    assert (running.state, running.host, running.stdout_path) == ("running", "node1", "/logs/4242.out")
    assert running.heartbeat_at == running.started_at and running.heartbeat_age() < 60
    assert store.jobs.for_run("20261207-120000-abcdef").job_id == "4242"
    store.jobs.end("4242", "finished")
    ended = store.jobs.get("4242")
    assert ended.state == "finished" and ended.ended_at is not None
    assert store.jobs.live() == [] and store.jobs.get("9999") is None


def test_a_requeued_job_counts_its_requeues_and_stays_requeued_when_its_run_stops_as_interrupted(store):
    store.jobs.submit(JobRecord.new("7", "slurm", "run", "m"))
    store.jobs.start("7", run_id="r1", host="node1")
    store.jobs.end("7", "requeued")
    store.jobs.end("7", "interrupted")  # the run stopping at the time limit: the job waits to go on
    job = store.jobs.get("7")
    assert (job.state, job.requeues, job.ended_at) == ("requeued", 1, None)
    store.jobs.start("7", host="node2")
    store.jobs.end("7", "finished")
    job = store.jobs.get("7")
    assert (job.state, job.requeues, job.host, job.run_id) == ("finished", 1, "node2", "r1")


def test_a_job_that_starts_before_its_submitter_records_it_keeps_its_state(store):
    store.jobs.start("8_1", kind="tune", name="weather_tune", host="node1")
    store.jobs.submit(JobRecord.new("8_1", "slurm", "tune", "weather_tune", stdout_path="/logs/8_1.out"))
    job = store.jobs.get("8_1")
    assert (job.state, job.kind, job.stdout_path) == ("running", "tune", "/logs/8_1.out")


def _age_heartbeat(registry, job_id: str, seconds: float) -> None:
    """Set the job's heartbeat to ``seconds`` ago (as a job on a compute node wrote it then)."""
    from sqlalchemy import update

    from dlworkflow.registry.database import jobs

    beat = (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="seconds")
    with registry._write() as connection:
        connection.execute(update(jobs).where(jobs.c.job_id == job_id).values(heartbeat_at=beat))


def test_a_heartbeat_moves_forward(store):
    store.jobs.submit(JobRecord.new("9", "slurm", "run", "m"))
    store.jobs.start("9", run_id="r9")
    _age_heartbeat(store, "9", 3600)
    assert 3590 < store.jobs.get("9").heartbeat_age() < 3700
    store.jobs.beat("9")
    assert store.jobs.get("9").heartbeat_age() < 60


def test_a_reused_slurm_id_replaces_the_ended_job(store):
    store.jobs.submit(JobRecord.new("10", "slurm", "run", "old"))
    store.jobs.end("10", "cancelled")
    store.jobs.submit(JobRecord.new("10", "slurm", "run", "new"))
    assert [(job.name, job.state) for job in store.jobs.live()] == [("new", "queued")]


def _killed_elsewhere(registry, heartbeat_age: float) -> str:
    """A run whose owner note names another host (its note just touched), its job's registry heartbeat this old."""
    run_id = registry.new_run_id()
    folder = registry.stage(run_id)
    header = RunRecord(id=run_id, name="fake", spec={"train": {"epochs": 5}})
    note = folder.path(artifacts.OWNER)
    note.write_text(json.dumps({"host": "gpu-node-17", "pid": 4242, "record": header.to_dict()}))
    registry.jobs.submit(JobRecord.new("555", "slurm", "run", "fake"))
    registry.jobs.start("555", run_id=run_id, host="gpu-node-17")
    _age_heartbeat(registry, "555", heartbeat_age)
    return run_id


def test_a_run_killed_on_another_host_is_judged_by_its_stale_registry_heartbeat(store):
    run_id = _killed_elsewhere(store, STALE_AFTER_SECONDS + 60)
    assert recover_killed_runs(store) == [run_id]  # its note's file time is fresh: the registry's heartbeat decides
    assert store.get(run_id).status == "interrupted"
    assert store.jobs.get("555").state == "interrupted"


def test_a_run_on_another_host_with_a_fresh_registry_heartbeat_is_left_alone(store):
    run_id = _killed_elsewhere(store, 30)
    note = artifacts.runs_dir(store.home).glob(f"{artifacts.STAGING_PREFIX}*/{artifacts.OWNER}")
    for path in note:  # the note's file time looks stale (a shared file system's lag): the registry wins
        os.utime(path, (time.time() - STALE_AFTER_SECONDS - 60,) * 2)
    assert recover_killed_runs(store) == []
    assert run_id not in store.statuses() and store.jobs.get("555").state == "running"
