"""A throwaway PostgreSQL server for the test suite: Debian's ``postgresql`` programs, a temporary data folder.

The registry (and the tuner's storage) can live on PostgreSQL, so the tests run them against
a real server as well as SQLite. :meth:`PostgresServer.start` creates a cluster in a new
temporary folder (``initdb``), starts ``postgres`` on 127.0.0.1 at a free port with a
generated password, and waits until it answers; :meth:`PostgresServer.create_database` hands
out a fresh, empty database per test; :meth:`PostgresServer.stop` shuts the server down and
deletes the folder.

PostgreSQL refuses to run as root: under root the programs run as the ``postgres`` system
user that the Debian package creates (the data folder is handed to it). Durability is
switched off (``fsync``, ``synchronous_commit``, ``full_page_writes``): the data is thrown
away anyway, and transactions, locks and isolation, what the tests are about, are unchanged.

Example:
    >>> server = PostgresServer.start()          # doctest: +SKIP
    >>> url = server.create_database()           # doctest: +SKIP
    >>> url                                      # doctest: +SKIP
    'postgresql+psycopg://dlw:...@127.0.0.1:40213/test_1'
    >>> server.stop()                            # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

SERVER_PROGRAMS = ("initdb", "postgres")
"""The programs of the Debian package ``postgresql`` that a test server needs."""

USER = "dlw"
"""The server's superuser; the URLs handed out connect as this user."""

SYSTEM_USER = "postgres"
"""The unprivileged system user that runs the server when the tests run as root."""

START_TIMEOUT_SECONDS = 60.0
"""How long to wait for a started server to accept connections."""

STOP_TIMEOUT_SECONDS = 30.0
"""How long to wait for a fast shutdown before killing the server."""

INSTALL_HINT = "install Debian's package: apt-get install postgresql"


class PostgresUnavailable(RuntimeError):
    """This machine cannot run a PostgreSQL server for the tests (the tests that need one skip)."""


def find_programs() -> Path:
    """Return the folder holding ``initdb`` and ``postgres``.

    Debian keeps them out of ``PATH``, in ``/usr/lib/postgresql/<major>/bin``; the newest
    version there wins, else a folder on ``PATH`` that has both (other systems).

    Returns:
        The folder.

    Raises:
        PostgresUnavailable: If no folder has both programs.

    Example:
        >>> find_programs()  # doctest: +SKIP
        PosixPath('/usr/lib/postgresql/15/bin')
    """
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major_version, reverse=True)
    on_path = [str(Path(found).parent) for found in [shutil.which("initdb")] if found]
    for folder in [*debian, *on_path]:
        if all(os.access(Path(folder, program), os.X_OK) for program in SERVER_PROGRAMS):
            return Path(folder)
    raise PostgresUnavailable(f"needs PostgreSQL's server programs initdb and postgres ({INSTALL_HINT})")


def _major_version(folder: str) -> int:
    version = Path(folder).parent.name
    return int(version) if version.isdigit() else 0


