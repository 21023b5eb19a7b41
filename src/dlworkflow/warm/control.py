"""Start, stop and list the warm workers of this installation (``dlw worker start|stop|status``).

Each worker is one process per Keras backend (:mod:`dlworkflow.warm.server`), started in its
own session so that it outlives the command that started it, with its log beside its socket.
A worker holds a lock file for its whole life: the lock tells whether it still runs, and
holds its process id.

Example:
    >>> from dlworkflow.warm.control import worker_states
    >>> [state.backend for state in worker_states(["jax"])]  # doctest: +SKIP
    ['jax']
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dlworkflow.errors import WorkflowError
from dlworkflow.warm import protocol

START_TIMEOUT_SECONDS = 180.0
"""How long ``dlw worker start`` waits for a worker to have imported everything and listen."""


class WorkerError(WorkflowError):
    """A worker could not be started or stopped."""

    exit_code = 1


@dataclass(frozen=True)
class WorkerState:
    """One backend's worker of this installation.

    Attributes:
        backend: Its Keras backend.
        pid: Its process id, or None when it does not run.
        socket: Where it listens.
        log: Its log file.
    """

    backend: str
    pid: int | None
    socket: Path
    log: Path

    @property
    def running(self) -> bool:
        """Whether the worker runs."""
        return self.pid is not None


def _files(backend: str, directory: Path) -> tuple[Path, Path, Path]:
    stem = f"{protocol.installation_key()}-{backend}"
    return directory / f"{stem}.lock", protocol.socket_path(backend, directory), directory / f"{stem}.log"


def worker_states(backends: list[str] | None = None) -> list[WorkerState]:
    """The state of each backend's worker.

    Args:
        backends: Which (default: all of :data:`~dlworkflow.warm.protocol.BACKENDS`).

    Returns:
        One state per backend, in that order.
    """
    directory = protocol.worker_directory()
    states = []
    for backend in backends or list(protocol.BACKENDS):
        lock, path, log = _files(backend, directory)
        states.append(WorkerState(backend, _holder(lock), path, log))
    return states


def _holder(lock: Path) -> int | None:
    """The process id written in a lock that a live process holds, else None."""
    try:
        handle = open(lock)  # noqa: SIM115
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def start_workers(backends: list[str], idle_minutes: float) -> list[WorkerState]:
    """Start a worker for each backend that has none running, and wait until each listens.

    Args:
        backends: Keras backends (each must be installed).
        idle_minutes: Minutes without a command after which a worker stops.

    Returns:
        The states of those workers.

    Raises:
        WorkerError: when a worker ends before it listens (its log's last lines say why).
    """
    directory = protocol.worker_directory()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not protocol.is_private(directory):
        raise WorkerError.single(str(directory), "", "the workers' folder must be yours and writable by you only "
                                 "(commands would send their environment to a socket planted there)",
                                 hint=f"`chmod go-w {directory}` if it is yours, else set {protocol.DIRECTORY_VARIABLE} "
                                      "to a folder of your own.")
    started = []
    for state in worker_states(backends):
        if state.running:
            continue
        with open(state.log, "ab") as log:
            command = [sys.executable, "-m", "dlworkflow.warm.server", "--backend", state.backend,
                       "--idle-minutes", str(idle_minutes)]
            # in the workers' folder: no module of the caller's folder shadows a library
            started.append((state, subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                                    start_new_session=True, close_fds=True, cwd=directory)))
    for state, process in started:
        _wait_listening(state, process)
    return worker_states(backends)


def _wait_listening(state: WorkerState, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if _holder(_files(state.backend, state.socket.parent)[0]):  # another start won the race
                return
            tail = "\n".join(state.log.read_text(errors="replace").splitlines()[-8:])
            raise WorkerError.single(str(state.log), "", f"the {state.backend} worker stopped while starting "
                                     f"(exit status {process.returncode})", hint=f"The log ends:\n{tail}")
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(str(state.socket))
            return
        time.sleep(0.1)
    process.terminate()
    raise WorkerError.single(str(state.log), "", f"the {state.backend} worker did not listen within "
                             f"{START_TIMEOUT_SECONDS:.0f} s", hint="Its log says what it was doing.")


def stop_workers(backends: list[str] | None = None, timeout: float = 60.0) -> list[WorkerState]:
    """Stop the running workers: each stops listening at once and ends after the commands it runs.

    Args:
        backends: Which (default: all).
        timeout: Seconds to wait for each to end.

    Returns:
        The states of the workers that were running, as they were.

    Raises:
        WorkerError: when a worker is still running after ``timeout`` (it still runs a command).
    """
    running = [state for state in worker_states(backends) if state.running and state.pid and state.pid > 0]
    for state in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for state in running:
        while _holder(_files(state.backend, state.socket.parent)[0]) is not None:
            if time.monotonic() > deadline:
                raise WorkerError.single(str(state.socket), "", f"the {state.backend} worker {state.pid} still "
                                         f"runs a command after {timeout:.0f} s",
                                         hint="It stops by itself when that command ends.")
            time.sleep(0.05)
    return running
