"""Finished runs that are not in the registry: noted beside their folder, listed, and recorded later.

A finished run must never be lost because the registry could not be written at its end (a
lock held longer than the busy timeout, a full disk, a server that went away). Before the
registry write, the runner leaves a note beside the run's folder,
``runs/.unrecorded-<run_id>.json``: the run's record and which process writes it
(:func:`note_unrecorded`). A successful write removes the note (:func:`forget_unrecorded`);
when every try fails, the note stays, marked as given up (:func:`give_up`), and so does a note
whose process was killed during the write. ``dlw runs`` lists such runs
(:func:`unrecorded_runs`, a glob, no database) and ``dlw recover`` records them
(:func:`adopt_runs`), also the folders of a registry that lost its runs (every run folder
holds its record as ``run.json``).

Example:
    >>> unrecorded_runs(Path("/nonexistent/dlw"))
    []
    >>> adopt_runs(registry)  # doctest: +SKIP
    Adoption(recorded=['20261207-101500-4be1c9'], pending=[], unreadable=[])
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import WorkflowError
from dlworkflow.registry import artifacts
from dlworkflow.registry.record import RunRecord

if TYPE_CHECKING:
    from dlworkflow.registry.registry import Registry


@dataclass
class Adoption:
    """What :func:`adopt_runs` did.

    Attributes:
        recorded: The runs now in the registry.
        pending: Runs still not recorded: their process is still writing them, or the registry
            write failed again (``errors`` says why).
        unreadable: Run folders without a readable record (from a dlworkflow before ``run.json``).
        errors: ``{run id: why it is still pending}``.

    Example:
        >>> Adoption(recorded=["r1"]).recorded
        ['r1']
    """

    recorded: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def note_unrecorded(home: Path, record: RunRecord) -> Path | None:
    """Leave the note of a finished run about to be recorded: its record and this process (host, pid).

    Args:
        home: The registry home.
        record: The run's finished record, its artifacts listed.

    Returns:
        The note, or None when it cannot be written (a full disk: the registry write goes on).

    Example:
        >>> note_unrecorded(registry.home, record).name  # doctest: +SKIP
        '.unrecorded-20261207-101500-4be1c9.json'
    """
    note = artifacts.unrecorded_file(home, record.id)
    content = {"host": socket.gethostname(), "pid": os.getpid(), "error": None, "record": record.to_dict()}
    return note if _write_json(note, content) else None


def give_up(home: Path, record: RunRecord, error: str) -> Path | None:
    """Mark a run's note as given up: no process writes it any more, ``dlw recover`` may record it.

    Args:
        home: The registry home.
        record: The run's finished record.
        error: Why the registry write failed.

    Returns:
        The note, or None when it cannot be written.

    Example:
        >>> give_up(registry.home, record, "database is locked")  # doctest: +SKIP
    """
    note = artifacts.unrecorded_file(home, record.id)
    content = {"host": socket.gethostname(), "pid": None, "error": error, "record": record.to_dict()}
    return note if _write_json(note, content) else None


def forget_unrecorded(home: Path, record: RunRecord) -> None:
    """The run is recorded: remove its note and write the stored record into its folder's ``run.json``.

    Example:
        >>> forget_unrecorded(registry.home, stored)  # doctest: +SKIP
    """
    if record.artifacts.dir:
        _write_json(Path(record.artifacts.dir) / artifacts.RECORD, record.to_dict())
    artifacts.unrecorded_file(home, record.id).unlink(missing_ok=True)


def unrecorded_runs(home: Path) -> list[str]:
    """The ids of the finished runs noted as not yet recorded (one folder listing, no database).

    Example:
        >>> unrecorded_runs(Path("/nonexistent/dlw"))
        []
    """
    runs = artifacts.runs_dir(home)
    if not runs.is_dir():
        return []
    prefix = artifacts.UNRECORDED_PREFIX
    return sorted(path.name[len(prefix):-len(".json")] for path in runs.glob(f"{prefix}*.json"))


def unrecorded_runs_of(url: str | None = None, home: Path | None = None) -> list[str]:
    """:func:`unrecorded_runs` beside the registry of a URL (None: ``$DLW_REGISTRY``, else ``./.dlw/registry.db``).

    Example:
        >>> unrecorded_runs_of("sqlite:////nonexistent/dlw/registry.db")
        []
    """
    from dlworkflow.registry.location import artifacts_home

    return unrecorded_runs(artifacts_home(url, home))


def adopt_runs(registry: Registry, *, orphans: bool = True) -> Adoption:
    """Record the finished runs the registry is missing (``dlw recover``).

    Noted runs whose writer is gone (it gave up, its process ended, or its note is older than
    :data:`~dlworkflow.registry.recovery.STALE_AFTER_SECONDS` on another host) are recorded from
    their note; with ``orphans``, so is every run folder whose ``run.json`` names a run the
    registry does not hold (a registry lost or replaced). A run the registry already holds as
    finished only loses its note; an interrupted one that finished later replaces its record.

    Args:
        registry: An open registry.
        orphans: Also look at every run folder, not only the noted runs.

    Returns:
        What was recorded, what is still pending, and the folders without a readable record.

    Example:
        >>> adopt_runs(registry).recorded  # doctest: +SKIP
        ['20261207-101500-4be1c9']
    """
    from dlworkflow.registry.recovery import process_gone

    done = Adoption()
    statuses = registry.statuses()
    for run_id in unrecorded_runs(registry.home):
        note_file = artifacts.unrecorded_file(registry.home, run_id)
        try:
            note = json.loads(note_file.read_text(encoding="utf-8"))
            record = RunRecord.from_dict(note["record"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, WorkflowError):
            done.unreadable.append(run_id)
            continue
        if note.get("pid") is not None and not process_gone(note, note_file):
            done.pending.append(run_id)
            done.errors[run_id] = f"process {note.get('pid')} on {note.get('host')} is still recording it"
            continue
        _adopt(registry, record, statuses.get(record.id), done)
    if orphans:
        _adopt_orphan_folders(registry, statuses, done)
    return done


def _adopt_orphan_folders(registry: Registry, statuses: dict[str, str], done: Adoption) -> None:
    """Record the run folders whose ``run.json`` names a run the registry does not hold."""
    runs = artifacts.runs_dir(registry.home)
    folders = sorted(path for path in runs.iterdir() if path.is_dir() and not path.name.startswith(".")) \
        if runs.is_dir() else []
    seen = {*done.recorded, *done.pending}
    for folder in folders:
        if statuses.get(folder.name) in ("finished", "failed") or folder.name in seen:
            continue
        try:
            record = RunRecord.from_dict(json.loads((folder / artifacts.RECORD).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, WorkflowError):
            done.unreadable.append(folder.name)
            continue
        if record.id != folder.name or record.status != "finished":
            done.unreadable.append(folder.name)
            continue
        kept = record.replace(artifacts={"dir": str(folder), "files": record.artifacts.files})
        _adopt(registry, kept, statuses.get(folder.name), done)


def _adopt(registry: Registry, record: RunRecord, status: str | None, done: Adoption) -> None:
    """Record one finished run (its folder committed first if a kill left it staged); note the outcome."""
    from dlworkflow.errors import RegistryError

    run_dir = artifacts.run_dir(registry.home, record.id)
    staging = artifacts.runs_dir(registry.home) / f"{artifacts.STAGING_PREFIX}{record.id}"
    if not run_dir.is_dir() and staging.is_dir():
        os.rename(staging, run_dir)  # killed between the note and the folder's commit
    if not run_dir.is_dir():
        done.unreadable.append(record.id)  # its folder was removed: nothing to record
        return
    for leftover in (artifacts.OWNER, artifacts.CHECKPOINT_DIR):
        artifacts.remove_tree(run_dir / leftover)
    looked = bool(record.test_set.fingerprint)
    try:
        if status is None:
            record = registry.record(record, looked_at_test=looked, test_set_name=record.test_set.name or "")
        elif status == "interrupted":
            record = registry.replace_interrupted(record, looked_at_test=looked,
                                                  test_set_name=record.test_set.name or "")
    except RegistryError as err:
        done.pending.append(record.id)
        done.errors[record.id] = str(err)
        return
    forget_unrecorded(registry.home, record)
    done.recorded.append(record.id)


def _write_json(path: Path, content: dict[str, Any]) -> bool:
    """Write JSON under a temporary name and rename it into place; False (nothing left) when that fails."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(json.dumps(content, default=str), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        return False
    return True
