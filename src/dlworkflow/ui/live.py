"""Runs in progress, read from their staging folders: which epoch each is at, and its curves so far.

A run that trains writes ``runs/.staging-<id>/`` with an owner note (its record so far, see
:mod:`dlworkflow.registry.recovery`) and, after each epoch, a checkpoint whose JSON holds the
epoch and the history so far (:mod:`dlworkflow.training.checkpoint`). The results page lists
these runs apart from the recorded ones, and a running run's page asks for its curves every few
seconds (``/api/runs/<id>/curves``), redrawing them as epochs end. Only the small JSON files are
read, never the arrays. The curves are Keras' logged values (a regression's loss on the
standardized target), as the checkpoint holds them; the finished run's ``history.csv`` replaces them.

Example:
    >>> running_runs(Path("/nowhere"))
    []
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlworkflow.registry import artifacts
from dlworkflow.training.checkpoint_files import STATE_FILE
from dlworkflow.ui.curves import Curves

POLL_SECONDS = 3
"""How often a running run's page asks for its curves."""


@dataclass(frozen=True)
class RunningRun:
    """A run in progress (or killed and not yet recovered), as its staging folder tells it.

    Attributes:
        id: The run id.
        name: The spec's name.
        description: The spec's description.
        created_at: When it started.
        epoch: The last finished epoch (None before the first, or for a run without checkpoints: a trial).
        epochs: The epochs it is set to run at most.
        curves: Its curves so far.

    Example:
        >>> RunningRun("r1", "weather", "", None, 3, 20, Curves()).progress
        '3 of 20'
    """

    id: str
    name: str
    description: str
    created_at: str | None
    epoch: int | None
    epochs: int | None
    curves: Curves

    @property
    def progress(self) -> str:
        """``"epoch of epochs"``, or ``–`` when no epoch is known yet."""
        if self.epoch is None:
            return "–"
        return f"{self.epoch} of {self.epochs}" if self.epochs else str(self.epoch)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as ``/api/runs`` lists it."""
        return {"id": self.id, "name": self.name, "description": self.description, "status": "running",
                "created_at": self.created_at, "epoch": self.epoch, "epochs": self.epochs,
                "curves": self.curves.to_dict()}


def running_runs(home: Path) -> list[RunningRun]:
    """Every run with a staging folder under a registry home, newest first.

    Args:
        home: The registry's home (its ``runs/`` folder is read).

    Returns:
        The runs; a folder whose notes cannot be read yet (being written) is left out.

    Example:
        >>> [run.id for run in running_runs(registry.home)]  # doctest: +SKIP
        ['20261207-101500-4be1c9']
    """
    found = []
    for folder in artifacts.runs_dir(home).glob(f"{artifacts.STAGING_PREFIX}*"):
        run = _read(folder)
        if run is not None:
            found.append(run)
    return sorted(found, key=lambda run: run.id, reverse=True)


def running_run(home: Path, run_id: str) -> RunningRun | None:
    """The run in progress with this exact id, or None when it has no staging folder (any more).

    Example:
        >>> running_run(Path("/nowhere"), "20261207-101500-4be1c9") is None
        True
    """
    if not run_id or "/" in run_id or run_id.startswith("."):
        return None
    return _read(artifacts.runs_dir(home) / f"{artifacts.STAGING_PREFIX}{run_id}")


def _read(folder: Path) -> RunningRun | None:
    try:
        owner = json.loads((folder / artifacts.OWNER).read_text())
    except (OSError, ValueError):
        return None
    record = owner.get("record") if isinstance(owner, dict) else None
    if not isinstance(record, dict):
        return None
    state = _checkpoint_state(folder / artifacts.CHECKPOINT_DIR / STATE_FILE)
    history = state.get("history") if isinstance(state.get("history"), list) else []
    train = (record.get("spec") or {}).get("train") or {}
    epoch = state.get("epoch")
    return RunningRun(
        id=str(record.get("id") or folder.name.removeprefix(artifacts.STAGING_PREFIX)),
        name=str(record.get("name") or ""),
        description=str(record.get("description") or ""),
        created_at=record.get("created_at"),
        epoch=int(epoch) if isinstance(epoch, int) else None,
        epochs=train.get("epochs") if isinstance(train.get("epochs"), int) else None,
        curves=Curves.from_rows(row for row in history if isinstance(row, dict)),
    )


def _checkpoint_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}
