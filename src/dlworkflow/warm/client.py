"""Hand a ``dlw`` command to a warm worker when one runs, else say so (the command then runs here).

The command connects to the first backend's worker (:data:`~dlworkflow.warm.protocol.BACKENDS`),
passes its arguments, working directory, environment, umask and its standard input, output
and error, and waits for the exit status. While it waits, Ctrl-C, SIGTERM and SIGHUP are
passed on to the fork running the command, so that interrupting ``dlw run`` interrupts the
run as it would without a worker. When the command needs another backend the worker says
so and the command goes to that backend's worker. Whenever no worker can take it (none
runs, ``DLW_WORKER=off``, another environment, a changed installation) :func:`delegate`
returns None and nothing has happened yet.

Example:
    >>> import os
    >>> os.environ["DLW_WORKER"] = "off"
    >>> delegate(["runs"]) is None
    True
    >>> del os.environ["DLW_WORKER"]
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from dlworkflow.warm import protocol

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Signals the waiting command passes on to the fork running it."""


def delegate(argv: list[str]) -> int | None:
    """Run ``dlw ARGV`` in a warm worker and return its exit status; None when no worker takes it.

    Args:
        argv: The arguments after ``dlw``.

    Returns:
        The command's exit status, or None when it must run in this process.
    """
    if os.environ.get(protocol.SWITCH_VARIABLE, "").lower() in ("off", "0", "no", "false"):
        return None
    directory = protocol.worker_directory()
    if not protocol.is_private(directory):  # absent, or a folder others could plant a socket in
        return None
    backend: str | None = protocol.BACKENDS[0]
    tried: set[str] = set()
    request = None
    while backend is not None and backend not in tried:
        tried.add(backend)
        path = protocol.socket_path(backend, directory)
        if not path.exists():
            return None
        request = request or protocol.Request(list(argv), os.getcwd(), dict(os.environ), _umask(),
                                              protocol.fingerprint(os.environ), sys.path[0] if sys.path else "")
        outcome = _ask(path, request)
        if isinstance(outcome, int) or outcome is None:
            return outcome
        backend = outcome.handoff
    return None


def _ask(path: Path, request: protocol.Request) -> int | protocol.Reply | None:
    """Send the request to one worker: its exit status, a hand-off reply, or None (not served)."""
    try:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(5)
        connection.connect(str(path))
        if protocol.peer_uid(connection) not in (os.getuid(), None):  # not our worker: tell it nothing
            connection.close()
            return None
        protocol.send_message(connection, request.to_json(), [0, 1, 2])
    except OSError:
        return None
    with connection, _forwarding() as child:
        connection.settimeout(None)
        for reply in _replies(connection):
            if reply.started is not None:
                child.append(reply.started)
                if os.environ.get(protocol.SWITCH_VARIABLE, "").lower() == "verbose":
                    print(f"dlw worker: run by process {reply.started}, a fork of the worker at {path}",
                          file=sys.stderr)
            elif reply.exit_code is not None:
                return reply.exit_code
            elif reply.handoff is not None:
                return reply
            elif reply.cold is not None:
                if os.environ.get(protocol.SWITCH_VARIABLE, "").lower() == "verbose":
                    print(f"dlw worker: running here: {reply.cold}", file=sys.stderr)
                return None
    if child:  # the worker went away while its fork ran the command
        print(f"dlw worker: the worker stopped while process {child[0]} ran this command; "
              "its exit status is unknown (see `dlw runs`).", file=sys.stderr)
        return 1
    return None


def _replies(connection: socket.socket) -> Iterator[protocol.Reply]:
    """The reply lines until the worker closes the connection."""
    buffer = b""
    while True:
        try:
            chunk = connection.recv(4096)
        except InterruptedError:
            continue
        except OSError:
            return
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                yield protocol.Reply.from_line(line)
            except ValueError:  # a worker of another version: as if it had not answered
                return


@contextlib.contextmanager
def _forwarding() -> Iterator[list[int]]:
    """While inside, pass :data:`FORWARDED_SIGNALS` on to the process id put in the yielded list."""
    child: list[int] = []

    def forward(number: int, _frame: object) -> None:
        if child:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child[0], number)

    previous = {number: signal.signal(number, forward) for number in FORWARDED_SIGNALS}
    try:
        yield child
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
