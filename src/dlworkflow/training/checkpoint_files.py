"""The files of an epoch checkpoint, read without Keras (see :mod:`dlworkflow.training.checkpoint`).

``dlw runs`` and ``dlw resume`` look at a checkpoint before (or without) choosing a Keras
backend, so reading one must not import Keras.

Example:
    >>> checkpoint_epoch(Path("/nowhere")) is None
    True
"""

from __future__ import annotations

import json
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlworkflow.errors import TrainingError

ARRAYS_FILE = "checkpoint-{epoch}.npz"
"""The model's and optimizer's variables after an epoch: one file per epoch, so that the JSON,
written last, always names arrays of its own epoch (a process killed between the two writes
leaves the previous pair whole); the last two are kept, older ones are removed once the JSON
names the new one."""

STATE_FILE = "checkpoint.json"
"""The epoch, history, early-stopping and random state that go with the arrays."""

FORMAT_VERSION = 1
"""The checkpoint layout this version writes and reads."""

PREVIOUS_KEY = "previous"
"""Key of the state JSON holding the epoch before's state, whose arrays are kept too: the fallback
when the last arrays cannot be read (a checkpoint without it, from an earlier version, has none)."""


class CheckpointWarning(UserWarning):
    """The last epoch's checkpoint could not be read; the run goes on from the one before it."""


@dataclass
class Checkpoint:
    """The state of a run after its last finished epoch.

    Attributes:
        epoch: Epochs finished (1-based: 180 means epochs 1–180 ran).
        history: One dict per finished epoch, Keras' logs of that epoch.
        model_values: The values of ``model.variables``, in order.
        optimizer_values: The values of ``model.optimizer.variables``, in order.
        early_stopping: Early stopping's ``wait``, ``best``, ``best_epoch`` (and whether the
            best weights were kept), or None without early stopping.
        numpy_random: NumPy's global random state (``np.random.get_state()``), as JSON data.

    Example:
        >>> read_checkpoint(folder).epoch  # doctest: +SKIP
        180
    """

    epoch: int
    history: list[dict[str, float]]
    model_values: list[np.ndarray]
    optimizer_values: list[np.ndarray]
    early_stopping: dict[str, Any] | None = None
    numpy_random: list[Any] = field(default_factory=list)


def read_checkpoint(folder: str | Path) -> Checkpoint | None:
    """The checkpoint in a run's folder, or None when there is none (no epoch finished).

    The last epoch's checkpoint is read; when its arrays cannot be read (a truncated or
    damaged ``.npz``, a missing file), the one before it (kept beside it, see
    :data:`PREVIOUS_KEY`) is used instead, with a :class:`CheckpointWarning` that says so.

    Args:
        folder: The run's folder.

    Returns:
        The checkpoint.

    Raises:
        TrainingError: when the files are there but no checkpoint among them can be read
            (each one's reason named).

    Example:
        >>> read_checkpoint(".dlw/runs/.interrupted-20261123-221854-94ae5e").epoch  # doctest: +SKIP
        180
    """
    folder = Path(folder)
    state_path = folder / STATE_FILE
    if not state_path.is_file():
        return None
    try:
        state = json.loads(state_path.read_text())
        if not isinstance(state, dict):
            raise TypeError(f"{STATE_FILE} holds {type(state).__name__}, not an object")
    except (OSError, UnicodeDecodeError, ValueError, TypeError, RecursionError) as err:
        raise _unusable(folder, [f"{STATE_FILE}: {type(err).__name__}: {err}"]) from err
    failures = []
    for candidate in (state, state.get(PREVIOUS_KEY)):
        if not isinstance(candidate, dict):
            continue
        try:
            checkpoint = _load(folder, candidate)
        except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as err:
            failures.append(f"epoch {candidate.get('epoch')!r}: {type(err).__name__}: {err}")
            continue
        if failures:
            warnings.warn(CheckpointWarning(
                f"{folder}: the checkpoint of the last epoch cannot be read ({failures[0]}); going on from the "
                f"one before it, epoch {checkpoint.epoch}"
            ), stacklevel=2)
        return checkpoint
    raise _unusable(folder, failures or ["no epoch is named"])


def _load(folder: Path, state: dict[str, Any]) -> Checkpoint:
    if state.get("format") != FORMAT_VERSION:
        raise ValueError(f"format {state.get('format')!r}, not {FORMAT_VERSION}")
    with np.load(folder / ARRAYS_FILE.format(epoch=int(state["epoch"])), allow_pickle=False) as arrays:
        model_values = [arrays[f"model_{i}"] for i in range(int(state["model_variables"]))]
        optimizer_values = [arrays[f"optimizer_{i}"] for i in range(int(state["optimizer_variables"]))]
    return Checkpoint(
        epoch=int(state["epoch"]),
        history=list(state["history"]),
        model_values=model_values,
        optimizer_values=optimizer_values,
        early_stopping=state.get("early_stopping"),
        numpy_random=state.get("numpy_random") or [],
    )


def _unusable(folder: Path, failures: list[str]) -> TrainingError:
    return TrainingError.single(  # type: ignore[return-value]
        str(folder), "checkpoint", "no usable checkpoint: " + "; ".join(failures),
        hint="The interrupted run cannot go on; start its spec again with dlw run.",
    )


def checkpoint_epoch(folder: str | Path) -> int | None:
    """The epoch of the checkpoint in a folder (its JSON only), or None when there is none or it is unreadable.

    Example:
        >>> checkpoint_epoch(".dlw/runs/.staging-20261123-232723-56af26/checkpoint")  # doctest: +SKIP
        53
    """
    try:
        return int(json.loads((Path(folder) / STATE_FILE).read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
