"""The SLURM executor: a task becomes a SLURM job (an array of tasks, a job array) through submitit.

The settings (:class:`SlurmSettings`) come from the spec's ``[slurm]`` table, overridden by
the command line's ``--slurm-*`` options. A job reaching its time limit is sent ``SIGUSR2``
``signal_delay_s`` seconds before it; submitit then calls the task's ``checkpoint()`` (a run
is requeued to go on from its last epoch checkpoint, :class:`~dlworkflow.executors.tasks.RunTask`)
and requeues the job, at most ``max_requeues`` times. Each job's script, pickled task, result
and logs stay in ``<registry home>/slurm/<job id>/``; the registry's ``jobs`` table names them.

Example:
    >>> settings = SlurmSettings(partition="gpu", time=30, gpus=1)
    >>> settings.submitit_parameters()["slurm_partition"], settings.submitit_parameters()["gpus_per_node"]
    ('gpu', 1)
    >>> SlurmExecutor(Path("/tmp/dlw-slurm-logs"), settings).submit(task)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlworkflow.errors import WorkflowError
from dlworkflow.executors.executor import Executor, SubmittedJob

SUBMITIT_LOGGING = "SUBMITIT_LOG_LEVEL"
"""submitit's environment variable for its logging (``NOCONFIG``: leave logging as it is)."""

LOG_FOLDER = "slurm"
"""The folder under the registry home with one folder per SLURM job (script, task, result, logs)."""


@dataclass(frozen=True)
class SlurmSettings:
    """Where and how long a SLURM job runs (the ``[slurm]`` table, overridden by ``--slurm-*`` options).

    Attributes:
        partition: The partition (None: the cluster's default).
        time: The time limit in minutes.
        gpus: GPUs per job.
        cpus: CPU cores per job.
        mem_gb: Memory per job in GB (None: the cluster's default).
        signal_delay_s: Seconds before the time limit at which the job checkpoints and requeues.
        max_requeues: How often a job is requeued at its time limit before it gives up.
        account: The account to charge (None: the user's default).

    Example:
        >>> SlurmSettings().time
        60
    """

    partition: str | None = None
    time: int = 60
    gpus: int = 0
    cpus: int = 1
    mem_gb: float | None = None
    signal_delay_s: int = 90
    max_requeues: int = 3
    account: str | None = None

    @classmethod
    def from_spec(cls, section: Any, **overrides: Any) -> SlurmSettings:
        """The spec's ``[slurm]`` (None: defaults) with the command line's values that were given.

        Example:
            >>> SlurmSettings.from_spec(None, time=5, partition=None).time
            5
            >>> SlurmSettings.from_spec(None, time="2:00:00").time
            120
        """
        base = cls() if section is None else cls(**section.model_dump())
        given = {key: value for key, value in overrides.items() if value is not None}
        if isinstance(given.get("time"), str):  # --slurm-time 90, 1:30:00 or 2-00:00:00
            from dlworkflow.errors import SpecError
            from dlworkflow.spec.slurm_section import TIME_FORMATS, slurm_minutes

            try:
                given["time"] = slurm_minutes(given["time"])
            except ValueError:
                raise SpecError.single("--slurm-time", "", f"must be minutes or a time as sbatch --time takes it "
                                       f"({TIME_FORMATS})", got=given["time"], hint="e.g. --slurm-time 60 or "
                                       "--slurm-time 1:00:00") from None
        return dataclasses.replace(base, **given)

    def submitit_parameters(self) -> dict[str, Any]:
        """The settings as submitit's ``AutoExecutor.update_parameters`` keywords.

        Example:
            >>> SlurmSettings(time=2).submitit_parameters()["timeout_min"]
            2
        """
        parameters: dict[str, Any] = {
            "timeout_min": self.time, "cpus_per_task": self.cpus, "slurm_signal_delay_s": self.signal_delay_s,
            "tasks_per_node": 1, "nodes": 1,
        }
        if self.gpus:
            parameters["gpus_per_node"] = self.gpus
        optional = {"slurm_partition": self.partition, "mem_gb": self.mem_gb, "slurm_account": self.account}
        parameters.update({key: value for key, value in optional.items() if value is not None})
        return parameters


