"""What a ``dlw`` command and a warm worker say to each other, and where the worker listens.

A warm worker (:mod:`dlworkflow.warm.server`) is a process that has imported Keras with one
backend, and the libraries dlw uses, before any command arrives; each command is run in a
fork of it, so it starts with all of that imported. The command (:mod:`dlworkflow.warm.client`)
connects to the worker's Unix socket, sends a :class:`Request` with its standard input,
output and error as file descriptors, and reads :class:`Reply` lines until the exit status.

A worker serves only commands that would import the same code with the same settings: the
:func:`fingerprint` of the process (Python, installed packages, dlworkflow's own files, the
environment variables that change what an import does) must be the worker's. Any other
command runs in its own process, as without a worker.

Example:
    >>> import os
    >>> socket_path("jax", Path("/tmp/w")).name.endswith("-jax.sock")
    True
    >>> fingerprint({"HOME": "/h", "JAX_ENABLE_X64": "1", "TERM": "xterm"})["environment"]
    {'HOME': '/h', 'JAX_ENABLE_X64': '1'}
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dlworkflow

DIRECTORY_VARIABLE = "DLW_WORKER_DIR"
"""Environment variable naming the folder of the workers' sockets (default: per user, see :func:`worker_directory`)."""

SWITCH_VARIABLE = "DLW_WORKER"
"""``DLW_WORKER=off`` makes every command run in its own process even when a worker is running."""

BACKENDS = ("jax", "tensorflow")
"""The backends a worker can be started for, the first being where commands go first."""

IMPORT_VARIABLE_PREFIXES = ("KERAS_", "JAX_", "XLA_", "TF_", "CUDA_", "NVIDIA_", "LD_", "PYTHON", "OMP_", "MKL_",
                            "OPENBLAS_", "MPL", "LC_", "LANG", "ARROW_", "TORCH_")
"""Environment variables read when libraries are imported: a worker serves a command only when they are equal."""

IMPORT_VARIABLES = ("HOME", "XDG_CONFIG_HOME", "VIRTUAL_ENV", "DLW_FUSED_EPOCH")
"""Single variables of the same kind (Keras reads ``~/.keras/keras.json``, Matplotlib its ``matplotlibrc``)."""

HANDOFF_EXIT_CODE = 75
"""Exit code of a worker's fork that handed its command to a worker of another backend (EX_TEMPFAIL)."""

STALE_INSTALLATION = "dlworkflow or an installed package changed since the worker started"
"""The refusal after which a worker serves no later command either (it stops listening)."""

MESSAGE_LIMIT = 4 * 1024 * 1024
"""The longest request a worker reads, in bytes."""


@dataclass(frozen=True)
class Request:
    """One command for a worker.

    Attributes:
        argv: The command's arguments after ``dlw``.
        cwd: Its working directory.
        environment: Its whole environment.
        umask: Its file-creation mask.
        fingerprint: :func:`fingerprint` of the process that sends it.
        script_folder: Its ``sys.path[0]`` (the ``dlw`` script's folder), which the fork takes.

    Example:
        >>> Request.from_json(Request(["runs"], "/", {}, 0o22, {}).to_json()).argv
        ['runs']
    """

    argv: list[str]
    cwd: str
    environment: dict[str, str]
    umask: int
    fingerprint: dict[str, Any] = field(default_factory=dict)
    script_folder: str = ""

    def to_json(self) -> bytes:
        """The request as one UTF-8 JSON document."""
        return json.dumps(asdict(self)).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Request:
        """Read a request written by :meth:`to_json` (of this or another dlworkflow version: unknown fields are left out).

        Raises:
            ValueError: when it is not a request.
        """
        fields = json.loads(data.decode("utf-8"))
        if not isinstance(fields, dict):
            raise ValueError("a request is a JSON object")  # noqa: TRY004  (one kind of error for any unreadable request)
        try:
            return cls(**{name: value for name, value in fields.items() if name in cls.__dataclass_fields__})
        except TypeError as error:
            raise ValueError(f"not a request: {error}") from None


