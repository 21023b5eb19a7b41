"""Checkpoints written beside training, on a thread of their own: the latest one only.

:class:`~dlworkflow.training.checkpoint.EpochCheckpoint` copies an epoch's state off the
device at the end of the epoch (a few arrays: microseconds for the lesson's models) and hands
it to a :class:`BackgroundWriter`; zipping the arrays (``np.savez``), dumping the history as
JSON and renaming the files (about 3 ms an epoch, 0.6 s over the weather run's 200 epochs) then
happen while the next epoch trains. When the writer is still busy as the next
epoch ends, the waiting state is replaced by the newer one: the files on disk always hold one
whole checkpoint (each is written under a temporary name and renamed), at most an epoch or two
behind while training and the last epoch once :meth:`BackgroundWriter.flush` returns, which
the callback calls at the end of ``fit`` and the trainer however ``fit`` ends (a Ctrl-C
included). An error of the writer (a full disk, a read-only folder) is raised again in the
training thread at the next epoch's end or at the flush.

The thread blocks every signal, as the run's heartbeat does, so a Ctrl-C always reaches the
main thread; it ends as soon as nothing waits to be written, so none outlives a ``fit``.

Example:
    >>> written = []
    >>> writer = BackgroundWriter(written.append)
    >>> writer.submit(1); writer.submit(2); writer.flush()
    >>> written[-1]
    2
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any


class BackgroundWriter:
    """Run ``write(item)`` on a thread for the newest submitted item, skipping those overtaken while it was busy.

    Args:
        write: Writes one item (a checkpoint's arrays and state); its exceptions are kept and
            raised again by the next :meth:`submit` or :meth:`flush`.

    Example:
        >>> writer = BackgroundWriter(print)
        >>> writer.submit("epoch 1"); writer.flush()
        epoch 1
    """

    def __init__(self, write: Callable[[Any], None]):
        self._write = write
        self._lock = threading.Lock()
        self._pending: Any = None
        self._has_pending = False
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, item: Any) -> None:
        """Have ``item`` written soon, instead of any item still waiting (not the one being written).

        Args:
            item: What ``write`` takes.

        Raises:
            BaseException: what an earlier ``write`` raised (an ``OSError`` of a full disk).
        """
        self._raise_error()
        with self._lock:
            self._pending, self._has_pending = item, True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dlw-checkpoint", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Wait until the last submitted item is written.

        Raises:
            BaseException: what a ``write`` raised since the last check.
        """
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self) -> None:
        if hasattr(signal, "pthread_sigmask"):  # signals are for the main thread (see registry.recovery.Heartbeat)
            signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        while True:
            with self._lock:
                if not self._has_pending:
                    self._thread = None
                    return
                item, self._pending, self._has_pending = self._pending, None, False
            try:
                self._write(item)
            except BaseException as err:  # noqa: BLE001 - handed to the training thread, raised there
                with self._lock:
                    self._error = err
                    self._pending, self._has_pending, self._thread = None, False, None
                return
