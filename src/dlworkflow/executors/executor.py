"""The interface every executor has (after submitit's ``Executor``): submit a task, or an array of them.

Example:
    >>> from dlworkflow.executors.local import LocalExecutor
    >>> jobs = LocalExecutor().map_array([lambda: 1, lambda: 2])
    >>> [job.result() for job in jobs]
    [1, 2]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

EXECUTOR_NAMES = ("local", "slurm")
"""The values of ``--executor``."""


@dataclass(frozen=True)
class SubmittedJob:
    """A task handed to an executor: its job id, where its output goes, and its result.

    Attributes:
        job_id: The executor's id (a SLURM job id, ``<id>_<n>`` for an array task; ``local-<n>`` here).
        executor: ``local`` or ``slurm``.
        stdout_path: The job's standard output file (None: this process's terminal).
        stderr_path: The job's standard error file.
        waiter: Waits for the job and returns its task's result (raises its error).

    Example:
        >>> SubmittedJob("7", "local", waiter=lambda: "done").result()
        'done'
    """

    job_id: str
    executor: str
    stdout_path: str | None = None
    stderr_path: str | None = None
    waiter: Callable[[], Any] = field(default=lambda: None, repr=False, compare=False)

    def result(self) -> Any:
        """Wait until the job has ended and return its task's result.

        Example:
            >>> SubmittedJob("7", "local", waiter=lambda: 3).result()
            3
        """
        return self.waiter()


class Executor(ABC):
    """Runs tasks (picklable callables without arguments) somewhere; :data:`name` says where.

    Example:
        >>> from dlworkflow.executors.local import LocalExecutor
        >>> LocalExecutor().name
        'local'
    """

    name: str = ""

    @abstractmethod
    def submit(self, task: Callable[[], Any]) -> SubmittedJob:
        """Start one task as one job."""

    def map_array(self, tasks: Sequence[Callable[[], Any]]) -> list[SubmittedJob]:
        """Start several tasks, one job each (one job array where the executor has them).

        Example:
            >>> from dlworkflow.executors.local import LocalExecutor
            >>> len(LocalExecutor().map_array([lambda: 0] * 3))
            3
        """
        return [self.submit(task) for task in tasks]
