"""The executor interface without a cluster: the local executor, and the SLURM one against a fake ``sbatch``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlworkflow import api
from dlworkflow.cli import app
from dlworkflow.errors import SpecError, WorkflowError
from dlworkflow.executors.executor import EXECUTOR_NAMES, Executor, SubmittedJob
from dlworkflow.executors.local import LocalExecutor
from dlworkflow.executors.slurm import SlurmExecutor, SlurmSettings
from dlworkflow.registry import Registry
from dlworkflow.spec import validate_spec

REPOSITORY = Path(__file__).resolve().parents[2]
PENGUINS = str(REPOSITORY / "examples" / "penguins.toml")
WEATHER_TUNE = str(REPOSITORY / "examples" / "weather_tune.toml")

FAKE_SBATCH = """#!/bin/sh
# A fake sbatch: keeps the script it was given and answers as SLURM does.
cp "$1" "{folder}/submitted-$(ls {folder} | wc -l).sh"
echo "Submitted batch job {job_id}"
"""


@pytest.fixture
def fake_sbatch(tmp_path, monkeypatch):
    """A PATH whose only ``sbatch`` answers job 4242 and keeps each script in ``tmp_path/scripts``."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = bin_dir / "sbatch"
    sbatch.write_text(FAKE_SBATCH.format(folder=scripts, job_id=4242))
    sbatch.chmod(sbatch.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    return scripts


def test_the_local_executor_runs_each_task_at_once_and_keeps_its_result():
    ran = []
    jobs = LocalExecutor().map_array([lambda: ran.append(1) or "a", lambda: ran.append(2) or "b"])
    assert ran == [1, 2] and [job.result() for job in jobs] == ["a", "b"]
    assert all(job.executor == "local" and job.job_id.startswith("local-") for job in jobs)
    assert len({job.job_id for job in jobs}) == 2


def test_the_local_executor_raises_a_tasks_error_when_submitted():
    def broken() -> None:
        raise ValueError("no data")

    with pytest.raises(ValueError, match="no data"):
        LocalExecutor().submit(broken)


def test_an_executor_needs_only_submit_to_run_arrays():
    class Recording(Executor):
        name = "recording"

        def __init__(self) -> None:
            self.tasks = []

        def submit(self, task):
            self.tasks.append(task)
            return SubmittedJob(str(len(self.tasks)), self.name, waiter=task)

    executor = Recording()
    jobs = executor.map_array([lambda: 10, lambda: 20])
    assert [(job.job_id, job.result()) for job in jobs] == [("1", 10), ("2", 20)] and len(executor.tasks) == 2
    assert EXECUTOR_NAMES == ("local", "slurm")


def test_slurm_settings_take_the_spec_then_the_command_lines_values():
    spec = validate_spec({"name": "m", "data": {"path": "x.csv", "target": "y"}, "model": {"layers": [{"type": "Dense", "units": 1}]},
                          "slurm": {"partition": "gpu", "time": 30, "gpus": 2}}, source="m.toml")
    settings = SlurmSettings.from_spec(spec.slurm, time=5, partition=None, gpus=None)
    assert (settings.partition, settings.time, settings.gpus) == ("gpu", 5, 2)
    parameters = settings.submitit_parameters()
    assert parameters["timeout_min"] == 5 and parameters["gpus_per_node"] == 2
    assert parameters["slurm_partition"] == "gpu" and "mem_gb" not in parameters
    assert "gpus_per_node" not in SlurmSettings().submitit_parameters()


def test_the_slurm_executor_refuses_to_start_without_sbatch(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WorkflowError, match="sbatch, which is not on this machine's PATH") as raised:
        SlurmExecutor(tmp_path, SlurmSettings())
    assert "leave out --executor slurm" in str(raised.value)


def test_a_submitted_run_is_recorded_as_a_queued_job_with_its_logs(fake_sbatch, tmp_path):
    url = f"sqlite:///{tmp_path}/dlw/registry.db"
    submission = api.submit(PENGUINS, overrides=["train.epochs=1"], registry=url,
                            slurm={"time": 7, "partition": "short"})
    assert submission.job_ids == ["4242"]
    [script] = fake_sbatch.iterdir()
    text = script.read_text()
    assert "#SBATCH --time=7" in text and "#SBATCH --partition=short" in text and "#SBATCH --job-name=dlw-" in text
    with Registry.open(url) as store:
        job = store.jobs.get("4242")
    assert (job.state, job.kind, job.executor, job.name) == ("queued", "run", "slurm", "penguins")
    assert job.stdout_path.endswith("4242_0_log.out") and str(tmp_path / "dlw" / "slurm" / "4242") in job.stdout_path
    assert [live.job_id for live in api.jobs(registry=url)] == ["4242"]


def test_two_tuning_workers_are_one_job_array(fake_sbatch, tmp_path):
    url = f"sqlite:///{tmp_path}/dlw/registry.db"
    submission = api.submit(WEATHER_TUNE, overrides=["tune.n_trials=2"], registry=url, tune=True, workers=2)
    assert submission.job_ids == ["4242_0", "4242_1"] and submission.storage.endswith("studies.db")
    [script] = fake_sbatch.iterdir()
    assert "#SBATCH --array=0-1" in script.read_text()
    assert [(job.job_id, job.kind, job.state) for job in api.jobs(registry=url)] == [
        ("4242_0", "tune", "queued"), ("4242_1", "tune", "queued")]


def test_the_command_line_refuses_an_unknown_executor_naming_the_valid_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", PENGUINS, "--executor", "slrum"])
    assert result.exit_code == SpecError.exit_code
    assert "--executor: must be 'local' or 'slurm'; got 'slrum'" in result.output
    assert "Did you mean 'slurm'?" in result.output and not (tmp_path / ".dlw").exists()


def test_the_command_line_submits_with_the_slurm_options(fake_sbatch, tmp_path):
    url = f"sqlite:///{tmp_path}/dlw/registry.db"
    result = CliRunner().invoke(app, ["run", PENGUINS, "--executor", "slurm", "--slurm-time", "3", "--slurm-gpus",
                                      "1", "--registry", url])
    assert result.exit_code == 0, result.output
    assert "submitted SLURM job 4242 (run)" in result.output
    [script] = fake_sbatch.iterdir()
    assert "#SBATCH --time=3" in script.read_text() and "#SBATCH --gpus-per-node=1" in script.read_text()


@pytest.mark.parametrize(("table", "path", "message"), [
    ({"time": "abc"}, "slurm.time", "got 'abc'"),
    ({"time": 0}, "slurm.time", "got 0"),
    ({"gpus": -1}, "slurm.gpus", "must be 0 or more; got -1"),
    ({"cpus": 0}, "slurm.cpus", "got 0"),
    ({"mem_gb": -2}, "slurm.mem_gb", "got -2"),
    ({"partiton": "gpu"}, "slurm.partiton", "partition"),
])
def test_a_bad_slurm_table_is_one_clear_spec_error(table, path, message):
    document = {"name": "m", "data": {"path": "x.csv", "target": "y"}, "model": {"layers": [{"type": "Dense", "units": 1}]}, "slurm": table}
    with pytest.raises(SpecError) as raised:
        validate_spec(document, source="m.toml")
    text = str(raised.value)
    assert f"m.toml: {path}" in text and message in text and text.count("m.toml:") == 1


FAKE_SQUEUE = """#!/bin/sh
# A fake squeue: what SLURM says of jobs 4242 (cancelled while queued) and 4243_0 (still pending); counts its calls.
echo called >> "{calls}"
printf '4242|CANCELLED\\n4243_0|PENDING\\n'
"""


@pytest.fixture
def fake_squeue(tmp_path, monkeypatch):
    """A PATH whose ``squeue`` knows jobs 4242 (cancelled) and 4243_0 (pending), and no ``sacct``; its calls counted."""
    calls = tmp_path / "squeue-calls"
    bin_dir = tmp_path / "squeue-bin"
    bin_dir.mkdir()
    squeue = bin_dir / "squeue"
    squeue.write_text(FAKE_SQUEUE.format(calls=calls))
    squeue.chmod(squeue.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.chdir(tmp_path)
    return calls


def _queued(url, *job_ids, executor="slurm"):
    from dlworkflow.registry.jobs import JobRecord

    with Registry.open(url) as store:
        for job_id in job_ids:
            store.jobs.submit(JobRecord.new(job_id, executor, "run", "m"))


def test_the_listing_asks_the_scheduler_once_and_records_a_job_cancelled_while_queued(fake_squeue, tmp_path):
    url = f"sqlite:///{tmp_path}/dlw/registry.db"
    _queued(url, "4242", "4243_0", "4244")
    assert [(job.job_id, job.state) for job in api.jobs(registry=url)] == [("4243_0", "queued")]
    assert fake_squeue.read_text().count("called") == 1
    with Registry.open(url) as store:
        assert store.jobs.get("4242").state == "cancelled"  # scancel'led while it waited
        assert store.jobs.get("4244").state == "cancelled"  # the scheduler no longer knows it: it never started
        assert store.jobs.get("4242").ended_at is not None


def test_a_running_job_unknown_to_the_scheduler_is_left_to_its_heartbeat(fake_squeue, tmp_path):
    url = f"sqlite:///{tmp_path}/dlw/registry.db"
    _queued(url, "5000")
    with Registry.open(url) as store:
        store.jobs.start("5000", run_id="r1", host="node1")
    assert [(job.job_id, job.state) for job in api.jobs(registry=url)] == [("5000", "running")]


def test_the_scheduler_is_not_asked_without_unfinished_slurm_jobs(fake_squeue, tmp_path):
    url = f"sqlite:///{tmp_path}/dlw/registry.db"
    _queued(url, "local-1", executor="local")
    assert [job.job_id for job in api.jobs(registry=url)] == ["local-1"]
    assert not fake_squeue.exists()


def test_without_squeue_the_registry_is_shown_as_it_is(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    url = f"sqlite:///{tmp_path}/dlw/registry.db"
    _queued(url, "4242")
    assert [(job.job_id, job.state) for job in api.jobs(registry=url)] == [("4242", "queued")]


def test_a_job_array_sbatch_refuses_is_one_error_with_sbatchs_reason(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = bin_dir / "sbatch"
    sbatch.write_text("#!/bin/sh\necho 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2"
                      "\nexit 1\n")
    sbatch.chmod(sbatch.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    executor = SlurmExecutor(tmp_path / "logs", SlurmSettings(partition="nowhere"))
    for submit in (lambda: executor.submit(int), lambda: executor.map_array([int, int])):
        with pytest.raises(WorkflowError, match=r"sbatch refused the job \(sbatch: error: Batch job submission "
                                                r"failed: Invalid partition name specified\)") as raised:
            submit()
        assert "sinfo's partitions" in str(raised.value)
