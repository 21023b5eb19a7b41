"""One command in a fork of a warm worker: become the command's process, run ``dlw``, exit with its status.

The fork takes over the command's standard streams (the descriptors it passed), working
directory, environment, umask and arguments, rebuilds ``sys.stdin``/``stdout``/``stderr``
as Python builds them at start-up (line-buffered on a terminal), and calls the command
line's ``main``. A command that needs another Keras backend than the worker's is stopped
before it has done anything (:func:`dlworkflow.training.backend.on_backend_mismatch`) and
its command is told which backend to ask for. Non-daemon threads are joined and exit
handlers run, as at the end of an interpreter, and the fork ends with ``os._exit``, so that
nothing of the worker's own code runs in it afterwards.

Example:
    >>> from dlworkflow.warm.fork import exit_code_of
    >>> exit_code_of(SystemExit(None)), exit_code_of(SystemExit(4)), exit_code_of(SystemExit("no"))
    (0, 4, 1)
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import sys
import threading
import traceback
import types
from typing import NoReturn

from dlworkflow.warm import protocol


class BackendHandoff(BaseException):
    """The command needs the Keras backend ``wanted``; raised before it did anything."""

    def __init__(self, wanted: str) -> None:
        super().__init__(wanted)
        self.wanted = wanted


def run_command(connection: socket.socket, request: protocol.Request, descriptors: list[int], backend: str) -> NoReturn:
    """Run one ``dlw`` command in this (forked) process and end the process with its exit status.

    Args:
        connection: The socket to the command's own process (for a hand-off reply).
        request: What to run, and where.
        descriptors: Its standard input, output and error.
        backend: The worker's Keras backend.
    """
    code = 1
    try:
        _take_over(request, descriptors)
        code = _run_cli(backend)
    except BackendHandoff as handoff:
        with contextlib.suppress(OSError):
            connection.sendall(protocol.Reply(handoff=handoff.wanted).to_line())
        code = protocol.HANDOFF_EXIT_CODE
    except BaseException:  # noqa: BLE001  (a bug in the worker: said on the command's stderr, never lost)
        traceback.print_exc()
    finally:
        _finish()
        os._exit(code)


def _take_over(request: protocol.Request, descriptors: list[int]) -> None:
    """Become the command's process: its streams, folder, environment, umask and arguments."""
    for target, descriptor in zip((0, 1, 2), descriptors, strict=True):
        if descriptor != target:
            os.dup2(descriptor, target)
            os.close(descriptor)
    encoding, errors = sys.stdout.encoding, sys.stdout.errors
    sys.stdin = sys.__stdin__ = open(0, encoding=encoding, errors=errors, closefd=False)  # noqa: SIM115
    sys.stdout = sys.__stdout__ = open(1, "w", buffering=1 if os.isatty(1) else -1,  # noqa: SIM115
                                       encoding=encoding, errors=errors, closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, encoding=encoding,  # noqa: SIM115
                                       errors="backslashreplace", closefd=False)
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.environment)
    os.umask(request.umask)
    sys.argv = ["dlw", *request.argv]
    sys.modules["__main__"] = types.ModuleType("__main__")  # as under the console script (Click names the program from it)
    if sys.path:
        sys.path[0] = request.script_folder  # the worker's own first entry is its start-up folder
    numpy = sys.modules.get("numpy")
    if numpy is not None:  # as in a fresh process (Python's own random module reseeds after a fork by itself)
        numpy.random.seed()


def _run_cli(backend: str) -> int:
    """Run the command line as ``dlw`` would, a backend mismatch raising :class:`BackendHandoff`."""
    from dlworkflow.training.backend import (
        enable_compilation_cache,
        on_backend_mismatch,
    )

    def hand_off(wanted: str) -> None:
        raise BackendHandoff(wanted)

    on_backend_mismatch(hand_off)
    if backend == "jax":
        enable_compilation_cache()  # where this command's environment says
    from dlworkflow.cli import main
    from dlworkflow.cli.application import reset_consoles

    reset_consoles()  # imported by the worker, for its own (absent) terminal

    try:
        main()
    except SystemExit as ending:
        return exit_code_of(ending)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    return 0


def exit_code_of(ending: SystemExit) -> int:
    """The process exit status Python gives a ``SystemExit`` (a message is printed, as Python does)."""
    if ending.code is None:
        return 0
    if isinstance(ending.code, int):
        return ending.code & 0xFF
    print(ending.code, file=sys.stderr)
    return 1


def _finish() -> None:
    """End as an interpreter ends: join non-daemon threads, run exit handlers, flush the streams."""
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon and thread.is_alive():
            with contextlib.suppress(RuntimeError):
                thread.join()
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
