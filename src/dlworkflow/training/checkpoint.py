"""A checkpoint at the end of every epoch, so a run that dies at epoch 180 of 200 can go on.

After each epoch :class:`EpochCheckpoint` writes two files into the run's folder: the
values of every model variable (weights, BatchNormalization statistics, Dropout's random
state) and every optimizer variable (its step count and moments) as one ``.npz`` file, and
the training state as JSON: the epoch, the history so far, early stopping's state and
NumPy's random state (Keras shuffles in-memory data with it on the JAX and PyTorch
backends). Each epoch's state is copied off the device at its end; the files are written on a
thread beside training, the newest state only (:mod:`~dlworkflow.training.checkpoint_writer`),
and no more often than keeps writing to :data:`WRITE_SHARE` of the time (every epoch when epochs
take a second; every few epochs of the weather model's 5 ms): a kill loses a few epochs at most, and the files hold the last epoch when ``fit`` ends, however
it ends. Each file is written to a temporary name and renamed; the arrays go to a file of
their epoch's own, and the JSON (written last) names that epoch, so a process killed while
writing leaves the previous checkpoint whole. The arrays of the checkpoint written before are
kept too and its state rides in the JSON, so a last checkpoint damaged later (a truncated
``.npz``) falls back to it on ``dlw resume``. A write (arrays, history, renames) takes about
3 ms for the lesson's models, against a whole-model file; written every epoch, that was a
quarter of the weather model's fit.

:func:`read_checkpoint` and :func:`restore_checkpoint` put a compiled model back in that
state; training then goes on from the next epoch (``initial_epoch``).

Importing this module imports Keras; activate the backend first.

Example:
    >>> model.fit(..., callbacks=[EpochCheckpoint(folder)])  # doctest: +SKIP
    >>> checkpoint = read_checkpoint(folder)  # doctest: +SKIP
    >>> restore_checkpoint(model, checkpoint); checkpoint.epoch  # doctest: +SKIP
    180
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from dlworkflow.training.checkpoint_files import (  # noqa: F401  (re-exported with the writer)
    ARRAYS_FILE,
    FORMAT_VERSION,
    PREVIOUS_KEY,
    STATE_FILE,
    Checkpoint,
    checkpoint_epoch,
    read_checkpoint,
)
from dlworkflow.training.checkpoint_writer import BackgroundWriter
from dlworkflow.training.keras_compat import early_stopping_counters

WRITE_SHARE = 0.1
"""The share of training time :class:`EpochCheckpoint` may spend writing: after a write of 3 ms, the next waits 30 ms."""


class EpochCheckpoint(keras.callbacks.Callback):
    """Write a checkpoint into a folder at the end of every epoch (atomically).

    Args:
        folder: The run's folder.
        initial_epoch: Epochs finished before this ``fit`` (a resumed run, a second stage).
        history: The history of those epochs, continued by this ``fit``.
        early_stopping: The run's early-stopping callback, whose state is kept too.
        every_seconds: Write at most this often (the first epoch's and the last one's always):
            an epoch's state is kept in memory at its end, and the newest is written once this
            much time has passed since the last write, or when ``fit`` ends. None: the last
            write's duration divided by :data:`WRITE_SHARE` (every epoch when epochs are long).

    Example:
        >>> model.fit(x, y, epochs=200, callbacks=[EpochCheckpoint(folder)])  # doctest: +SKIP
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        initial_epoch: int = 0,
        history: list[dict[str, float]] | None = None,
        early_stopping: Any = None,
        every_seconds: float | None = None,
    ):
        super().__init__()
        self.every_seconds = every_seconds
        self._last_write = -math.inf
        self._write_seconds = 0.0
        self._latest: tuple[dict[str, np.ndarray], dict[str, Any]] | None = None
        self.folder = Path(folder)
        self.history = list(history or [])[:initial_epoch]
        self.early_stopping = early_stopping
        self._random_state: list[Any] = []
        self._previous: dict[str, Any] | None = None
        self.writer = BackgroundWriter(self._write)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        # Keras draws the next epoch's shuffle before this epoch's end: the state to go on
        # from is the one before that draw, which is the state now.
        self._random_state = _numpy_random_state()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.history.append({key: float(value) for key, value in (logs or {}).items()})
        model = self.model
        # Copies taken now: the next epoch's step may reuse (donate) the variables' buffers.
        arrays = {f"model_{i}": np.array(_values(v)) for i, v in enumerate(model.variables)}
        arrays.update({f"optimizer_{i}": np.array(_values(v)) for i, v in enumerate(model.optimizer.variables)})
        state = {
            "format": FORMAT_VERSION,
            "epoch": epoch + 1,
            "model_variables": len(model.variables),
            "optimizer_variables": len(model.optimizer.variables),
            "history": list(self.history),
            "early_stopping": _stopping_state(self.early_stopping),
            "numpy_random": self._random_state,
        }
        self._latest = (arrays, state)
        now = time.monotonic()
        wait = self._write_seconds / WRITE_SHARE if self.every_seconds is None else self.every_seconds
        if now - self._last_write >= wait:
            self._last_write = now
            self._submit_latest()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.flush()

    def _submit_latest(self) -> None:
        latest, self._latest = self._latest, None
        if latest is not None:
            self.writer.submit(latest)

    def flush(self) -> None:
        """Wait until the last epoch's checkpoint is on disk (the trainer calls it however ``fit`` ends).

        Raises:
            OSError: when a checkpoint could not be written (a full disk, a read-only folder).
        """
        self._submit_latest()
        self.writer.flush()

    def _write(self, item: tuple[dict[str, np.ndarray], dict[str, Any]]) -> None:
        """Write one epoch's files (on the writer's thread): the arrays, then the JSON naming them, then tidy up."""
        started = time.perf_counter()
        arrays, state = item
        epoch = state["epoch"]
        self.folder.mkdir(parents=True, exist_ok=True)
        previous = self._previous if self._previous is not None else _written_state(self.folder)
        if previous and not int(previous.get("epoch") or 0) < epoch:
            previous = None  # a run gone on from an earlier epoch: that state is not this run's past
        arrays_file = self.folder / ARRAYS_FILE.format(epoch=epoch)
        _replace(arrays_file, lambda path: np.savez(path, **arrays))
        written = {**state, PREVIOUS_KEY: previous} if previous else state
        _replace(self.folder / STATE_FILE, lambda path: path.write_text(json.dumps(written)))
        self._previous = state
        keep = {arrays_file.name}
        if previous:
            keep.add(ARRAYS_FILE.format(epoch=previous.get("epoch")))
        for old in self.folder.glob(ARRAYS_FILE.format(epoch="*")):
            if old.name not in keep:
                old.unlink(missing_ok=True)
        self._write_seconds = time.perf_counter() - started


