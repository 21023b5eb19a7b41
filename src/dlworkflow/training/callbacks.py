"""The callbacks a training run uses, and the factory that assembles them from ``[train]``.

Custom behaviour is a small subclass of a Keras callback, never a flag: early stopping
that reports which epochs mattered (:class:`TrackedEarlyStopping`) and a guard that stops
a run whose loss became NaN (:class:`StopOnNaN`). Both work once per epoch, so they add no
Python work per batch. The trainer reads their attributes after ``fit`` to fill in the
:class:`~dlworkflow.training.trainer.TrainingResult` and to raise a clear error.

Importing this module imports Keras (the classes subclass Keras callbacks); activate the
backend first.

Example:
    >>> callbacks = make_callbacks(spec.train, progress=None)  # doctest: +SKIP
    >>> [type(c).__name__ for c in callbacks]  # doctest: +SKIP
    ['StopOnNaN', 'TrackedEarlyStopping']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras

from dlworkflow.spec.schema import EarlyStoppingSpec, TensorBoardSpec, TrainSpec
from dlworkflow.training.interrupts import StopOnCtrlC
from dlworkflow.training.keras_compat import (
    early_stopping_counters,
    resolve_monitor_direction,
    set_early_stopping_counters,
)


class StopOnNaN(keras.callbacks.Callback):
    """Stop training at the end of the first epoch whose loss is NaN or infinite.

    Unlike ``keras.callbacks.TerminateOnNaN`` it checks once per epoch (no per-batch
    Python work) and only records what happened; the trainer turns that into a
    :class:`~dlworkflow.errors.TrainingError` with likely causes.

    Args:
        monitor: The log key to check, ``loss`` by default.

    Attributes:
        bad_epoch: The 1-based epoch whose loss was not finite, or None.
        bad_value: That loss value (``nan`` or ``inf``), or None.

    Example:
        >>> guard = StopOnNaN()  # doctest: +SKIP
        >>> model.fit(x, y, epochs=5, callbacks=[guard], verbose=0)  # doctest: +SKIP
        >>> guard.bad_epoch  # None when the loss stayed finite  # doctest: +SKIP
    """

    def __init__(self, monitor: str = "loss"):
        super().__init__()
        self.monitor = monitor
        self.bad_epoch: int | None = None
        self.bad_value: float | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.bad_epoch = None
        self.bad_value = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        value = float(value)
        if not math.isfinite(value):
            self.bad_epoch = epoch + 1
            self.bad_value = value
            self.model.stop_training = True


class TrackedEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras ``EarlyStopping`` that also reports which epochs mattered, numbered from 1.

    Keras already records ``best_epoch`` and ``stopped_epoch`` (0-based, ``stopped_epoch``
    0 when it did not stop). This subclass adds 1-based views of them, the epoch whose
    weights end up in the model, and a check that the monitored value exists: when it is
    missing from the epoch's logs (a typo such as ``val_los``) training stops after the
    first epoch and :attr:`missing_monitor` lists the keys that do exist, instead of Keras'
    warning every epoch.

    Args:
        monitor: The history key to watch, e.g. ``val_loss``.
        min_delta: Smallest change that counts as an improvement.
        patience: Epochs without improvement before stopping.
        mode: ``auto``, ``min`` or ``max``.
        restore_best_weights: Whether the best epoch's weights are put back at the end.
        start_from_epoch: Epochs to wait before watching.

    Attributes:
        epochs_seen: Epochs that ended so far in the current ``fit``.
        missing_monitor: The available keys when the monitored one was missing, else None.
        mode_problem: Keras' message when ``mode="auto"`` cannot tell the direction, else None.
        resume_state: ``{wait, best, best_epoch}`` from a checkpoint, applied when training
            begins, so a resumed run stops where the uninterrupted one would have.

    Example:
        >>> stopping = TrackedEarlyStopping(monitor="val_loss", patience=10)  # doctest: +SKIP
        >>> model.fit(..., callbacks=[stopping])  # doctest: +SKIP
        >>> stopping.best_epoch_number, stopping.evaluated_epoch  # doctest: +SKIP
        (42, 52)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ):
        super().__init__(
            monitor=monitor,
            min_delta=min_delta,
            patience=patience,
            verbose=0,
            mode=mode,
            restore_best_weights=restore_best_weights,
            start_from_epoch=start_from_epoch,
        )
        self.epochs_seen = 0
        self.missing_monitor: tuple[str, ...] | None = None
        self.mode_problem: str | None = None
        self.resume_state: dict[str, Any] | None = None

    @classmethod
    def from_spec(cls, stopping: EarlyStoppingSpec) -> TrackedEarlyStopping:
        """Build it from ``[train.early_stopping]``.

        Args:
            stopping: The early-stopping section of the spec.

        Returns:
            The callback.

        Example:
            >>> TrackedEarlyStopping.from_spec(spec.train.early_stopping)  # doctest: +SKIP
        """
        return cls(
            monitor=stopping.monitor,
            min_delta=stopping.min_delta,
            patience=stopping.patience,
            mode=stopping.mode,
            restore_best_weights=stopping.restore_best_weights,
            start_from_epoch=stopping.start_from_epoch,
        )

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        self.epochs_seen = 0
        self.missing_monitor = None
        self.mode_problem = None
        if self.resume_state:  # a run going on from a checkpoint: keep counting where it stopped
            set_early_stopping_counters(
                self,
                wait=int(self.resume_state.get("wait", 0)),
                best=self.resume_state.get("best"),
                best_epoch=int(self.resume_state.get("best_epoch", 0)),
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epochs_seen = epoch + 1
        logs = logs or {}
        if self.monitor not in logs:
            self.missing_monitor = tuple(logs)
            self.model.stop_training = True
            return
        try:
            resolve_monitor_direction(self)
        except ValueError as err:
            self.mode_problem = str(err)
            self.model.stop_training = True
            return
        super().on_epoch_end(epoch, logs)

    @property
    def stopped_early(self) -> bool:
        """Whether it stopped training before the last epoch (patience ran out)."""
        return early_stopping_counters(self).stopped_epoch > 0

    @property
    def stopped_epoch_number(self) -> int | None:
        """The 1-based epoch after which it stopped training, or None."""
        stopped = early_stopping_counters(self).stopped_epoch
        return stopped + 1 if stopped > 0 else None

    @property
    def best_epoch_number(self) -> int | None:
        """The 1-based epoch with the best monitored value, or None when none was watched."""
        counters = early_stopping_counters(self)
        return counters.best_epoch + 1 if counters.best is not None else None

    @property
    def evaluated_epoch(self) -> int:
        """The 1-based epoch whose weights are in the model after training.

        The best epoch when ``restore_best_weights`` put its weights back (Keras does so
        at the end of training whether or not it stopped early), else the last epoch run.
        """
        counters = early_stopping_counters(self)
        if self.restore_best_weights and counters.kept_best_weights:
            return counters.best_epoch + 1
        return self.epochs_seen


def make_callbacks(
    train: TrainSpec,
    *,
    progress: keras.callbacks.Callback | None = None,
    extra: Sequence[keras.callbacks.Callback] = (),
) -> list[keras.callbacks.Callback]:
    """Assemble the callbacks of a run from ``[train]``.

    Always a :class:`~dlworkflow.training.interrupts.StopOnCtrlC` and a :class:`StopOnNaN`; a :class:`TrackedEarlyStopping` when
    ``train.early_stopping`` is set; then the user's ``extra`` callbacks; the progress
    display last, so it shows each epoch after the others have acted on it.

    Args:
        train: The ``[train]`` section.
        progress: A progress callback (e.g. :class:`~dlworkflow.training.progress.EpochProgress`),
            or None for none.
        extra: More callbacks to run, in order.

    Returns:
        The list to pass to ``model.fit(callbacks=...)``.

    Example:
        >>> make_callbacks(spec.train, progress=EpochProgress(quiet=True))  # doctest: +SKIP
        [<StopOnCtrlC ...>, <StopOnNaN ...>, <EpochProgress ...>]
    """
    callbacks: list[keras.callbacks.Callback] = [StopOnCtrlC(), StopOnNaN()]
    if train.early_stopping is not None:
        callbacks.append(TrackedEarlyStopping.from_spec(train.early_stopping))
    callbacks.extend(extra)
    if progress is not None:
        callbacks.append(progress)
    return callbacks


def tensorboard_callback(settings: TensorBoardSpec, log_dir: str | Path) -> keras.callbacks.Callback:
    """Keras' TensorBoard callback for ``[train.tensorboard]``, writing once per epoch.

    Logs go to ``log_dir/train`` and ``log_dir/validation``, with weight histograms every
    ``histogram_freq`` epochs, as the lesson's ``keras.callbacks.TensorBoard(log_dir,
    histogram_freq=1)``. Keras writes them with TensorFlow's summary writer, so a run on
    another backend imports TensorFlow for it. Values are written per epoch, never per batch,
    which keeps them exact with ``steps_per_execution`` above 1.

    Args:
        settings: The ``[train.tensorboard]`` section.
        log_dir: The folder for the logs (``tensorboard/`` in the run folder).

    Returns:
        The callback.

    Example:
        >>> callback = tensorboard_callback(spec.train.tensorboard, folder.path("tensorboard"))  # doctest: +SKIP
    """
    return keras.callbacks.TensorBoard(
        log_dir=str(log_dir), histogram_freq=settings.histogram_freq, update_freq="epoch", write_graph=False
    )
