"""Read the results table of a local SQLite registry through the standard library's driver.

``dlw runs`` should answer at once, and importing SQLAlchemy alone takes about a quarter of
a second. For a registry in a local SQLite file (the default, ``./.dlw/registry.db``) the
leaderboards are read here with :mod:`sqlite3`, read-only, running the very SQL text that
:meth:`~dlworkflow.registry.Registry.leaderboards` runs through SQLAlchemy. Whenever that is
not possible (another database, a file that does not exist yet, a schema this version does
not read, a test-set name that needs a did-you-mean) it answers None and the caller opens
the :class:`~dlworkflow.registry.Registry`, which handles the case and its errors.

Example:
    >>> boards = read_leaderboards_quickly("sqlite:///.dlw/registry.db", limit=20)  # doctest: +SKIP
    >>> boards is None or all(len(board.runs) <= 20 for board in boards)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from dlworkflow.registry.job_states import LIVE_STATES
from dlworkflow.registry.location import SCHEMA_VERSION, registry_url, sqlite_file
from dlworkflow.registry.run_summary import Leaderboard, read_leaderboards

BUSY_TIMEOUT_SECONDS = 30.0
"""How long a read waits while another process holds SQLite's write lock."""


def read_leaderboards_quickly(
    url: str | None = None, *, test_set: str | None = None, limit: int | None = None, home: Path | None = None
) -> list[Leaderboard] | None:
    """The registry's leaderboards when it is a local SQLite file this version reads; else None.

    Args:
        url: The registry URL (None: ``$DLW_REGISTRY``, else ``./.dlw/registry.db``).
        test_set: Only runs on this test set: its registered name, fingerprint, or a
            fingerprint prefix.
        limit: At most this many runs per leaderboard (the best); None for all.
        home: The folder of the default SQLite file.

    Returns:
        The leaderboards, as :meth:`Registry.leaderboards <dlworkflow.registry.Registry.leaderboards>`
        returns them, or None when the registry must be opened through SQLAlchemy.

    Example:
        >>> read_leaderboards_quickly("postgresql://db.example.org/results") is None
        True
    """
    path = sqlite_file(registry_url(url, home)[0])
    if path is None or not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.Error:
        return None
    with closing(connection):
        try:
            if _schema_version(connection) != SCHEMA_VERSION:
                return None
            fingerprints = None if test_set is None else _test_set_fingerprints(connection, test_set)
            if fingerprints == []:
                return None  # unknown name: the registry explains it, with a did-you-mean
            return read_leaderboards(_executor(connection), fingerprints=fingerprints, limit=limit)
        except sqlite3.Error:
            return None


def has_live_jobs_quickly(url: str | None = None, *, home: Path | None = None) -> bool | None:
    """Whether a local SQLite registry holds a job not yet ended; None when it cannot tell that way.

    ``dlw runs`` lists live jobs (and asks the scheduler about SLURM ones) only when there
    are some, so a registry without any is read without SQLAlchemy.

    Args:
        url: The registry URL (None: ``$DLW_REGISTRY``, else ``./.dlw/registry.db``).
        home: The folder of the default SQLite file.

    Returns:
        True or False for a local SQLite file of this version's schema, else None (open the
        :class:`~dlworkflow.registry.Registry` to know).

    Example:
        >>> has_live_jobs_quickly("postgresql://db.example.org/results") is None
        True
    """
    path = sqlite_file(registry_url(url, home)[0])
    if path is None or not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)) as connection:
            if _schema_version(connection) != SCHEMA_VERSION:
                return None
            marks = ", ".join("?" * len(LIVE_STATES))
            return connection.execute(f"SELECT 1 FROM jobs WHERE state IN ({marks}) LIMIT 1", LIVE_STATES).fetchone() is not None
    except sqlite3.Error:
        return None


def _executor(connection: sqlite3.Connection) -> Any:
    def execute(sql: str, parameters: dict[str, Any]) -> list[Any]:
        return connection.execute(sql, parameters).fetchall()

    return execute


def _schema_version(connection: sqlite3.Connection) -> int | None:
    try:
        (version,) = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except sqlite3.OperationalError:  # no such table: not a registry (yet)
        return None
    return version


def _test_set_fingerprints(connection: sqlite3.Connection, test_set: str) -> list[str]:
    prefix = test_set.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = connection.execute(
        "SELECT fingerprint FROM test_sets WHERE name = ? OR fingerprint LIKE ? ESCAPE '\\'", (test_set, prefix)
    ).fetchall()
    return [fingerprint for (fingerprint,) in rows]


def staging_folders(url: str | None = None, *, home: Path | None = None) -> list[Path]:
    """The staging folders of runs in progress (or killed) beside a local SQLite registry.

    ``dlw runs`` checks them (a glob, no database) before its quick read: a folder whose
    process was killed makes it open the registry to record that run as interrupted.

    Args:
        url: The registry URL (None: ``$DLW_REGISTRY``, else ``./.dlw/registry.db``).
        home: The folder of the default SQLite file.

    Returns:
        The folders (none for a registry that is not a local SQLite file).

    Example:
        >>> staging_folders("postgresql://db.example.org/results")
        []
    """
    path = sqlite_file(registry_url(url, home)[0])
    if path is None:
        return []
    return sorted((path.parent / "runs").glob(".staging-*"))
