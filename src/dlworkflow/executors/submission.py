"""Submitting a spec: a run, or a study's workers as a job array, recorded in the registry's ``jobs`` table.

Example:
    >>> submission = submit_run(spec, None, SlurmSettings(time=30))  # doctest: +SKIP
    >>> submission.jobs[0].job_id, submission.jobs[0].state  # doctest: +SKIP
    ('4242', 'queued')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dlworkflow.executors.executor import SubmittedJob
from dlworkflow.executors.slurm import LOG_FOLDER, SlurmExecutor, SlurmSettings
from dlworkflow.executors.tasks import RunTask, TuneTask

if TYPE_CHECKING:
    from dlworkflow.registry.jobs import JobRecord
    from dlworkflow.spec.schema import Spec


@dataclass(frozen=True)
class Submission:
    """What was submitted: the jobs as recorded (state ``queued``), and their handles to wait on.

    Attributes:
        jobs: The registry's rows of the submitted jobs.
        handles: One :class:`~dlworkflow.executors.executor.SubmittedJob` per job (``result()`` waits).
        storage: The study's storage, for a tuning submission.

    Example:
        >>> Submission(jobs=(), handles=()).job_ids
        []
    """

    jobs: tuple[JobRecord, ...]
    handles: tuple[SubmittedJob, ...]
    storage: str | None = None

    @property
    def job_ids(self) -> list[str]:
        """The submitted jobs' ids."""
        return [job.job_id for job in self.jobs]

    def wait(self) -> list[Any]:
        """Wait for every job and return their results (a run's id, a worker's trial count).

        Example:
            >>> submission.wait()  # doctest: +SKIP
            ['20261207-120000-abcdef']
        """
        return [handle.result() for handle in self.handles]


def submit_run(spec: Spec, registry: str | None, settings: SlurmSettings) -> Submission:
    """Submit one run of the spec as a SLURM job and record it as queued.

    Args:
        spec: The validated spec.
        registry: The registry URL (the job records its run there).
        settings: Partition, time, GPUs, ...

    Returns:
        The submission (one job).

    Raises:
        WorkflowError: when sbatch is missing or refuses the job.

    Example:
        >>> submit_run(spec, None, SlurmSettings()).job_ids  # doctest: +SKIP
        ['4242']
    """
    task = RunTask(spec.resolved(), spec.source, registry, os.getcwd())
    return _submit(spec, registry, settings, [task], kind="run")


def submit_tune(spec: Spec, registry: str | None, storage: str | None, workers: int,
                settings: SlurmSettings) -> Submission:
    """Submit ``workers`` tuning workers as one SLURM job array; each runs trials until the study is done.

    The study is opened first, so a study name taken by another spec is refused before anything
    is submitted. The final run (the best configuration on test) is trained by the next
    ``dlw tune`` of the spec, once the study is done (``--wait`` does it at once).

    Returns:
        The submission (one job per worker) with the study's storage.

    Example:
        >>> submit_tune(spec, None, None, 2, SlurmSettings()).job_ids  # doctest: +SKIP
        ['4243_0', '4243_1']
    """
    from dlworkflow.tuning.search_space import check_parameters
    from dlworkflow.tuning.study import default_storage, open_study

    if spec.tune is None:
        from dlworkflow.errors import SpecError

        raise SpecError.single(spec.source, "tune", "is missing: dlw tune needs a [tune] section",
                               hint="Add [tune.parameters] with a spec path and its choices.")
    check_parameters(spec)
    storage_url = storage or default_storage(registry)
    open_study(spec, storage_url)
    tasks = [TuneTask(spec.resolved(), spec.source, registry, storage_url, os.getcwd(), worker=worker)
             for worker in range(max(workers, 1))]
    submission = _submit(spec, registry, settings, tasks, kind="tune")
    return Submission(submission.jobs, submission.handles, storage_url)


def _submit(spec: Spec, registry: str | None, settings: SlurmSettings, tasks: list[Any], kind: str) -> Submission:
    from dlworkflow.registry import Registry
    from dlworkflow.registry.jobs import JobRecord

    with Registry.open(registry) as store:
        executor = SlurmExecutor(store.home / LOG_FOLDER, settings, name=f"dlw-{spec.name}")
        handles = executor.submit(tasks[0]) if len(tasks) == 1 else None
        handles = [handles] if handles is not None else executor.map_array(tasks)
        spec_file = spec.source if not spec.source.startswith("<") else None
        jobs = tuple(JobRecord.new(handle.job_id, "slurm", kind, spec.name, spec_file=spec_file,
                                   stdout_path=handle.stdout_path, stderr_path=handle.stderr_path)
                     for handle in handles)
        for job in jobs:
            store.jobs.submit(job)
    return Submission(jobs, tuple(handles))