class SlurmExecutor(Executor):
    """Submit tasks as SLURM jobs through submitit's ``AutoExecutor`` (``cluster="slurm"``).

    Args:
        folder: Where each job's script, pickled task, result and logs go (``<folder>/<job id>/``).
        settings: Partition, time, GPUs, ...
        name: The job name SLURM shows (``squeue``).

    Raises:
        WorkflowError: when ``sbatch`` is not on this machine.

    Example:
        >>> SlurmExecutor(Path("/tmp/logs"), SlurmSettings(time=10)).submit(task).job_id  # doctest: +SKIP
        '4242'
    """

    name = "slurm"

    def __init__(self, folder: Path, settings: SlurmSettings, *, name: str = "dlw"):
        if shutil.which("sbatch") is None:
            raise WorkflowError.single(
                "--executor slurm", "", "needs SLURM's sbatch, which is not on this machine's PATH",
                hint="Run dlw on the cluster's login node, or leave out --executor slurm to run here.",
            )
        submitit = _submitit()
        self.folder = Path(folder)
        self.settings = settings
        self._executor = submitit.AutoExecutor(folder=self.folder / "%j", cluster="slurm",
                                               slurm_max_num_timeout=settings.max_requeues)
        self._executor.update_parameters(name=name, **settings.submitit_parameters())

    def submit(self, task: Callable[[], Any]) -> SubmittedJob:
        """Submit one task as one SLURM job.

        Example:
            >>> executor.submit(task).job_id  # doctest: +SKIP
            '4242'
        """
        return _submitted(self._submit(lambda: self._executor.submit(task)))

    def map_array(self, tasks: Sequence[Callable[[], Any]]) -> list[SubmittedJob]:
        """Submit the tasks as one SLURM job array (``<id>_<n>`` each).

        Example:
            >>> [job.job_id for job in executor.map_array([task, task])]  # doctest: +SKIP
            ['4243_0', '4243_1']
        """
        def submit_all() -> list[Any]:
            with self._executor.batch():
                return [self._executor.submit(task) for task in tasks]

        return [_submitted(job) for job in self._submit(submit_all)]

    def _submit(self, submit: Callable[[], Any]) -> Any:
        import subprocess

        from submitit.core.utils import FailedJobError

        try:
            with contextlib.redirect_stderr(io.StringIO()):  # submitit prints sbatch's errors; the error below says them
                return submit()
        except (FailedJobError, subprocess.CalledProcessError, OSError) as err:
            said = str(getattr(err, "output", None) or err).strip().splitlines() or [type(err).__name__]
            raise WorkflowError.single(
                "--executor slurm", "", f"sbatch refused the job ({said[-1].strip()})",
                hint="Check the --slurm-* options and the [slurm] table against sinfo's partitions; "
                "run dlw on a machine that submits to the cluster (its login node).",
            ) from err


def _submitit() -> Any:
    """submitit, imported without its logging set up in this process (its handlers would keep the streams of the
    moment, a notebook's or a test's, closed later); a job's own process sets it up as usual."""
    import sys

    if "submitit" not in sys.modules:
        previous = os.environ.get(SUBMITIT_LOGGING)
        os.environ[SUBMITIT_LOGGING] = "NOCONFIG"
        try:
            import submitit  # noqa: F401
        finally:
            os.environ.pop(SUBMITIT_LOGGING) if previous is None else os.environ.update({SUBMITIT_LOGGING: previous})
    return sys.modules["submitit"]


def _submitted(job: Any) -> SubmittedJob:
    return SubmittedJob(job.job_id, "slurm", stdout_path=str(job.paths.stdout), stderr_path=str(job.paths.stderr),
                        waiter=job.result)
