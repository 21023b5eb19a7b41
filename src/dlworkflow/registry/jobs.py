"""Jobs: runs and tuning workers started here or submitted to a cluster, their state and heartbeat.

A :class:`JobRecord` is one row of the registry's ``jobs`` table (schema version 4): the
executor's job id (``local-<run id>`` for a run in this process, the SLURM job id, or
``<id>_<n>`` for one task of a job array), its state, when it was submitted and started, its
latest heartbeat, the run it runs once known, and its log files. :class:`JobTable` reads and
writes the rows; :meth:`Registry.jobs <dlworkflow.registry.registry.Registry.jobs>` hands one out.

States: ``queued`` (submitted, not started), ``running``, ``requeued`` (stopped at its time
limit or preempted, its checkpoint kept, waiting to go on), and the ends ``finished``,
``failed``, ``interrupted`` (killed: no heartbeat for ``STALE_AFTER_SECONDS``) and
``cancelled``. A running job writes its heartbeat every ``HEARTBEAT_SECONDS``
(:class:`~dlworkflow.registry.recovery.Heartbeat`), so a job killed on a compute node is
recognised from any host that reaches the registry.

Example:
    >>> from dlworkflow.registry.registry import Registry
    >>> import tempfile
    >>> registry = Registry.open(f"sqlite:///{tempfile.mkdtemp()}/registry.db")
    >>> registry.jobs.submit(JobRecord.new("4242", "slurm", "run", "weather"))
    >>> registry.jobs.start("4242", run_id="20261207-120000-abcdef", host="node1")
    >>> [(job.job_id, job.state, job.run_id) for job in registry.jobs.live()]
    [('4242', 'running', '20261207-120000-abcdef')]
    >>> registry.close()
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from dlworkflow.errors import RegistryError
from dlworkflow.registry.database import jobs
from dlworkflow.registry.job_states import END_STATES, LIVE_STATES  # noqa: F401 (END_STATES re-exported)
from dlworkflow.registry.record import utc_now

EXECUTORS = ("local", "slurm")
"""Where a job runs: in the ``dlw`` process itself, or as a SLURM job."""


@dataclass(frozen=True)
class JobRecord:
    """One job: a run or a tuning worker, started by an executor.

    Attributes:
        job_id: The executor's id (``local-<run id>``, a SLURM id, ``<id>_<n>`` for an array task).
        executor: ``local`` or ``slurm``.
        kind: ``run`` (a run, also a resumed one) or ``tune`` (a tuning worker).
        state: One of :data:`LIVE_STATES` or :data:`END_STATES`.
        name: The spec's name (``[experiment] name``).
        spec_file: The spec's file, when it came from one.
        submitted_at: When the job was submitted (ISO 8601, UTC).
        started_at: When it (last) started running.
        heartbeat_at: Its latest heartbeat.
        ended_at: When it ended.
        run_id: The run it runs, once it has one.
        host: Where it runs.
        requeues: How often it was requeued (time limit, preemption).
        stdout_path: Its standard output's file (SLURM's log), if any.
        stderr_path: Its standard error's file, if any.

    Example:
        >>> JobRecord.new("4242", "slurm", "run", "weather").state
        'queued'
    """

    job_id: str
    executor: str
    kind: str
    state: str
    name: str
    submitted_at: str
    spec_file: str | None = None
    started_at: str | None = None
    heartbeat_at: str | None = None
    ended_at: str | None = None
    run_id: str | None = None
    host: str | None = None
    requeues: int = 0
    stdout_path: str | None = None
    stderr_path: str | None = None

    @classmethod
    def new(cls, job_id: str, executor: str, kind: str, name: str, **fields: Any) -> JobRecord:
        """A job just submitted (state ``queued``, submitted now).

        Example:
            >>> JobRecord.new("1_0", "slurm", "tune", "weather_tune", stdout_path="/logs/1_0.out").stdout_path
            '/logs/1_0.out'
        """
        return cls(job_id=job_id, executor=executor, kind=kind, state="queued", name=name,
                   submitted_at=utc_now(), **fields)

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON-ready data (``dlw show --json``'s ``job``).

        Example:
            >>> JobRecord.new("7", "local", "run", "m").to_dict()["executor"]
            'local'
        """
        return dataclasses.asdict(self)

    def heartbeat_age(self, now: datetime | None = None) -> float | None:
        """Seconds since the latest heartbeat (None: none yet).

        Example:
            >>> JobRecord.new("7", "local", "run", "m").heartbeat_age() is None
            True
        """
        if self.heartbeat_at is None:
            return None
        beat = datetime.fromisoformat(self.heartbeat_at)
        return ((now or datetime.now(beat.tzinfo)) - beat).total_seconds()


