"""Where the registry lives: its URL (argument, ``DLW_REGISTRY``, else the nearest ``.dlw/`` upward).

Without an argument or ``DLW_REGISTRY`` the registry is found as git finds ``.git``: the current
folder and then each folder above it is asked for a ``.dlw/`` that holds a registry
(``registry.db`` or a ``runs/`` folder); the first one wins (:func:`find_home`). So
``cd examples && dlw runs`` lists the runs recorded from the project's root.

When none is found, a new registry is created in the current folder (``./.dlw/registry.db``), as
``git init`` creates ``.git`` where it is run. Not at the git work tree's root: that would need
git, would put runs of a folder that merely sits in a large repository (a home directory kept in
git, a monorepo) in a registry far above it, and the first ``dlw run`` would write outside the
folder the researcher is in. Run the first command where the registry should live (the project's
root); every later command from a sub-folder finds it.

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
"""The name of a registry home, and the new one's place relative to the current directory."""

DATABASE_FILE = "registry.db"
"""The SQLite file name in the registry home."""

SCHEMA_VERSION = 4
"""The version of the schema this code writes and reads: the newest revision of
:mod:`dlworkflow.registry.migrations` (revision ``0004``). Opening a registry with a smaller
version upgrades it; one with a larger version was written by a newer dlworkflow and is refused."""

_SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")


def find_home(start: Path | None = None) -> Path | None:
    """The nearest registry home at or above a folder, as git finds ``.git``.

    A folder's ``.dlw/`` is a registry home when it holds ``registry.db`` or a ``runs/``
    folder (a registry whose database was lost still has its runs, for ``dlw recover``).
    An empty or unrelated ``.dlw/`` is passed over.

    Args:
        start: The folder to start from; default: the current directory.

    Returns:
        The ``.dlw`` folder, absolute, or None when no folder up to the file system's root has one
        (or the current directory was deleted).

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / ".dlw" / "runs").mkdir(parents=True)
        >>> (root / "examples").mkdir()
        >>> find_home(root / "examples") == root / ".dlw"
        True
    """
    try:
        folder = (Path.cwd() if start is None else Path(start)).absolute()
    except OSError:  # the current directory was deleted
        return None
    for candidate in (folder, *folder.parents):
        home = candidate / DEFAULT_HOME
        try:
            if (home / DATABASE_FILE).is_file() or (home / "runs").is_dir():
                return home
        except OSError:  # a folder we may not read: look further up, as git does
            continue
    return None


def default_home() -> Path:
    """The registry home when neither an argument nor ``DLW_REGISTRY`` names one.

    Returns:
        :func:`find_home` from the current directory, else ``./.dlw`` (where a new registry is
        created), absolute.

    Example:
        >>> default_home().name
        '.dlw'
    """
    return find_home() or DEFAULT_HOME.absolute()


def registry_url(url: str | None = None, home: Path | None = None) -> tuple[str, str]:
    """The registry's database URL and where it came from.

    Args:
        url: An SQLAlchemy database URL, or None for ``$DLW_REGISTRY``, else
            ``sqlite:///<home>/registry.db`` (``home`` defaults to :func:`default_home`: the
            nearest ``.dlw/`` upward, else ``./.dlw``).
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
    base = Path(home) if home is not None else default_home()
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


def in_memory_sqlite(url: str) -> bool:
    """Whether a URL names an in-memory SQLite database, which forgets every run when the process ends.

    ``sqlite://``, ``sqlite:///:memory:``, ``file::memory:`` and any ``mode=memory`` are in memory.

    Args:
        url: A database URL.

    Returns:
        True for an in-memory SQLite URL.

    Example:
        >>> in_memory_sqlite("sqlite://"), in_memory_sqlite("sqlite:///:memory:")
        (True, True)
        >>> in_memory_sqlite("sqlite:///file:runs?mode=memory&uri=true"), in_memory_sqlite("sqlite:////tmp/r.db")
        (True, False)
    """
    text = url.strip()
    scheme, _, rest = text.partition("://")
    if not scheme.lower().startswith("sqlite"):
        return False
    database, _, query = rest.removeprefix("/").partition("?")
    options = {item.split("=", 1)[0].lower(): item.partition("=")[2].lower() for item in query.split("&") if item}
    return (not database or database == ":memory:" or database.startswith("file::memory:")
            or options.get("mode") == "memory")


def artifacts_home(url: str | None = None, home: Path | None = None) -> Path:
    """The folder that holds a registry's ``runs/``: a SQLite file's folder, else ``home`` or :func:`default_home`.

    Args:
        url: The registry URL (None: ``$DLW_REGISTRY``, else the nearest ``.dlw/registry.db`` upward).
        home: The artifacts root for other databases, and the folder of the default SQLite file.

    Returns:
        The folder, absolute.

    Example:
        >>> artifacts_home("sqlite:////tmp/dlw/registry.db").as_posix()
        '/tmp/dlw'
        >>> artifacts_home("postgresql://db.example.org/results", Path("/srv/dlw")).as_posix()
        '/srv/dlw'
    """
    path = sqlite_file(registry_url(url, home)[0])
    if path is not None:
        return path.parent
    return (Path(home) if home is not None else default_home()).absolute()