@dataclass(frozen=True)
class Reply:
    """One line from a worker to the command: exactly one field is set.

    Attributes:
        started: The process id of the fork that runs the command.
        exit_code: How the command ended (a signal ``n`` is ``128 + n``, as a shell says).
        cold: Why the worker does not serve this command (the command then runs in its own process).
        handoff: The backend the command needs, which this worker does not have.

    Example:
        >>> Reply.from_line(Reply(exit_code=3).to_line())
        Reply(started=None, exit_code=3, cold=None, handoff=None)
    """

    started: int | None = None
    exit_code: int | None = None
    cold: str | None = None
    handoff: str | None = None

    def to_line(self) -> bytes:
        """The reply as one JSON line."""
        return json.dumps({key: value for key, value in asdict(self).items() if value is not None}).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Reply:
        """Read a reply written by :meth:`to_line` (unknown fields, from another version, are left out).

        Raises:
            ValueError: when the line is not a reply.
        """
        fields = json.loads(line.decode("utf-8"))
        if not isinstance(fields, dict):
            raise ValueError("a reply is a JSON object")  # noqa: TRY004  (one kind of error for any unreadable reply)
        return cls(**{name: value for name, value in fields.items() if name in cls.__dataclass_fields__})


def worker_directory(environment: Mapping[str, str] | None = None) -> Path:
    """The folder of the workers' sockets, process ids and logs: readable by its owner only.

    ``$DLW_WORKER_DIR``, else ``$XDG_RUNTIME_DIR/dlworkflow``, else ``/tmp/dlworkflow-<uid>``.

    Example:
        >>> worker_directory({"DLW_WORKER_DIR": "/tmp/w"})
        PosixPath('/tmp/w')
    """
    environment = os.environ if environment is None else environment
    if environment.get(DIRECTORY_VARIABLE):
        return Path(environment[DIRECTORY_VARIABLE]).expanduser()
    if environment.get("XDG_RUNTIME_DIR"):
        return Path(environment["XDG_RUNTIME_DIR"]) / "dlworkflow"
    return Path("/tmp") / f"dlworkflow-{os.getuid()}"


def installation_key() -> str:
    """A short key of this Python and this dlworkflow: workers of other environments listen elsewhere.

    Example:
        >>> len(installation_key())
        10
    """
    where = f"{sys.executable}\0{Path(dlworkflow.__file__).resolve().parent}"
    return hashlib.sha256(where.encode()).hexdigest()[:10]


def socket_path(backend: str, directory: Path | None = None) -> Path:
    """The Unix socket of this installation's worker for ``backend``.

    Example:
        >>> socket_path("tensorflow", Path("/tmp/w")).parent
        PosixPath('/tmp/w')
    """
    return (directory or worker_directory()) / f"{installation_key()}-{backend}.sock"


def source_stamp() -> float:
    """The newest modification time of dlworkflow's own files and of the installed packages' folders.

    Editing dlworkflow (an editable install) or installing a package changes it, and a worker
    started before then no longer serves commands.

    Example:
        >>> source_stamp() > 0
        True
    """
    package = Path(dlworkflow.__file__).resolve().parent
    newest = max((entry.stat().st_mtime for entry in package.rglob("*.py")), default=0.0)
    for folder in sys.path:
        if folder.endswith(("site-packages", "dist-packages")):
            try:
                newest = max(newest, os.stat(folder).st_mtime)
            except OSError:
                continue
    return newest


def fingerprint(environment: Mapping[str, str]) -> dict[str, Any]:
    """What must be equal between a worker and a command it serves.

    Args:
        environment: The command's (or, for the worker, its start-up) environment.

    Returns:
        The Python executable and path, dlworkflow's version, :func:`source_stamp`, and the
        environment variables of :data:`IMPORT_VARIABLE_PREFIXES` and :data:`IMPORT_VARIABLES`.

    Example:
        >>> fingerprint({})["executable"] == sys.executable
        True
    """
    chosen = {name: value for name, value in sorted(environment.items())
              if name.startswith(IMPORT_VARIABLE_PREFIXES) or name in IMPORT_VARIABLES}
    return {
        "executable": sys.executable,
        "path": list(sys.path[1:]),  # the first entry is the script's folder, which differs between launchers
        "version": getattr(dlworkflow, "__version__", ""),
        "stamp": source_stamp(),
        "environment": chosen,
    }


