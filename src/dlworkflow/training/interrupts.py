"""Ctrl-C stops training at the next batch, wherever in the process the signal landed.

Python turns SIGINT into a ``KeyboardInterrupt`` raised in whatever frame the main thread is
running. During ``fit`` that can be deep inside a library (a data iterator, a tree map in C++,
the XLA runtime), and there a Ctrl-C was seen lost: the run trained on to the end and was
recorded ``finished`` (about one run in five of the resume test, with a warm compilation
cache). :class:`StopOnCtrlC` keeps the default behaviour and also notes the signal, and raises
``KeyboardInterrupt`` itself at the end of the next batch, in a frame of its own, when the first
one did not stop the training. The runner then records the run as ``interrupted``, as for any
Ctrl-C.

Example:
    >>> model.fit(x, y, epochs=40, callbacks=[StopOnCtrlC()])  # doctest: +SKIP
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import keras


class StopOnCtrlC(keras.callbacks.Callback):
    """Make sure a Ctrl-C during ``fit`` stops it: ``KeyboardInterrupt`` at the next batch end.

    While training, SIGINT is handled here (only in the main thread, where Python runs signal
    handlers): the press is noted and ``KeyboardInterrupt`` raised as usual; if that one is
    lost in a library, the next batch or epoch end raises it again. The previous handler is
    put back when training ends or stops.

    Attributes:
        pressed: Whether Ctrl-C was pressed during this ``fit``.

    Example:
        >>> guard = StopOnCtrlC()
        >>> guard.on_train_begin()
        >>> guard.pressed
        False
        >>> guard.on_train_end()
    """

    def __init__(self) -> None:
        super().__init__()
        self.pressed = False
        self._previous: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.pressed = False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, number: int, frame: Any) -> None:
        self.pressed = True
        raise KeyboardInterrupt

    def _stop_if_pressed(self) -> None:
        if self.pressed:
            self.on_train_end()
            raise KeyboardInterrupt

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._stop_if_pressed()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._stop_if_pressed()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
