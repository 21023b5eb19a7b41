"""The warm worker: Keras and dlw's libraries imported once, each command run in a fork of it.

Importing Keras with JAX and the libraries dlw uses takes about three seconds on a laptop's
CPU, more than training the lesson's weather model. A worker pays that once: it imports
them, listens on a Unix socket readable by its user only (:func:`~dlworkflow.warm.protocol.socket_path`)
and, for each command, forks. The fork takes the command's standard input, output and
error, working directory, environment, umask and arguments, and runs the ``dlw`` command
line as a fresh process would, with everything already imported; the worker sends back
its exit status. Nothing of one command stays for the next: each fork ends with its command.

The worker imports libraries but never starts a backend (no device, no thread pool of
XLA), so that forking is safe. A command that needs the other backend (a convolutional
network trains on TensorFlow) is handed back to the command, which sends it to that
backend's worker or runs it in its own process. The worker stops after ``idle_minutes``
without a command, on ``dlw worker stop`` (SIGTERM: it stops listening at once and waits
for the commands it runs), or when dlworkflow or an installed package changes.

Example:
    $ python -m dlworkflow.warm.server --backend jax --idle-minutes 60   # what `dlw worker start` runs
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib
import os
import selectors
import signal
import socket
import sys
import time
from pathlib import Path

from dlworkflow.warm import protocol
from dlworkflow.warm.fork import run_command

PRELOADED_MODULES = (
    "numpy", "pandas", "pandas.io.formats.csvs", "pyarrow", "scipy.stats", "sklearn.linear_model", "sklearn.dummy",
    "sklearn.metrics", "sklearn.preprocessing", "sklearn.feature_extraction.text", "matplotlib", "matplotlib.figure",
    "matplotlib.backends.backend_agg", "PIL.Image", "PIL.PngImagePlugin", "PIL.JpegImagePlugin", "typer", "rich.console",
    "rich.table", "pydantic", "sqlite3", "sqlalchemy", "sqlalchemy.dialects.sqlite", "alembic.command",
    "alembic.runtime.migration", "alembic.autogenerate", "mako.template", "tomllib", "tomli_w", "jinja2",
    "pygments.lexers", "pygments.formatters.html", "concurrent.futures.thread", "jaxlib.mlir.dialects.mhlo",
    "jaxlib.mlir.extras",
)
"""Libraries a worker imports besides Keras and dlworkflow's own modules: those ``dlw run`` imports inside functions."""

NOT_PRELOADED = ("dlworkflow.launch", "dlworkflow.warm", "dlworkflow.__main__", "dlworkflow.cli.__main__")
"""dlworkflow's modules a worker does not import (the command line's consoles it imports are set up again in
each fork, for the command's terminal: :func:`dlworkflow.cli.application.reset_consoles`)."""


HANDLED_SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
"""Signals the worker handles itself, and a command's fork handles as a fresh process does."""


