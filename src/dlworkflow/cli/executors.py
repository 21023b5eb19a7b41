"""The command line's executor options (``--executor slurm``, ``--slurm-*``, ``--wait``) and the jobs it shows.

``dlw run SPEC --executor slurm`` and ``dlw tune SPEC --executor slurm --workers N`` submit
through :func:`dlworkflow.api.submit` and print the job ids; ``--wait`` waits for the jobs.
``dlw runs`` lists the queued and running jobs above the leaderboards (:func:`print_live_jobs`);
``dlw show RUN`` names the run's job and its log files (:func:`print_run_job`).

Example:
    $ dlw run examples/weather.toml --executor slurm --slurm-partition gpu --slurm-time 30 --slurm-gpus 1
    $ dlw tune examples/weather_tune.toml --executor slurm --workers 4 --wait
"""

from __future__ import annotations

from typing import Any

import typer
from rich import box
from rich.table import Table

from dlworkflow.cli.application import err, out
from dlworkflow.reporting.run_text import styled

EXECUTOR_OPTION = typer.Option(
    "local", "--executor", help="Where it runs: 'local' (here, now) or 'slurm' (submitted as SLURM job(s))."
)
WAIT_OPTION = typer.Option(False, "--wait", help="With --executor slurm: wait for the job(s) and show the result.")
PARTITION_OPTION = typer.Option(None, "--slurm-partition", help="SLURM partition [default: [slurm] partition].")
TIME_OPTION = typer.Option(None, "--slurm-time", help="Time limit: minutes, or as sbatch --time takes it (1:30:00, 2-00:00:00); requeued from the checkpoint at it.")
GPUS_OPTION = typer.Option(None, "--slurm-gpus", min=0, help="GPUs per job.")
CPUS_OPTION = typer.Option(None, "--slurm-cpus", min=1, help="CPU cores per job.")
MEM_OPTION = typer.Option(None, "--slurm-mem-gb", min=0.001, help="Memory per job in GB.")


def check_executor(executor: str) -> None:
    """Refuse an unknown ``--executor`` value (exit 2), naming the valid ones."""
    if executor not in ("local", "slurm"):
        from dlworkflow.errors import SpecError, suggestion

        raise SpecError.single("--executor", "", f"must be 'local' or 'slurm'; got {executor!r}",
                               hint=suggestion(executor, ["local", "slurm"]) or "Use --executor slurm.")


def submit_and_report(spec: str, overrides: list[str], registry: str | None, *, wait: bool, slurm: dict[str, Any],
                      tune: bool = False, workers: int = 1, storage: str | None = None) -> None:
    """Submit through :func:`dlworkflow.api.submit`, print the job ids and log files; with ``wait``, the outcome."""
    from dlworkflow import api

    submission = api.submit(spec, overrides=overrides, registry=registry, slurm=slurm, tune=tune, workers=workers,
                            storage=storage)
    for job in submission.jobs:
        out.print(styled("submitted SLURM job ", (job.job_id, "cyan"), f" ({job.kind}); log {job.stdout_path}"))
    if not wait:
        out.print("dlw runs shows its state; dlw show RUN its run once started.")
        return
    results = submission.wait()
    if tune:
        out.print(f"the study's workers are done; run dlw tune {spec} to train and show its final run")
        return
    from dlworkflow.reporting.run_text import render_run

    render_run(out, api.show(results[0], registry=registry))


def print_live_jobs(registry: str | None, *, to_stderr: bool = False) -> None:
    """The queued, running and requeued jobs as a table (nothing when there are none)."""
    from dlworkflow import api

    live = api.jobs(registry=registry)
    if not live:
        return
    table = Table(title="jobs not yet ended", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("job", "executor", "state", "name", "run", "submitted", "heartbeat"):
        table.add_column(column, overflow="fold")
    for job in live:
        table.add_row(job.job_id, job.executor, job.state, job.name, job.run_id or "–", job.submitted_at,
                      job.heartbeat_at or "–")
    (err if to_stderr else out).print(table)


def print_run_job(run_id: str, registry: str | None) -> None:
    """The job that ran the run, with its log files (nothing for a run recorded before jobs were)."""
    from dlworkflow import api

    job = api.jobs(run_id, registry=registry)
    if job is None:
        return
    logs = f" · stdout {job.stdout_path} · stderr {job.stderr_path}" if job.stdout_path else ""
    out.print(f"job {job.job_id} ({job.executor}, {job.state}, requeued {job.requeues}×){logs}")
