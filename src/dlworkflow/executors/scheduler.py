"""What the SLURM scheduler says of the jobs the registry still holds as unfinished (``dlw runs``, ``api.jobs``).

A job writes its own state into the registry while it runs (``running``, ``requeued``,
``finished``, ...), but a job cancelled while it waits in the queue (``scancel``), refused at
its start, or killed by SLURM before it ran a line of Python writes nothing: without asking
the scheduler it would show as ``queued`` for ever. :func:`refresh_jobs` asks once per
listing, and only when the registry holds unfinished SLURM jobs: one ``squeue`` call for
those jobs (``sacct`` for the ones ``squeue`` no longer lists, where the cluster keeps
accounting), and records the ends it learns (:data:`SLURM_END_STATES`). A job the
scheduler no longer knows at all, that never started, was removed from the queue before it
ran: it is recorded as ``cancelled``. A running job is left to its heartbeat
(:mod:`dlworkflow.registry.recovery`); without ``squeue`` (another machine than the
cluster's) nothing changes.

Example:
    >>> parse_listing("4242|CANCELLED\\n4243_0|PENDING\\n")
    {'4242': 'CANCELLED', '4243_0': 'PENDING'}
    >>> refresh_jobs(registry)  # doctest: +SKIP
    {'4242': 'cancelled'}
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlworkflow.registry.registry import Registry

SLURM_END_STATES = {
    "COMPLETED": "finished",
    "CANCELLED": "cancelled",
    "FAILED": "failed", "NODE_FAIL": "failed", "OUT_OF_MEMORY": "failed", "BOOT_FAIL": "failed", "DEADLINE": "failed",
    "TIMEOUT": "interrupted",  # its time limit reached with no requeue left: its run goes on with dlw resume
}
"""SLURM's job states that end a job, and the registry's state each one becomes."""

QUERY_TIMEOUT_SECONDS = 10.0
"""How long ``squeue`` (and ``sacct``) may take before the listing goes on without them."""


def parse_listing(text: str) -> dict[str, str]:
    """``<job id>|<STATE>`` lines (``squeue -o '%i|%T'``, ``sacct -P -o JobID,State``) as a dict.

    A state with a reason (``CANCELLED by 0``, sacct) keeps its first word.

    Example:
        >>> parse_listing("7|CANCELLED by 0\\n\\n8|RUNNING")
        {'7': 'CANCELLED', '8': 'RUNNING'}
    """
    states = {}
    for line in text.splitlines():
        job_id, _, state = line.strip().partition("|")
        if job_id and state:
            states[job_id] = state.split()[0].rstrip("+")
    return states


def scheduler_states(job_ids: Sequence[str]) -> dict[str, str] | None:
    """SLURM's state of each job it still knows (``squeue``, then ``sacct`` for the rest); None: no answer.

    Args:
        job_ids: SLURM job ids (``<id>_<n>`` for a job array's task).

    Returns:
        Job id → SLURM state (``PENDING``, ``CANCELLED``, ...) for the jobs the scheduler knows; None when
        ``squeue`` is missing or does not answer (then nothing can be said of any job).

    Example:
        >>> scheduler_states(["4242"])  # doctest: +SKIP
        {'4242': 'CANCELLED'}
    """
    if not job_ids or shutil.which("squeue") is None:
        return None
    base_ids = sorted({job_id.split("_")[0] for job_id in job_ids})
    listing = _query(["squeue", "--noheader", "--array", "--states=all", f"--jobs={','.join(base_ids)}",
                      "--format=%i|%T"])
    if listing is None:
        return None
    states = parse_listing(listing)
    missing = [job_id for job_id in job_ids if job_id not in states]
    if missing and shutil.which("sacct") is not None:
        accounted = _query(["sacct", "--noheader", "--allocations", "--parsable2", "--format=JobID,State",
                            f"--jobs={','.join(missing)}"]) or ""
        states.update({job_id: state for job_id, state in parse_listing(accounted).items() if job_id in missing})
    return states


def refresh_jobs(registry: Registry) -> dict[str, str]:
    """Record the ends the scheduler knows of the registry's unfinished SLURM jobs (one query; none without any).

    Args:
        registry: An open registry.

    Returns:
        Job id → the state now recorded, for each job whose state changed.

    Example:
        >>> refresh_jobs(registry)  # doctest: +SKIP
        {'4242': 'cancelled'}
    """
    from dlworkflow.errors import WorkflowError

    try:
        unfinished = [job for job in registry.jobs.live() if job.executor == "slurm"]
    except WorkflowError:
        return {}
    states = scheduler_states([job.job_id for job in unfinished]) if unfinished else None
    if states is None:
        return {}
    ended = {}
    for job in unfinished:
        state = states.get(job.job_id)
        if state in SLURM_END_STATES:
            ended[job.job_id] = SLURM_END_STATES[state]
        elif state is None and job.state == "queued":
            ended[job.job_id] = "cancelled"  # gone from the queue without ever starting
    try:
        return registry.jobs.settle(ended)
    except WorkflowError:
        return {}  # the registry is read-only or away: the listing shows what it holds


def _query(command: list[str]) -> str | None:
    """A scheduler command's output; '' when it knows none of the jobs; None when it fails or takes too long."""
    try:
        answer = subprocess.run(command, capture_output=True, text=True, timeout=QUERY_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if answer.returncode == 0:
        return answer.stdout
    return "" if "Invalid job id" in answer.stderr else None
