"""What a job runs: one run (:class:`RunTask`, requeued from its checkpoint) or one tuning worker (:class:`TuneTask`).

A task is a small picklable object (the resolved spec as data, the registry URL, the folder to
work in): submitit pickles it into the job's folder, and a requeued job unpickles it again. A
task looks up its own job in the registry (its id from the job's environment) and notes there
that it runs, which run it runs, and how it ended.

Example:
    >>> task = RunTask(spec.resolved(), "weather.toml", None, "/home/ann/project")  # doctest: +SKIP
    >>> SlurmExecutor(folder, settings).submit(task)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from dlworkflow.errors import RegistryError, WorkflowError


def current_job_id() -> str | None:
    """The id of the SLURM job (``<id>_<n>`` for an array task) this process runs in, else None.

    Example:
        >>> current_job_id() is None or isinstance(current_job_id(), str)
        True
    """
    if "SLURM_JOB_ID" not in os.environ:
        return None
    import submitit

    return str(submitit.JobEnvironment().job_id)


@dataclass(frozen=True)
class RunTask:
    """One run of a spec as a job; requeued at a time limit, the next start goes on from the last checkpoint.

    Attributes:
        document: The resolved spec.
        source: The spec's file (for messages and the record).
        registry: The registry URL (None: ``DLW_REGISTRY``, else ``.dlw/`` from ``directory``).
        directory: The folder the job works in (relative data paths and registry).

    Example:
        >>> RunTask({}, "weather.toml", None, "/tmp").source
        'weather.toml'
    """

    document: dict[str, Any]
    source: str
    registry: str | None
    directory: str

    def __call__(self) -> str:
        """Run (or go on with) the run; return its id."""
        os.chdir(self.directory)
        job = current_job_id()
        run_id = _interrupted_run(self.registry, job)
        if run_id is not None:
            from dlworkflow.execution.resumption import resume_run

            try:
                return resume_run(run_id, self.registry, job=job).record.id
            except RegistryError:
                pass  # interrupted before its first checkpoint: start again
        return self._fresh_run(job)

    def _fresh_run(self, job: str | None) -> str:
        from dlworkflow.execution.policy import RunPolicy
        from dlworkflow.execution.preparation import prepare
        from dlworkflow.execution.runner import execute
        from dlworkflow.registry import Registry
        from dlworkflow.spec import validate_spec

        spec = validate_spec(self.document, source=self.source)
        prepared = prepare(spec)
        with Registry.open(self.registry) as store:
            return execute(spec, prepared.dataset, prepared.backend, store, RunPolicy.plain().in_job(job),
                           timings=prepared.timings).record.id

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """Called by submitit at the time limit or a preemption: note the job requeued, go on with this task.

        The run's epoch checkpoints are already on disk; the run stops as ``interrupted`` when
        submitit ends the process, and the requeued job resumes it.
        """
        import submitit

        _set_state(self.registry, current_job_id(), "requeued")
        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


@dataclass(frozen=True)
class TuneTask:
    """One tuning worker as a job: run trials until the study is done (``tuning.tuner.worker_loop``).

    Attributes:
        document: The resolved spec (with ``[tune]``).
        source: The spec's file.
        registry: The registry URL.
        storage: The study's storage URL (shared by every worker).
        directory: The folder the job works in.
        worker: The worker's index in the study (its sampler's seed): the job array's task index.

    Example:
        >>> TuneTask({}, "weather_tune.toml", None, "sqlite:////tmp/studies.db", "/tmp").storage
        'sqlite:////tmp/studies.db'
    """

    document: dict[str, Any]
    source: str
    registry: str | None
    storage: str
    directory: str
    worker: int = 0

    def __call__(self) -> int:
        """Run trials until the study is done; return how many trials the study holds."""
        from dlworkflow.tuning.tuner import worker_loop

        os.chdir(self.directory)
        job = current_job_id()
        _set_state(self.registry, job, "running")
        try:
            count = worker_loop(self.document, self.source, self.registry, self.storage, worker=self.worker)
        except BaseException:
            _set_state(self.registry, job, "failed")
            raise
        _set_state(self.registry, job, "finished")
        return count


def _interrupted_run(registry: str | None, job: str | None) -> str | None:
    """The run this job ran before it was requeued, when it is interrupted (killed runs recovered first)."""
    if job is None:
        return None
    from dlworkflow.registry import Registry
    from dlworkflow.registry.recovery import recover_killed_runs

    with Registry.open(registry) as store:
        found = store.jobs.get(job)
        if found is None or found.run_id is None:
            return None
        recover_killed_runs(store)
        return found.run_id if store.statuses().get(found.run_id) == "interrupted" else None


def _set_state(registry: str | None, job: str | None, state: str) -> None:
    if job is None:
        return
    from dlworkflow.registry import Registry

    try:
        with Registry.open(registry) as store:
            if state == "running":
                store.jobs.start(job, host=socket.gethostname())
            else:
                store.jobs.end(job, state)
    except WorkflowError:
        pass  # the registry is away: the job's heartbeat (or its absence) still tells
