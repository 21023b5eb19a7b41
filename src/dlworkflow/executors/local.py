"""The local executor: a task runs at once, in this process (what ``dlw run`` always did).

Example:
    >>> job = LocalExecutor().submit(lambda: "run-id")
    >>> job.executor, job.result()
    ('local', 'run-id')
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from dlworkflow.executors.executor import Executor, SubmittedJob

_numbers = itertools.count()


class LocalExecutor(Executor):
    """Run each task in this process when it is submitted; its error is raised there and then.

    Example:
        >>> LocalExecutor().submit(lambda: 1 + 1).result()
        2
    """

    name = "local"

    def submit(self, task: Callable[[], Any]) -> SubmittedJob:
        """Run the task now (its error is raised now, as ``dlw run`` does) and keep its result for ``result()``.

        Example:
            >>> LocalExecutor().submit(lambda: None).job_id.startswith("local-")
            True
        """
        value = task()
        return SubmittedJob(f"local-{next(_numbers)}", self.name, waiter=lambda: value)
