"""dlw run/tune --executor slurm against a real single-node SLURM cluster (tests/slurm_cluster.py; marked ``slurm``)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from dlworkflow import api
from dlworkflow.registry import Registry

REPOSITORY = Path(__file__).resolve().parents[2]
PENGUINS = str(REPOSITORY / "examples" / "penguins.toml")
WEATHER_TUNE = str(REPOSITORY / "examples" / "weather_tune.toml")


@pytest.fixture
def registry_url(slurm_cluster, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path}/dlw/registry.db"


def _job(registry_url, job_id):
    with Registry.open(registry_url) as store:
        return store.jobs.get(job_id)


def test_a_run_submitted_to_slurm_finishes_and_is_recorded_with_its_job(registry_url):
    submission = api.submit(PENGUINS, overrides=["train.epochs=2"], registry=registry_url, slurm={"time": 5})
    [job_id] = submission.job_ids
    assert _job(registry_url, job_id).state in ("queued", "running")
    [run_id] = submission.wait()
    record = api.show(run_id, registry=registry_url)
    job = _job(registry_url, job_id)
    assert record["status"] == "finished" and record["training"]["epochs_run"] == 2
    assert (job.state, job.run_id, job.executor) == ("finished", run_id, "slurm")
    assert Path(job.stdout_path).is_file() and api.jobs(run_id, registry=registry_url).job_id == job_id
    assert api.jobs(registry=registry_url) == []  # nothing left queued or running


def test_two_tuning_workers_as_a_job_array_record_every_trial_once(registry_url):
    submission = api.submit(WEATHER_TUNE, overrides=["tune.n_trials=2", "train.epochs=1"], registry=registry_url,
                            slurm={"time": 5}, tune=True, workers=2)
    assert len(submission.job_ids) == 2 and all("_" in job_id for job_id in submission.job_ids)
    submission.wait()
    import optuna

    summaries = optuna.get_all_study_summaries(submission.storage)
    [summary] = summaries
    trials = optuna.load_study(study_name=summary.study_name, storage=submission.storage).trials
    run_ids = [trial.user_attrs.get("run_id") for trial in trials if trial.state.name == "COMPLETE"]
    assert len(run_ids) == 2 and len(set(run_ids)) == 2
    with Registry.open(registry_url) as store:
        assert {store.get(run_id).status for run_id in run_ids} == {"finished"}
        assert {store.jobs.get(job_id).state for job_id in submission.job_ids} == {"finished"}


def test_a_job_signalled_before_its_time_limit_is_requeued_and_its_run_goes_on_to_finish(registry_url):
    """SLURM sends SIGUSR2 signal_delay_s before the time limit; the test sends it at once (no minute's wait)."""
    submission = api.submit(PENGUINS, overrides=["train.epochs=60", "train.batch_size=4"], registry=registry_url,
                            slurm={"time": 10})
    [job_id] = submission.job_ids
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = _job(registry_url, job_id)
        checkpoints = list((Path(registry_url.removeprefix("sqlite:///")).parent / "runs").glob("*/checkpoint*/*"))
        if job.state == "running" and job.run_id and checkpoints:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the job did not start training: {job}")
    subprocess.run(["scancel", "--signal=USR2", job_id], check=True)
    [run_id] = submission.wait()
    job = _job(registry_url, job_id)
    record = api.show(run_id, registry=registry_url)
    assert (run_id, job.requeues, job.state) == (job.run_id, 1, "finished")
    assert record["status"] == "finished" and record["training"]["epochs_run"] == 60


def test_a_job_cancelled_while_queued_shows_as_cancelled_in_dlw_runs(registry_url):
    from typer.testing import CliRunner

    from dlworkflow.cli import app

    partition = ["scontrol", "update", "PartitionName=debug"]
    subprocess.run([*partition, "State=DOWN"], check=True)  # jobs wait in the queue, as behind other users' jobs
    try:
        submission = api.submit(PENGUINS, overrides=["train.epochs=1"], registry=registry_url, slurm={"time": 5})
        [job_id] = submission.job_ids
        assert [(job.job_id, job.state) for job in api.jobs(registry=registry_url)] == [(job_id, "queued")]
        subprocess.run(["scancel", job_id], check=True)
    finally:
        subprocess.run([*partition, "State=UP"], check=True)
    listed = CliRunner().invoke(app, ["runs", "--registry", registry_url])
    assert listed.exit_code == 0, listed.output
    assert job_id not in listed.output  # no longer among the jobs not yet ended
    assert _job(registry_url, job_id).state == "cancelled" and api.jobs(registry=registry_url) == []