class PostgresServer:
    """A PostgreSQL server in a temporary folder, on 127.0.0.1, for one test session.

    Attributes:
        port: The TCP port it listens on (127.0.0.1 only).
        password: The generated password of :data:`USER`.
        folder: The temporary folder (data folder ``data/``, log ``server.log``).

    Example:
        >>> server = PostgresServer.start()          # doctest: +SKIP
        >>> engine = sqlalchemy.create_engine(server.create_database())  # doctest: +SKIP
        >>> server.stop()                            # doctest: +SKIP
    """

    def __init__(self, process: subprocess.Popen[bytes], port: int, password: str, folder: Path):
        """Wrap a started server; use :meth:`start` instead."""
        self._process = process
        self.port = port
        self.password = password
        self.folder = folder
        self._databases = 0
        self._admin: Any = None

    # ------------------------------------------------------------------ starting and stopping

    @classmethod
    def start(cls, attempts: int = 3) -> PostgresServer:
        """Create a cluster in a new temporary folder and start a server on it.

        Args:
            attempts: How many free ports to try (another process may take the one chosen
                between choosing it and the server binding it).

        Returns:
            The running server, accepting connections.

        Raises:
            PostgresUnavailable: If the server programs, the ``postgres`` system user (under
                root) or the driver ``psycopg`` are missing.
            RuntimeError: If the programs are there but the server does not start (with
                the end of its log).

        Example:
            >>> server = PostgresServer.start()  # doctest: +SKIP
        """
        programs = find_programs()
        try:
            import psycopg  # noqa: F401
        except ImportError as err:
            raise PostgresUnavailable("needs the PostgreSQL driver psycopg (pip install 'psycopg[binary]')") from err
        account = _server_account()
        folder = Path(tempfile.mkdtemp(prefix="dlw-postgres-"))
        try:
            password = secrets.token_hex(16)
            _initialise(programs, folder, password, account)
            for attempt in range(attempts):
                port = _free_port()
                process = _launch(programs, folder, port, account)
                try:
                    _wait_until_ready(process, port, password, folder)
                except RuntimeError:
                    _end(process)
                    if attempt + 1 == attempts:
                        raise
                    continue
                return cls(process, port, password, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Shut the server down (fast shutdown: open connections are ended) and delete its folder.

        Example:
            >>> server.stop()  # doctest: +SKIP
        """
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        _end(self._process)
        shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------------ databases

    def url(self, database: str = "postgres", driver: str = "psycopg") -> str:
        """Return the SQLAlchemy URL of one of the server's databases.

        Args:
            database: The database's name.
            driver: The SQLAlchemy driver name (``postgresql+<driver>://``); empty for
                ``postgresql://``.

        Returns:
            The URL, password included.

        Example:
            >>> server.url("test_1")  # doctest: +SKIP
            'postgresql+psycopg://dlw:...@127.0.0.1:40213/test_1'
        """
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "test") -> str:
        """Create a new, empty database and return its SQLAlchemy URL.

        Args:
            prefix: The start of the database's name (``<prefix>_<n>``).

        Returns:
            The URL (``postgresql+psycopg://dlw:<password>@127.0.0.1:<port>/<prefix>_<n>``).

        Example:
            >>> server.create_database()  # doctest: +SKIP
            'postgresql+psycopg://dlw:...@127.0.0.1:40213/test_2'
        """
        self._databases += 1
        name = f"{prefix}_{self._databases}"
        self._admin_connection().execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _admin_connection(self) -> Any:
        import psycopg

        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(_dsn(self.port, self.password, "postgres"), autocommit=True)
        return self._admin


# ---------------------------------------------------------------------- helpers


def _server_account() -> str | None:
    """The system user to run the server as: ``postgres`` under root, else None (the current user)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError as err:
        raise PostgresUnavailable(
            f"runs as root, and PostgreSQL refuses root: needs the system user {SYSTEM_USER!r} ({INSTALL_HINT})"
        ) from err
    return SYSTEM_USER


def _run_as(account: str | None) -> dict[str, Any]:
    """``subprocess`` arguments that run a program as ``account`` (None: the current user)."""
    if account is None:
        return {}
    entry = pwd.getpwnam(account)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "cwd": "/"}


def _initialise(programs: Path, folder: Path, password: str, account: str | None) -> None:
    if account is not None:
        entry = pwd.getpwnam(account)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    password_file = folder / "password"
    password_file.write_text(password + "\n")
    if account is not None:
        os.chown(password_file, entry.pw_uid, entry.pw_gid)
    command = [
        str(programs / "initdb"),
        "--pgdata", str(folder / "data"),
        "--username", USER,
        "--pwfile", str(password_file),
        "--auth", "scram-sha-256",
        "--encoding", "UTF8",
        "--no-locale",  # byte-order collation, as SQLite's
        "--no-sync",
    ]
    result = subprocess.run(command, capture_output=True, text=True, **_run_as(account))
    password_file.unlink()
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _launch(programs: Path, folder: Path, port: int, account: str | None) -> subprocess.Popen[bytes]:
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": "",
        "max_connections": "200",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    command = [str(programs / "postgres"), "-D", str(folder / "data")]
    for key, value in settings.items():
        command += ["-c", f"{key}={value}"]
    log = open(folder / "server.log", "ab")  # noqa: SIM115 - the server writes it until it stops
    try:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **_run_as(account)
        )
    finally:
        log.close()


def _dsn(port: int, password: str, database: str) -> str:
    return f"host=127.0.0.1 port={port} user={USER} password={password} dbname={database} connect_timeout=5"


def _wait_until_ready(process: subprocess.Popen[bytes], port: int, password: str, folder: Path) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}:\n{_log_tail(folder)}")
        try:
            psycopg.connect(_dsn(port, password, "postgres")).close()
            return
        except psycopg.OperationalError as err:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"postgres did not accept connections within {START_TIMEOUT_SECONDS:.0f} s ({err}):\n"
                    f"{_log_tail(folder)}"
                ) from err
        time.sleep(0.05)


def _end(process: subprocess.Popen[bytes]) -> None:
    """Stop the server this module started: SIGINT (fast shutdown), then SIGKILL."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _log_tail(folder: Path, lines: int = 20) -> str:
    try:
        return "\n".join((folder / "server.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"