class WorkerServer:
    """A listening worker and the forks running its commands.

    Args:
        backend: The Keras backend it has imported.
        directory: The folder of its socket, lock, process id and log.
        idle_seconds: How long it waits for a command before it stops.
        fingerprint: What a command must match to be served (:func:`~dlworkflow.warm.protocol.fingerprint`
            of the worker's start-up environment).
    """

    def __init__(self, backend: str, directory: Path, idle_seconds: float, fingerprint: dict) -> None:
        self.backend = backend
        self.directory = directory
        self.idle_seconds = idle_seconds
        self.fingerprint = fingerprint
        self.path = protocol.socket_path(backend, directory)
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, socket.socket] = {}
        self.listener: socket.socket | None = None
        self.stopping = False
        self.deadline = time.monotonic() + idle_seconds
        self.pid = os.getpid()

    def listen(self) -> None:
        """Bind the socket (after the lock says no other worker of this backend runs) and take signals."""
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, 0o600)
        listener.listen(16)
        self.listener = listener
        self.selector.register(listener, selectors.EVENT_READ, "accept")
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        self.selector.register(wake_read, selectors.EVENT_READ, "signal")
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: self.stop_listening())
        signal.signal(signal.SIGINT, lambda *_: self.stop_listening())
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def stop_listening(self) -> None:
        """Take no more commands (new ones run in their own processes); finish the running ones, then stop."""
        if os.getpid() != self.pid:  # never in a fork: the socket's path is the worker's
            return
        self.stopping = True
        if self.listener is not None:
            self.selector.unregister(self.listener)
            self.listener.close()
            self.listener = None
            self.path.unlink(missing_ok=True)

    def serve(self) -> None:
        """Serve commands until stopped, or idle for ``idle_seconds``, with no command left running."""
        while not (self.stopping and not self.children):
            timeout = None if self.children or self.stopping else max(0.0, self.deadline - time.monotonic())
            events = self.selector.select(timeout)
            if not events and not self.children and time.monotonic() >= self.deadline:
                self.stop_listening()
            for key, _mask in events:
                if key.data == "accept" and self.listener is not None:
                    self.accept()
                elif key.data == "signal":
                    with contextlib.suppress(OSError):
                        os.read(key.fd, 512)
                    self.reap()
                elif isinstance(key.data, int):
                    self.client_readable(key.data, key.fileobj)

    def accept(self) -> None:
        """Read one request and fork its command, or say why it runs elsewhere."""
        connection, _ = self.listener.accept()
        self.deadline = time.monotonic() + self.idle_seconds
        descriptors: list[int] = []
        try:
            connection.settimeout(10)
            peer_uid = protocol.peer_uid(connection)
            payload, descriptors = protocol.receive_message(connection, 3)
            request = protocol.Request.from_json(payload)
        except (OSError, ValueError) as error:
            protocol.close_descriptors(descriptors)
            print(f"dlw worker: a request could not be read: {error}", file=sys.stderr, flush=True)
            with contextlib.suppress(OSError):
                connection.sendall(protocol.Reply(cold=f"the worker could not read the request: {error}").to_line())
            connection.close()
            return
        reason = self.refusal(request, peer_uid, descriptors)
        if reason is not None:
            protocol.close_descriptors(descriptors)
            with contextlib.suppress(OSError):
                connection.sendall(protocol.Reply(cold=reason).to_line())
            connection.close()
            if reason == protocol.STALE_INSTALLATION:
                self.stop_listening()  # stale for every later command too
            return
        # Signals wait until the fork has its own handlers: a SIGTERM sent to a fork that has
        # just started must end it, not run the worker's handler in it.
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
        pid = os.fork()
        if pid == 0:
            self._become_command(connection, request, descriptors)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED_SIGNALS)
        protocol.close_descriptors(descriptors)
        connection.settimeout(None)
        self.children[pid] = connection
        self.selector.register(connection, selectors.EVENT_READ, pid)
        with contextlib.suppress(OSError):
            connection.sendall(protocol.Reply(started=pid).to_line())

    def refusal(self, request: protocol.Request, peer_uid: int | None, descriptors: list[int]) -> str | None:
        """Why this worker does not run the request (None when it does)."""
        if peer_uid is not None and peer_uid != os.getuid():
            return "the command belongs to another user"
        if len(descriptors) != 3:
            return "the command did not pass its standard input, output and error"
        if self.stopping:
            return "the worker is stopping"
        return protocol.fingerprint_difference(self.fingerprint, request.fingerprint)

    def _become_command(self, connection: socket.socket, request: protocol.Request, descriptors: list[int]) -> None:
        """In the fork: drop the worker's sockets and signal handling, then run the command (never returns)."""
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED_SIGNALS)  # blocked by the worker around fork()
        if self.listener is not None:
            self.listener.close()
        for other in self.children.values():
            other.close()
        self.selector.close()
        run_command(connection, request, descriptors, self.backend)

    def client_readable(self, pid: int, connection: socket.socket) -> None:
        """The command's process went away before its fork ended (killed): end the fork too."""
        try:
            data = connection.recv(1)
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(connection)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def reap(self) -> None:
        """Send each ended fork's exit status to its command."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            connection = self.children.pop(pid, None)
            if connection is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            code = 128 - code if code < 0 else code
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(connection)
            if code != protocol.HANDOFF_EXIT_CODE:
                with contextlib.suppress(OSError):
                    connection.sendall(protocol.Reply(exit_code=code).to_line())
            connection.close()
            self.deadline = time.monotonic() + self.idle_seconds


def preload(backend: str) -> None:
    """Import Keras with ``backend``, :data:`PRELOADED_MODULES` and dlworkflow's modules, and draw one plot; start no backend.

    A module that cannot be imported (an optional library not installed) is skipped.
    """
    from dlworkflow.training.backend import activate_backend

    activate_backend(backend)
    if backend == "tensorflow":
        import tensorflow  # noqa: F401  (Keras imports it lazily in places)
    for name in (*PRELOADED_MODULES, *_own_modules()):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from dlworkflow.evaluation.plots import warm_up_drawing

    warm_up_drawing()  # Matplotlib's caches of styles and text layout, filled once for every fork


def _own_modules() -> list[str]:
    """dlworkflow's modules but :data:`NOT_PRELOADED`, found from its files (importing none of them)."""
    root = Path(__file__).resolve().parents[1]
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(NOT_PRELOADED):
            names.append(name)
    return names


def main(argv: list[str] | None = None) -> None:
    """Start a worker for one backend (``dlw worker start`` runs this in its own session)."""
    parser = argparse.ArgumentParser(prog="python -m dlworkflow.warm.server", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=protocol.BACKENDS, required=True)
    parser.add_argument("--idle-minutes", type=float, default=60.0)
    options = parser.parse_args(argv)
    directory = protocol.worker_directory()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = open(directory / f"{protocol.installation_key()}-{options.backend}.lock", "a+")  # noqa: SIM115  held for life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"dlw worker: a {options.backend} worker already runs here", file=sys.stderr)
        return
    fingerprint = protocol.fingerprint(os.environ)
    preload(options.backend)
    server = WorkerServer(options.backend, directory, options.idle_minutes * 60, fingerprint)
    server.listen()
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    print(f"dlw worker: {options.backend} worker {os.getpid()} listening on {server.path}", file=sys.stderr, flush=True)
    try:
        server.serve()
    finally:
        if server.listener is not None:
            server.path.unlink(missing_ok=True)
        print(f"dlw worker: {options.backend} worker {os.getpid()} stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
