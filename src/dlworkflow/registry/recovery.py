"""Runs interrupted mid-training: the owner note a run leaves, and the recovery of killed runs.

A run that writes checkpoints notes in its staging folder which process (host and pid)
writes it, with its record so far (:func:`write_owner`), and touches that note every
:data:`HEARTBEAT_SECONDS` while it trains (:class:`Heartbeat`). Ctrl-C records the run as
``interrupted`` at once (:func:`interrupted_record`); a run whose process was killed leaves
its note behind, and :func:`recover_killed_runs` — called by the commands that write to the
registry or go on with a run, never by a read — records it as interrupted so ``dlw resume``
can go on. On the note's own host the pid tells whether the process is gone; from another
host (a shared file system) a note whose heartbeat is older than :data:`STALE_AFTER_SECONDS`
is taken for a killed run.

Example:
    >>> recover_killed_runs(registry)  # doctest: +SKIP
    ['20261123-231502-4be1c9']
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from dlworkflow.errors import WorkflowError
from dlworkflow.registry import artifacts
from dlworkflow.registry.record import RunRecord

if TYPE_CHECKING:
    from dlworkflow.registry.artifacts import RunFolder
    from dlworkflow.registry.registry import Registry


HEARTBEAT_SECONDS = 30.0
"""How often a training run touches its owner note (:class:`Heartbeat`)."""

STALE_AFTER_SECONDS = 600.0
"""A note of another host untouched this long belongs to a killed run (20 missed heartbeats: a
shared file system's clocks and caches may lag, and a process busy in one long computation may
miss a few)."""


class Heartbeat:
    """Touch a file every ``every`` seconds from a background thread, while a run trains.

    Framework-free (a thread, not a Keras callback), so it beats through long epochs and
    stops with the process: a note that stops changing belongs to a process that is gone.

    Args:
        path: The file to touch (the run's owner note).
        every: Seconds between touches.
        beat: Also called at each touch: writes the run's job heartbeat into the registry
            (``registry.jobs.beat``), so the run is known alive from any host; a registry
            that cannot be reached at one beat is tried again at the next.

    Example:
        >>> import tempfile
        >>> note = Path(tempfile.mkdtemp()) / "owner.json"
        >>> _ = note.write_text("{}")
        >>> with Heartbeat(note, every=0.01) as beat:
        ...     time.sleep(0.05)
        >>> beat.beats > 0
        True
    """

    def __init__(self, path: Path, every: float = HEARTBEAT_SECONDS, *, beat: Callable[[], None] | None = None):
        self.path = Path(path)
        self.every = every
        self._beat = beat
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dlw-heartbeat", daemon=True)

    def start(self) -> Self:
        """Start beating (once).

        Example:
            >>> Heartbeat(Path("/nonexistent/owner.json"), every=60).start().stop()
        """
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating and wait for the thread to end.

        Example:
            >>> Heartbeat(Path("/nonexistent/owner.json")).stop()  # never started: nothing to do
        """
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        # Signals are for the main thread: a Ctrl-C the kernel hands to this thread while it waits
        # was seen lost (the run trained on to the end), so this thread takes none.
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        while not self._stop.wait(self.every):
            try:
                os.utime(self.path)
            except OSError:
                return  # the note is gone (the run finished or was recovered): nothing left to beat for
            if self._beat is not None:
                try:
                    self._beat()
                except WorkflowError:
                    pass  # the registry is away for now; the next beat tries again
            self.beats += 1

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def write_owner(folder: RunFolder, header: RunRecord) -> None:
    """Note in the staging folder which process writes it, and the run's record so far.

    Args:
        folder: The run's staging folder.
        header: The record of the started run.
    """
    owner = {"host": socket.gethostname(), "pid": os.getpid(), "record": header.to_dict()}
    folder.path(artifacts.OWNER).write_text(json.dumps(owner, default=str))


def interrupted_record(header: RunRecord, checkpoint_folder: Path, finished_at: str) -> RunRecord:
    """The record of a run interrupted after its last checkpoint, saying how to go on.

    Args:
        header: The record of the started run.
        checkpoint_folder: Its checkpoint folder.
        finished_at: When it stopped.

    Returns:
        The record with status ``interrupted``, the epochs its checkpoint holds and a hint.

    Example:
        >>> interrupted_record(RunRecord(id="r1", name="m"), Path("/nonexistent"), "2026-12-07T13:00:00+00:00").error
        'interrupted before its first epoch ended; start it again with dlw run'
    """
    from dlworkflow.training.checkpoint_files import checkpoint_epoch

    epochs = checkpoint_epoch(checkpoint_folder) or 0
    total = (header.spec.get("train") or {}).get("epochs")
    how = (f"after epoch {epochs} of {total}; `dlw resume {header.id}` goes on from there" if epochs
           else "before its first epoch ended; start it again with dlw run")
    return header.replace(
        status="interrupted", finished_at=finished_at, error=f"interrupted {how}",
        training=dataclasses.replace(header.training, epochs_run=epochs),
    )


def recover_killed_runs(registry: Registry) -> list[str]:
    """Record as interrupted the runs whose process was killed (SIGKILL, power loss) mid-training.

    A staging folder on this host whose owner process is gone is kept as the run's
    interrupted folder, with its last checkpoint, and the run is recorded as
    ``interrupted``. Folders of other hosts are left alone (their processes cannot be
    checked from here).

    Args:
        registry: An open registry.

    Returns:
        The ids of the runs now recorded as interrupted.

    Example:
        >>> recover_killed_runs(registry)  # doctest: +SKIP
        ['20261123-231502-4be1c9']
    """
    from dlworkflow.registry.record import utc_now

    recovered = []
    for owner_file in artifacts.runs_dir(registry.home).glob(f"{artifacts.STAGING_PREFIX}*/{artifacts.OWNER}"):
        try:
            owner = json.loads(owner_file.read_text())
            header = RunRecord.from_dict(owner["record"])
        except (OSError, ValueError, KeyError, WorkflowError):
            continue
        job = _job_of(registry, header.id)
        if not process_gone(owner, owner_file, heartbeat_age=job.heartbeat_age() if job else None):
            continue
        if (owner_file.parent / artifacts.RECORD).is_file():
            _finish_killed(registry, owner_file.parent, recovered)
            continue
        folder = artifacts.RunFolder.adopt(registry.home, header.id)
        record = interrupted_record(header, owner_file.parent / artifacts.CHECKPOINT_DIR, utc_now())
        record = record.replace(artifacts={"dir": str(folder.interrupt()), "files": []})
        try:
            registry.record(record, looked_at_test=False, test_set_name=header.test_set.name or "")
        except WorkflowError:
            continue  # recorded by another process meanwhile, or the registry is unreachable
        if job is not None and job.state == "running":
            _end_job(registry, job.job_id, "interrupted")
        recovered.append(header.id)
    return recovered


def _job_of(registry: Registry, run_id: str) -> Any:
    """The job that runs this run (its registry heartbeat), or None (none, or the registry is away)."""
    try:
        return registry.jobs.for_run(run_id)
    except WorkflowError:
        return None


def _end_job(registry: Registry, job_id: str, state: str) -> None:
    try:
        registry.jobs.end(job_id, state)
    except WorkflowError:
        pass  # the run's record is what counts; its job row shows the change on the next recovery


def _finish_killed(registry: Registry, staging: Path, recovered: list[str]) -> None:
    """A run killed after it finished and wrote its record, before its folder was moved into place: record it."""
    from dlworkflow.registry.unrecorded import Adoption, _adopt

    try:
        record = RunRecord.from_dict(json.loads((staging / artifacts.RECORD).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, WorkflowError):
        return
    done = Adoption()
    _adopt(registry, record, registry.statuses().get(record.id), done)
    recovered += done.recorded


def process_gone(
    owner: dict[str, Any], note: Path | None = None, *, now: float | None = None, heartbeat_age: float | None = None,
) -> bool:
    """Whether the process an owner note names has ended.

    On the note's own host the pid says it. From another host only a heartbeat can: the run's
    job heartbeat in the registry when it has one (a compute node's file times may reach the
    login node late, or not at all), else the note's modification time; a heartbeat older than
    :data:`STALE_AFTER_SECONDS` belongs to a process that is gone.

    Args:
        owner: The owner note: ``{host, pid, record}``.
        note: The note's file (its modification time is the heartbeat); None: no heartbeat to read.
        now: The time to compare the note's heartbeat with (default: now).
        heartbeat_age: Seconds since the run's job last wrote its heartbeat into the registry
            (None: it has none).

    Returns:
        True when the note is from this host and no process has its pid, or from another host
        and its heartbeat is older than :data:`STALE_AFTER_SECONDS`.

    Example:
        >>> process_gone({"host": socket.gethostname(), "pid": os.getpid()})
        False
        >>> process_gone({"host": "another-host", "pid": 1})
        False
        >>> process_gone({"host": "another-host", "pid": 1}, heartbeat_age=STALE_AFTER_SECONDS + 1)
        True
    """
    if owner.get("host") != socket.gethostname():
        if heartbeat_age is not None:
            return heartbeat_age > STALE_AFTER_SECONDS
        try:
            beat = note.stat().st_mtime if note is not None else None
        except OSError:
            return False
        return beat is not None and (time.time() if now is None else now) - beat > STALE_AFTER_SECONDS
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, KeyError, ValueError, TypeError):
        return False
    return False


def resumable_run(registry: Registry, run_id: str) -> tuple[RunRecord, Any]:
    """An interrupted run and its last checkpoint, ready to go on (killed runs are recovered first).

    Args:
        registry: An open registry.
        run_id: The run's id or a unique prefix of it.

    Returns:
        The interrupted run's record and its :class:`~dlworkflow.training.checkpoint_files.Checkpoint`.

    Raises:
        RegistryError: when the run is not interrupted, or it has no checkpoint.
        TrainingError: when neither its last checkpoint nor the one before can be read.

    Example:
        >>> record, checkpoint = resumable_run(registry, "20261123-2315")  # doctest: +SKIP
        >>> record.status, checkpoint.epoch  # doctest: +SKIP
        ('interrupted', 20)
    """
    from dlworkflow.errors import RegistryError
    from dlworkflow.training.checkpoint_files import read_checkpoint

    recover_killed_runs(registry)
    record = registry.get(run_id)
    where = f"registry {registry.url}"
    if record.status != "interrupted":
        raise RegistryError.single(
            where, f"run {record.id}", f"is {record.status}, not interrupted", got=record.status,
            hint="Only an interrupted run goes on; dlw runs shows each run's status.",
        )
    folder = artifacts.interrupted_dir(registry.home, record.id)
    try:
        checkpoint = read_checkpoint(folder / artifacts.CHECKPOINT_DIR)
    except ValueError as err:
        raise RegistryError.single(where, f"run {record.id}", str(err), hint="Start the spec again with dlw run.") from err
    if checkpoint is None:
        raise RegistryError.single(
            where, f"run {record.id}", "was interrupted before its first epoch ended: there is no checkpoint",
            hint="Start the spec again with dlw run.",
        )
    return record, checkpoint


def recover_runs(url: str | None = None, *, orphans: bool = False) -> list[str]:
    """Record what killed or failed processes left: runs killed mid-training, finished runs not yet recorded.

    A run killed mid-training is recorded as interrupted (:func:`recover_killed_runs`). With
    ``orphans`` (``dlw recover``), so are the finished runs noted as not yet recorded and the
    run folders the registry lacks, as finished
    (:func:`~dlworkflow.registry.unrecorded.adopt_runs`). Without a staging folder beside a
    local SQLite registry, and without ``orphans``, the registry is not even opened.

    Args:
        url: The registry URL (None: ``$DLW_REGISTRY``, else ``./.dlw/registry.db``).
        orphans: Also record finished runs the registry lacks.

    Returns:
        The ids of the runs now recorded.

    Raises:
        RegistryError: with ``orphans``, when finished runs still cannot be recorded (the registry
            still cannot be written), naming them and why.

    Example:
        >>> recover_runs("sqlite:////nonexistent/dlw/registry.db")
        []
    """
    from dlworkflow.errors import RegistryError
    from dlworkflow.registry.location import registry_url, sqlite_file
    from dlworkflow.registry.quick_read import staging_folders
    from dlworkflow.registry.unrecorded import adopt_runs

    if not orphans and sqlite_file(registry_url(url)[0]) is not None and not staging_folders(url):
        return []  # nothing in progress or killed: no need to open it (nor to import SQLAlchemy)
    from dlworkflow.registry.registry import Registry

    with Registry.open(url) as registry:
        recovered = recover_killed_runs(registry)
        if not orphans:
            return recovered
        adoption = adopt_runs(registry)
    failed = {run_id: why for run_id, why in adoption.errors.items() if "still recording" not in why}
    if failed:
        first = next(iter(failed.values()))
        raise RegistryError.single(
            f"registry {registry.url}", "", f"{len(failed)} finished run(s) still cannot be recorded: "
            f"{', '.join(failed)} ({first})", hint="Their folders stay as they are; run `dlw recover` again once the "
            "registry can be written.",
        )
    return [*recovered, *adoption.recorded]
