"""Where the registry lives: its URL (argument, ``DLW_REGISTRY``, ``./.dlw/registry.db``).

Importable without SQLAlchemy, so that commands which only read a local SQLite registry
(``dlw runs``) can find it without paying for that import.

Example:
    >>> registry_url("sqlite:////tmp/r.db")
    ('sqlite:////tmp/r.db', '')
    >>> sqlite_file("sqlite:////tmp/r.db").as_posix()
    '/tmp/r.db'
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VARIABLE = "DLW_REGISTRY"
"""The environment variable that names the registry URL."""

DEFAULT_HOME = Path(".dlw")
"""The default registry home, relative to the current directory."""

DATABASE_FILE = "registry.db"
"""The SQLite file name in the registry home."""

SCHEMA_VERSION = 3
"""The version of the schema this code writes and reads: the newest revision of
:mod:`dlworkflow.registry.migrations` (revision ``0002``). Opening a registry with a smaller
version upgrades it; one with a larger version was written by a newer dlworkflow and is refused."""

_SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")


def registry_url(url: str | None = None, home: Path | None = None) -> tuple[str, str]:
    """The registry's database URL and where it came from.

    Args:
        url: An SQLAlchemy database URL, or None for ``$DLW_REGISTRY``, else
            ``sqlite:///<home>/registry.db`` (``home`` defaults to ``./.dlw``).
        home: The folder of the default SQLite file.

    Returns:
        ``(url, source)``; ``source`` is ``" (from DLW_REGISTRY)"`` when the environment
        variable gave it, else empty (for messages).

    Example:
        >>> registry_url(None, home=Path("/tmp/dlw"))
        ('sqlite:////tmp/dlw/registry.db', '')
    """
    if url is not None:
        return url, ""
    from_environment = os.environ.get(ENV_VARIABLE) or None
    if from_environment is not None:
        return from_environment, f" (from {ENV_VARIABLE})"
    base = Path(home) if home is not None else DEFAULT_HOME
    return f"sqlite:///{(base / DATABASE_FILE).absolute()}", ""


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite file URL (``sqlite:///path``), absolute; else None.

    URLs with options (``?mode=ro``), in-memory databases and other databases give None:
    only SQLAlchemy knows what they mean.

    Args:
        url: A database URL.

    Returns:
        The database file as an absolute path, or None.

    Example:
        >>> sqlite_file("postgresql://db.example.org/results") is None
        True
    """
    for prefix in _SQLITE_PREFIXES:
        if url.startswith(prefix):
            database = url[len(prefix):]
            if not database or database == ":memory:" or "?" in database or database.startswith("file:"):
                return None
            return Path(database).expanduser().absolute()
    return None
