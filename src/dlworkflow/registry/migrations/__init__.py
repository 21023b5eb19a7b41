"""The registry schema's migrations: Alembic revisions shipped in the package and run from code.

Each file in ``versions/`` is one schema version: revision ``0001`` creates the tables as they
were at schema version 1, ``0002`` adds the leaderboard index, and so on; a revision's id is
its version number in four digits (:func:`revision_of`). There is no ``alembic.ini`` and no
``env.py``: :func:`upgrade` builds Alembic's migration context on the connection it is given
and runs the missing revisions inside that connection's transaction, so an upgrade is one
transaction (all revisions or none) on SQLite and PostgreSQL alike. A new registry is created
by running every revision from the start, so a new registry and an upgraded one are built by
the same code.

Two tables say where a registry stands; every revision keeps them in step, in its transaction:

- ``schema_version``: the version number that every dlworkflow reads, also those from before
  the migrations (they refuse a registry with a larger number), and that
  :mod:`~dlworkflow.registry.quick_read` reads with :mod:`sqlite3`;
- ``dlw_alembic_version`` (:data:`VERSION_TABLE`): Alembic's revision. Not Alembic's default
  name ``alembic_version``: Optuna keeps its own Alembic revision there, and a study's storage
  is the registry's own database when the registry is not a SQLite file.

A registry from before the migrations has ``schema_version`` 1 and no revision table: it is
stamped ``0001`` first, then upgraded.

To change the schema: add ``versions/000N_<what>.py`` (``down_revision`` the previous one)
whose ``upgrade()`` changes the tables and sets ``schema_version`` to N, change the tables in
:mod:`~dlworkflow.registry.database` to match, and set ``SCHEMA_VERSION`` to N in
:mod:`~dlworkflow.registry.location`. ``tests/registry/test_migrations.py`` compares the
migrated schema with the tables and fails until the two agree.

This module imports Alembic; :func:`~dlworkflow.registry.database.ensure_schema` imports it
only when a registry must be created or upgraded.

Example:
    >>> from dlworkflow.registry.database import create_registry_engine
    >>> engine = create_registry_engine("sqlite://")
    >>> with engine.begin() as connection:
    ...     upgrade(connection, None)
    4
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, column, func, select, table

from dlworkflow.errors import RegistryError

FOLDER = Path(__file__).resolve().parent
"""Alembic's script directory; the revisions are in ``FOLDER / "versions"``."""

VERSION_TABLE = "dlw_alembic_version"
"""The table holding the registry's Alembic revision."""


def revision_of(version: int) -> str:
    """The Alembic revision id of a schema version.

    Example:
        >>> revision_of(2)
        '0002'
    """
    return f"{version:04d}"


def head_version() -> int:
    """The schema version of the newest revision in ``versions/``.

    Example:
        >>> head_version()
        4
    """
    return int(_script().get_current_head() or 0)


def current_revision(connection: Connection) -> str | None:
    """The registry's Alembic revision (None when it has none: new, or from before the migrations).

    Example:
        >>> with engine.connect() as connection:  # doctest: +SKIP
        ...     current_revision(connection)
        '0002'
    """
    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(connection: Connection, version: int | None, *, where: str = "registry") -> int:
    """Bring a registry to the newest schema, inside the connection's open transaction.

    The caller holds the registry's write lock (see
    :func:`~dlworkflow.registry.database.ensure_schema`) and commits; the revisions do not
    begin or commit transactions of their own.

    Args:
        connection: A connection to the registry, in a transaction.
        version: The registry's ``schema_version``, or None for a database without the tables.
        where: How error messages name the registry.

    Returns:
        The schema version afterwards.

    Raises:
        RegistryError: If the registry's revision is not one of this dlworkflow's.
        sqlalchemy.exc.SQLAlchemyError: If a revision's statements fail.

    Example:
        >>> with engine.connect() as connection:  # doctest: +SKIP
        ...     connection.execution_options(dlw_write=True)
        ...     with connection.begin():
        ...         upgrade(connection, 1)
        4
    """
    script = _script()

    def steps(heads: tuple[str, ...], _context: MigrationContext) -> list:
        return script._upgrade_revs("head", heads)  # what alembic.command.upgrade runs

    context = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE, "script": script, "fn": steps}
    )
    try:
        if version is not None and not context.get_current_heads():
            context.stamp(script, revision_of(version))  # a registry from before the migrations
        with Operations.context(context):
            context.run_migrations()
    except CommandError as err:
        raise RegistryError.single(
            where,
            "schema",
            f"cannot be upgraded: its revision is not one this dlworkflow knows ({err})",
            hint="Upgrade dlworkflow (pip install -U dlworkflow), or use another registry.",
        ) from err
    versions = table("schema_version", column("version"))
    return int(connection.execute(select(func.max(versions.c.version))).scalar_one())


@cache
def _script() -> ScriptDirectory:
    """The revisions (read once per process: they are files of the installed package)."""
    return ScriptDirectory(str(FOLDER))