class JobTable:
    """The registry's ``jobs`` table: record, update and read jobs.

    Args:
        read: The registry's read-connection context (errors become RegistryError).
        write: The registry's write-transaction context.

    Example:
        >>> registry.jobs.for_run("20261207-120000-abcdef").job_id  # doctest: +SKIP
        '4242'
    """

    def __init__(self, read: Callable[[], AbstractContextManager[Connection]],
                 write: Callable[[], AbstractContextManager[Connection]]):
        self._read = read
        self._write = write

    def submit(self, job: JobRecord) -> None:
        """Record a submitted job; a job that already started (it may start before this write) keeps its state.

        Example:
            >>> registry.jobs.submit(JobRecord.new("4242", "slurm", "run", "weather"))  # doctest: +SKIP
        """
        described = {key: value for key, value in job.to_dict().items()
                     if key in ("executor", "kind", "name", "spec_file", "submitted_at", "stdout_path", "stderr_path")}
        try:
            with self._write() as connection:
                known = connection.execute(select(jobs.c.state).where(jobs.c.job_id == job.job_id)).first()
                if known is not None and known.state in LIVE_STATES:
                    connection.execute(update(jobs).where(jobs.c.job_id == job.job_id).values(**described))
                    return
                connection.execute(jobs.delete().where(jobs.c.job_id == job.job_id))  # SLURM reuses ids
                connection.execute(insert(jobs).values(**job.to_dict()))
        except SQLAlchemyError as err:
            raise _unwritable(job.job_id, err) from err

    def start(self, job_id: str, *, run_id: str | None = None, host: str | None = None, kind: str = "run",
              name: str = "") -> None:
        """Mark a job running (again, after a requeue), with its run once known; its first heartbeat.

        A job not yet recorded (it started before its submitter wrote it) is recorded now.

        Example:
            >>> registry.jobs.start("4242", run_id="20261207-120000-abcdef", host="node1")  # doctest: +SKIP
        """
        now = utc_now()
        values: dict[str, Any] = {"state": "running", "started_at": now, "heartbeat_at": now}
        values.update({key: value for key, value in (("run_id", run_id), ("host", host)) if value is not None})
        try:
            with self._write() as connection:
                done = connection.execute(update(jobs).where(jobs.c.job_id == job_id).values(**values))
                if done.rowcount == 0:
                    early = JobRecord.new(job_id, "slurm", kind, name)
                    connection.execute(insert(jobs).values(**{**early.to_dict(), **values}))
        except SQLAlchemyError as err:
            raise _unwritable(job_id, err) from err

    def beat(self, job_id: str) -> None:
        """Write the job's heartbeat (now).

        Example:
            >>> registry.jobs.beat("4242")  # doctest: +SKIP
        """
        self._update(job_id, {"heartbeat_at": utc_now()})

    def end(self, job_id: str, state: str) -> None:
        """Mark a job ended (``finished``, ``failed``, ``interrupted``, ``cancelled``) or ``requeued``.

        Example:
            >>> registry.jobs.end("4242", "finished")  # doctest: +SKIP
        """
        values: dict[str, Any] = {"state": state}
        if state == "requeued":
            values["requeues"] = jobs.c.requeues + 1
        else:
            values["ended_at"] = utc_now()
        # A job requeued at its time limit stops its run as interrupted next: it stays requeued.
        self._update(job_id, values, keep="requeued" if state == "interrupted" else None)

    def settle(self, ended: dict[str, str]) -> dict[str, str]:
        """Record the ends a scheduler reports, for the jobs not ended meanwhile (a job's own word comes first).

        Args:
            ended: Job id → end state (``cancelled``, ``failed``, ...).

        Returns:
            The jobs whose state this changed, and their new state.

        Example:
            >>> registry.jobs.settle({"4242": "cancelled"})  # doctest: +SKIP
            {'4242': 'cancelled'}
        """
        changed = {}
        try:
            with self._write() as connection:
                for job_id, state in ended.items():
                    done = connection.execute(update(jobs).where(
                        (jobs.c.job_id == job_id) & jobs.c.state.in_(LIVE_STATES)
                    ).values(state=state, ended_at=utc_now()))
                    if done.rowcount:
                        changed[job_id] = state
        except SQLAlchemyError as err:
            raise _unwritable(", ".join(ended), err) from err
        return changed

    def get(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None.

        Example:
            >>> registry.jobs.get("4242").state  # doctest: +SKIP
            'running'
        """
        return next(self._select(jobs.c.job_id == job_id), None)

    def for_run(self, run_id: str) -> JobRecord | None:
        """The latest job that ran this run (a resumed run may have several), or None.

        Example:
            >>> registry.jobs.for_run("20261207-120000-abcdef").job_id  # doctest: +SKIP
            '4242'
        """
        found = list(self._select(jobs.c.run_id == run_id))
        return max(found, key=lambda job: job.started_at or "", default=None)

    def live(self) -> list[JobRecord]:
        """The jobs not yet ended (queued, running, requeued), oldest first.

        Example:
            >>> [job.state for job in registry.jobs.live()]  # doctest: +SKIP
            ['running', 'queued']
        """
        return sorted(self._select(jobs.c.state.in_(LIVE_STATES)), key=lambda job: job.submitted_at)

    def _update(self, job_id: str, values: dict[str, Any], keep: str | None = None) -> None:
        condition = jobs.c.job_id == job_id
        if keep is not None:
            condition = condition & (jobs.c.state != keep)
        try:
            with self._write() as connection:
                connection.execute(update(jobs).where(condition).values(**values))
        except SQLAlchemyError as err:
            raise _unwritable(job_id, err) from err

    def _select(self, condition: Any) -> Iterator[JobRecord]:
        with self._read() as connection:
            rows = connection.execute(select(jobs).where(condition)).mappings().all()
        return iter([JobRecord(**row) for row in rows])


def _unwritable(job_id: str, err: SQLAlchemyError) -> RegistryError:
    return RegistryError.single("registry", f"job {job_id}", f"cannot be written ({getattr(err, 'orig', None) or err})",
                                hint="Check that the registry is reachable; the job's run goes on and is recorded.")