def restore_checkpoint(model: keras.Model, checkpoint: Checkpoint, *, early_stopping: Any = None) -> None:
    """Put a compiled model (and its optimizer and early stopping) back in a checkpoint's state.

    Args:
        model: The model built and compiled from the same spec.
        checkpoint: What :func:`read_checkpoint` returned.
        early_stopping: The new run's early-stopping callback, to continue counting.

    Raises:
        ValueError: when the model's variables do not match the checkpoint's (another spec).

    Example:
        >>> restore_checkpoint(model, read_checkpoint(folder))  # doctest: +SKIP
    """
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    _assign(model.variables, checkpoint.model_values, "model")
    _assign(optimizer.variables, checkpoint.optimizer_values, "optimizer")
    if checkpoint.numpy_random:
        kind, keys, position, has_gauss, cached = checkpoint.numpy_random
        np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    if early_stopping is not None and checkpoint.early_stopping:
        state = checkpoint.early_stopping
        early_stopping.resume_state = state


def _assign(variables: list[Any], values: list[np.ndarray], what: str) -> None:
    if len(variables) != len(values):
        raise ValueError(f"the {what} has {len(variables)} variables, the checkpoint {len(values)}")
    for variable, value in zip(variables, values, strict=True):
        if tuple(variable.shape) != tuple(value.shape):
            raise ValueError(f"{what} variable {variable.path} has shape {tuple(variable.shape)}, "
                             f"the checkpoint {tuple(value.shape)}")
        variable.assign(value)


def _stopping_state(stopping: Any) -> dict[str, Any] | None:
    if stopping is None:
        return None
    counters = early_stopping_counters(stopping)
    return {"wait": counters.wait, "best": counters.best, "best_epoch": counters.best_epoch}


def _values(variable: Any) -> np.ndarray:
    """A variable's values on the host: through a tensor, as a variable mirrored by tf.distribute has no __array__ during fit."""
    return keras.ops.convert_to_numpy(keras.ops.convert_to_tensor(variable))


def _numpy_random_state() -> list[Any]:
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return [kind, keys.tolist(), int(position), int(has_gauss), float(cached)]


def _written_state(folder: Path) -> dict[str, Any] | None:
    """The last epoch's state already in the folder (a resumed run's), without its own previous one."""
    try:
        state = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or "epoch" not in state:
        return None
    state.pop(PREVIOUS_KEY, None)
    return state


def _replace(path: Path, write: Any) -> None:
    """Write a file under a temporary name, then rename it over the old one (never half-written)."""
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    write(partial)
    os.replace(partial, path)