def fingerprint_difference(worker: Mapping[str, Any], command: Mapping[str, Any]) -> str | None:
    """Why a worker with fingerprint ``worker`` cannot serve ``command`` (None when it can).

    Example:
        >>> fingerprint_difference({"environment": {"A_X": "1"}}, {"environment": {}})
        'the environment variable A_X differs (the worker has 1, the command has it unset)'
    """
    for key in ("executable", "path", "version", "stamp"):
        if worker.get(key) != command.get(key):
            return STALE_INSTALLATION if key == "stamp" else f"the {key} differs"
    ours, theirs = worker.get("environment", {}), command.get("environment", {})
    for name in sorted(set(ours) | set(theirs)):
        if ours.get(name) != theirs.get(name):
            return (f"the environment variable {name} differs (the worker has {ours.get(name, 'it unset')}, "
                    f"the command has {theirs.get(name, 'it unset')})")
    return None


def peer_uid(connection: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket (Linux), else None.

    Example:
        >>> left, right = socket.socketpair(); peer_uid(left) in (os.getuid(), None)
        True
    """
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    credentials = connection.getsockopt(socket.SOL_SOCKET, option, 12)
    return int.from_bytes(credentials[4:8], sys.byteorder)


def is_private(directory: Path) -> bool:
    """Whether a folder belongs to this user and no one else may create files in it.

    A command sends its environment (passwords in a registry URL among it) and its terminal
    to whatever listens on a worker's socket: only a socket in such a folder is trusted.

    Example:
        >>> is_private(Path("/tmp"))  # everyone may create files there
        False
    """
    try:
        status = directory.stat()
    except OSError:
        return False
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def send_message(connection: socket.socket, payload: bytes, descriptors: list[int] | None = None) -> None:
    """Send a length-prefixed message, with file descriptors riding on its first bytes.

    Example:
        >>> left, right = socket.socketpair()
        >>> send_message(left, b"hello"); receive_message(right)[0]
        b'hello'
    """
    data = len(payload).to_bytes(4, "big") + payload
    sent = socket.send_fds(connection, [data], descriptors) if descriptors else connection.send(data)
    if sent < len(data):
        connection.sendall(data[sent:])


def receive_message(connection: socket.socket, descriptor_count: int = 0) -> tuple[bytes, list[int]]:
    """Receive one message sent by :func:`send_message`, with the descriptors that came with it.

    The descriptors are closed when the message cannot be read: a command's standard output
    held open by a worker would keep whoever reads it waiting for its end.

    Raises:
        ConnectionError: when the peer closes before the whole message, or it is over
            :data:`MESSAGE_LIMIT`.
    """
    first, descriptors, _flags, _address = socket.recv_fds(connection, 65536, descriptor_count)
    try:
        if len(first) < 4:
            first += _exactly(connection, 4 - len(first))
        size = int.from_bytes(first[:4], "big")
        if size > MESSAGE_LIMIT:
            raise ConnectionError(f"a message of {size} bytes is over the limit of {MESSAGE_LIMIT}")
        body = first[4:]
        if len(body) < size:
            body += _exactly(connection, size - len(body))
    except BaseException:
        close_descriptors(descriptors)
        raise
    return body, list(descriptors)


def close_descriptors(descriptors: list[int]) -> None:
    """Close file descriptors, those already closed aside.

    Example:
        >>> close_descriptors([])
    """
    for descriptor in descriptors:
        try:
            os.close(descriptor)
        except OSError:
            continue


def _exactly(connection: socket.socket, count: int) -> bytes:
    chunks = []
    while count > 0:
        chunk = connection.recv(min(count, 65536))
        if not chunk:
            raise ConnectionError("the other side closed the connection in the middle of a message")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)
