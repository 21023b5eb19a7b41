"""The registry's database: where it lives, its schema (SQLAlchemy Core) and engine set-up.

Five tables hold the workshop's one central results table:

- ``runs``: one row per run, with the columns the results table shows.
- ``run_records``: the full record of each run as JSON (``dlw show``). It lives in its own
  table, not in ``runs``, so that listing the results table never reads it: SQLite stores a
  row's columns together, and kilobytes of JSON per row made a 100,000-run listing read
  hundreds of megabytes.
- ``test_sets``: one row per distinct test set (by fingerprint), with its name and how many
  times any run has been evaluated on it (``looks``).
- ``comments``: free-text comments on runs.
- ``jobs``: runs and tuning workers started locally or submitted to SLURM, with their state,
  heartbeat, run id and log files (:mod:`dlworkflow.registry.jobs`; revision ``0004``).

The tables are created and upgraded by the Alembic revisions in
:mod:`dlworkflow.registry.migrations`; the ``schema_version`` table holds the registry's
version, :data:`~dlworkflow.registry.location.SCHEMA_VERSION` once :func:`ensure_schema` has
run. The tables below describe the newest schema, for the queries (a test checks that the
migrations build exactly these).

Times are ISO 8601 strings in UTC (``2025-01-01T12:00:00+00:00``), which sort correctly.
SQLite databases use WAL journaling and a busy timeout, so several processes can record
runs into one registry at once. :func:`open_database` finds the URL (argument,
``DLW_REGISTRY``, ``./.dlw/registry.db``) and turns every way of failing to reach it into
a RegistryError that names the URL with its password masked.

Example:
    >>> engine = create_registry_engine("sqlite://")
    >>> ensure_schema(engine)
    4
    >>> sorted(metadata.tables)
    ['comments', 'jobs', 'run_records', 'runs', 'schema_version', 'test_sets']
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from dlworkflow.errors import RegistryError
from dlworkflow.registry.location import (
    SCHEMA_VERSION,
    default_home,
    in_memory_sqlite,
    registry_url,
)
from dlworkflow.registry.network_filesystem import warn_if_on_network_filesystem
from dlworkflow.registry.run_summary import LEADERBOARD_INDEX_COLUMNS

URL_HINT = (
    "Pass a working database URL with --registry or the DLW_REGISTRY environment variable, "
    "e.g. sqlite:///.dlw/registry.db."
)
"""The fix every "cannot reach the registry" error ends with."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another process's write to finish."""

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

EMPTY_FILE_WAIT_SECONDS = 0.5
"""How long an empty (0-byte) registry file may stay empty before it is refused: another process
may be creating it at that moment (SQLite creates the file empty and writes it a moment later)."""

DAMAGED_HINT = (
    "dlw will not replace it with a new registry (the runs recorded in it would be lost): restore it from a "
    "backup, or move it away and run `dlw recover` to record the run folders beside it again."
)
"""The fix for a registry file that is not a SQLite database or is damaged."""

OPTUNA_TABLES = frozenset({
    "alembic_version", "studies", "study_directions", "study_system_attributes", "study_user_attributes",
    "trial_heartbeats", "trial_intermediate_values", "trial_params", "trial_system_attributes",
    "trial_user_attributes", "trial_values", "trials", "version_info",
})
"""Optuna's tables: a study's storage may share the registry's database, so they are no sign of another program."""

_DAMAGED = re.compile(r"not a database|malformed|file is encrypted", re.IGNORECASE)

DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg"}
"""The driver a URL without one (``postgresql://``) uses: the one dlworkflow installs (psycopg 3),
not SQLAlchemy's default (psycopg2, not installed). A URL that names its driver keeps it."""

SCHEMA_LOCK_KEY = 0x646C77  # "dlw"
"""The PostgreSQL advisory lock that makes processes creating or upgrading a registry's tables
at the same moment take turns (concurrent ``CREATE TABLE`` of one name fails there)."""

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("created_at", String(40), nullable=True, index=True),
    Column("finished_at", String(40), nullable=True),
    Column("spec_hash", String(128), nullable=True),
    Column("data_fingerprint", String(128), nullable=True),
    Column("test_set_fingerprint", String(128), nullable=True, index=True),
    Column("test_set_look", Integer, nullable=True),
    Column("primary_metric", String(64), nullable=True),
    Column("primary_value", Float, nullable=True),
    Column("baseline_name", String(255), nullable=True),
    Column("baseline_value", Float, nullable=True),
    Column("git_commit", String(64), nullable=True),
    Column("git_dirty", Boolean, nullable=True),
    Column("backend", String(32), nullable=True),
    CheckConstraint("status IN ('finished', 'failed', 'interrupted')", name="ck_runs_status"),
    Index("ix_runs_leaderboard", *LEADERBOARD_INDEX_COLUMNS),
)

run_records = Table(
    "run_records",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("record_json", Text, nullable=False),
)

test_sets = Table(
    "test_sets",
    metadata,
    Column("fingerprint", String(128), primary_key=True),
    Column("name", String(255), nullable=False, index=True),
    Column("looks", Integer, nullable=False, default=0),
    Column("created_at", String(40), nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_comments_run_id", "run_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("executor", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("spec_file", Text, nullable=True),
    Column("submitted_at", String(40), nullable=False),
    Column("started_at", String(40), nullable=True),
    Column("heartbeat_at", String(40), nullable=True),
    Column("ended_at", String(40), nullable=True),
    Column("run_id", String(64), nullable=True),
    Column("host", String(255), nullable=True),
    Column("requeues", Integer, nullable=False, server_default="0"),
    Column("stdout_path", Text, nullable=True),
    Column("stderr_path", Text, nullable=True),
    Index("ix_jobs_state", "state"),
    Index("ix_jobs_run_id", "run_id"),
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
)

WRITE = "dlw_write"
"""Execution option: ``connection.execution_options(dlw_write=True)`` makes a SQLite
transaction take the write lock at its start (``BEGIN IMMEDIATE``), so a read-then-write
transaction waits for other writers instead of failing with "database is locked"."""


def create_registry_engine(url: str | URL) -> Engine:
    """Create the SQLAlchemy engine for a registry URL, with SQLite tuned for several writers.

    For SQLite: WAL journaling, a busy timeout of :data:`SQLITE_BUSY_TIMEOUT_MS`, foreign keys
    on, and transactions begun by dlworkflow itself (``BEGIN``, or ``BEGIN IMMEDIATE`` for
    connections with the :data:`WRITE` execution option). A URL without a driver gets the
    one in :data:`DEFAULT_DRIVERS` (``postgresql://`` → ``postgresql+psycopg://``).

    Args:
        url: An SQLAlchemy database URL (text or ``sqlalchemy.engine.URL``).

    Returns:
        The engine (no connection is made yet).

    Raises:
        sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError, ImportError: For a
            malformed URL, an unknown database or a missing driver (``Registry.open`` turns
            these into a RegistryError).

    Example:
        >>> create_registry_engine("sqlite://").dialect.name
        'sqlite'
    """
    url = make_url(url)
    if url.drivername in DEFAULT_DRIVERS:
        url = url.set(drivername=DEFAULT_DRIVERS[url.drivername])
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, instead of pysqlite's own handling.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _switch_to_wal(cursor: Any) -> None:
    """Set WAL journaling, waiting up to the busy timeout while other processes hold the file.

    Switching a new file to WAL needs it to itself, and SQLite answers "database is locked" at
    once, without waiting the busy timeout, while processes that open the registry at the same
    moment do the same: this waits for them.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def ensure_schema(engine: Engine, *, where: str = "registry") -> int:
    """Create a new registry's tables, or upgrade an older registry's in place; keep its rows.

    An up-to-date registry (the common case) is only read: no write lock is taken and Alembic
    is not imported. Otherwise, under the registry's write lock (SQLite's ``BEGIN IMMEDIATE``;
    on PostgreSQL also the advisory lock :data:`SCHEMA_LOCK_KEY`), the version is read again
    (another process may have upgraded it meanwhile) and the missing revisions of
    :mod:`dlworkflow.registry.migrations` run, all in that one transaction: a failed upgrade
    leaves the registry as it was. On SQLite, foreign keys are not enforced during the upgrade
    (see :func:`_sqlite_foreign_keys`) but checked before its commit. A registry written by a
    newer dlworkflow is left alone and its version returned (the caller refuses it).

    Args:
        engine: The registry's engine.
        where: How error messages name the registry.

    Returns:
        The registry's schema version: :data:`SCHEMA_VERSION`, or a larger one for a registry
        written by a newer dlworkflow.

    Raises:
        RegistryError: If the registry's Alembic revision is not one this dlworkflow knows.
        sqlalchemy.exc.SQLAlchemyError: If the database cannot be read, created or upgraded.

    Example:
        >>> ensure_schema(create_registry_engine("sqlite://"))
        4
    """
    with engine.connect() as connection:
        version = _schema_version(connection)
        if version is None and engine.dialect.name == "sqlite":
            _refuse_foreign_sqlite(connection, where)
    if version is not None and version >= SCHEMA_VERSION:
        return version
    from dlworkflow.registry import migrations  # imports Alembic: only when there is work to do

    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            connection.execution_options(**{WRITE: True})
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
                version = _schema_version(connection)
                if version is None or version < SCHEMA_VERSION:
                    version = migrations.upgrade(connection, version, where=where)
                    if sqlite:
                        _check_sqlite_foreign_keys(connection, where)
        finally:
            if sqlite and not connection.invalidated:
                _sqlite_foreign_keys(connection, on=True)
    return version


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Switch SQLite's foreign-key enforcement (only possible outside a transaction).

    It is off while the schema is upgraded: SQLite changes a table's constraints by building a
    new table and dropping the old one (Alembic's batch mode), and with enforcement on that
    drop deletes every row that references the table (``ON DELETE CASCADE``): all run records
    and comments. :func:`_check_sqlite_foreign_keys` checks the references before the commit.
    """
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def _check_sqlite_foreign_keys(connection: Connection, where: str) -> None:
    """Refuse to commit an upgrade that left rows referring to missing rows."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RegistryError.single(
            where,
            "schema",
            f"the upgrade would leave {len(broken)} rows referring to missing rows (first: {tuple(broken[0])!r}); "
            "nothing was changed",
            hint="Report this as a dlworkflow bug; the registry is as it was.",
        )


def _refuse_foreign_sqlite(connection: Connection, where: str) -> None:
    """Refuse a SQLite database that holds tables but not a registry's: it is some other program's file."""
    tables = [name for name in connection.dialect.get_table_names(connection)
              if not name.startswith("sqlite_") and name not in OPTUNA_TABLES]
    if tables:
        raise RegistryError.single(
            where, "", f"is a SQLite database of something else, not a dlworkflow registry ({len(tables)} other "
            "tables and no schema_version)", hint="Point --registry at the registry's own file, or at a new file.",
        )


def _schema_version(connection: Connection) -> int | None:
    """The registry's schema version; None for a database without the registry's tables."""
    if not connection.dialect.has_table(connection, schema_version.name):
        return None
    version = connection.execute(select(func.max(schema_version.c.version))).scalar()
    return None if version is None else int(version)


def mask_url(url: str) -> str:
    """Return a database URL with its password replaced by ``***``.

    Args:
        url: A database URL.

    Returns:
        The URL, safe to show in messages and logs.

    Example:
        >>> mask_url("postgresql://ann:secret@db.example.org/results")
        'postgresql://ann:***@db.example.org/results'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))


def open_database(url: str | None = None, home: Path | None = None) -> tuple[Engine, str, Path]:
    """Find, reach and (on first use) create the registry database.

    The URL is ``url``, else ``$DLW_REGISTRY``, else ``sqlite:///<home>/registry.db`` with
    ``home`` defaulting to ``./.dlw``. The artifacts root is the SQLite file's folder for a
    SQLite file URL (a relative path is made absolute), else ``home`` or ``./.dlw``.

    Args:
        url: An SQLAlchemy database URL, or None.
        home: The artifacts root for non-file URLs and the folder of the default SQLite file.

    Returns:
        ``(engine, masked URL, absolute artifacts root)``; the schema is in place.

    Raises:
        RegistryError: If the URL is malformed, names an unknown database or a missing
            driver, the database cannot be reached or created, or it was written by a
            newer dlworkflow. The message names the URL (password masked) and the fix.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> engine, shown, root = open_database(f"sqlite:///{folder}/registry.db")
        >>> root == folder, shown == f"sqlite:///{folder}/registry.db"
        (True, True)
        >>> engine.dispose()
    """
    url, source = registry_url(url, home)
    masked = mask_url(url)
    where = f"registry {masked}{source}"
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise RegistryError.single(
            where, "", "is not a database URL (expected dialect://...)", hint=URL_HINT
        ) from err

    if in_memory_sqlite(url):
        raise RegistryError.single(
            where, "", "is an in-memory SQLite database: every run recorded in it would be lost when the command ends",
            hint="Use a database file, e.g. --registry sqlite:///.dlw/registry.db (or leave --registry out).",
        )
    artifacts_home = Path(home) if home is not None else default_home()
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            database_path = Path(database).expanduser().absolute()
            artifacts_home = database_path.parent
            parsed = parsed.set(database=str(database_path))
            check_sqlite_file(database_path, where)
            warn_if_on_network_filesystem(database_path, "registry")  # SQLite's locks fail on NFS, SMB, Lustre...
            try:
                database_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise RegistryError.single(
                    where,
                    "",
                    f"cannot create the folder {str(database_path.parent)!r} ({err.strerror or err})",
                    hint=URL_HINT,
                ) from err
    try:
        engine = create_registry_engine(parsed)
    except NoSuchModuleError as err:
        raise RegistryError.single(
            where,
            "",
            f"names an unknown database type {parsed.drivername!r}",
            hint="Use a URL such as sqlite:///path/registry.db or postgresql://user@host/db. " + URL_HINT,
        ) from err
    except ImportError as err:
        raise RegistryError.single(
            where,
            "",
            f"needs a database driver that is not installed ({err})",
            hint=f"Install the {parsed.get_backend_name()} driver that provides the Python module "
            f"{getattr(err, 'name', None) or parsed.drivername!r}, or use a SQLite URL. " + URL_HINT,
        ) from err
    except (ArgumentError, SQLAlchemyError, ValueError, TypeError) as err:
        raise RegistryError.single(
            where, "", f"cannot be used ({_without_password(err, parsed.password)})", hint=URL_HINT
        ) from err
    try:
        version = ensure_schema(engine, where=where)
    except SQLAlchemyError as err:
        engine.dispose()
        reason = _without_password(getattr(err, "orig", None) or err, parsed.password)
        if engine.dialect.name == "sqlite" and _DAMAGED.search(reason):
            raise RegistryError.single(
                where, "", f"the file {parsed.database!r} is damaged ({reason})", hint=DAMAGED_HINT
            ) from err
        raise RegistryError.single(where, "", f"cannot be opened or created ({reason})", hint=URL_HINT) from err
    except RegistryError:
        engine.dispose()
        raise
    if version > SCHEMA_VERSION:
        engine.dispose()
        raise RegistryError.single(
            where,
            "",
            f"was written by a newer dlworkflow (schema version {version}; this one reads {SCHEMA_VERSION})",
            hint="Upgrade dlworkflow (pip install -U dlworkflow), or use another registry.",
        )
    return engine, masked, artifacts_home.absolute()


def check_sqlite_file(path: Path, where: str) -> None:
    """Refuse a registry file that is not a SQLite database: empty (0 bytes), a folder, or other bytes.

    A missing file is fine (a new registry is created). An empty one is given
    :data:`EMPTY_FILE_WAIT_SECONDS` to fill, as while another process creates it.

    Args:
        path: The registry's SQLite file.
        where: How error messages name the registry.

    Raises:
        RegistryError: naming the file, for a folder, an empty file or a file without SQLite's header.

    Example:
        >>> check_sqlite_file(Path("/nonexistent/registry.db"), "registry")  # a new registry: fine
    """
    if not path.exists():
        return
    if not path.is_file():
        raise RegistryError.single(where, "", f"{str(path)!r} is not a file", hint="Point --registry at a file.")
    deadline = time.monotonic() + EMPTY_FILE_WAIT_SECONDS
    while path.stat().st_size == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    size = path.stat().st_size
    if size == 0:
        raise RegistryError.single(
            where, "", f"the file {str(path)!r} is empty (0 bytes): it is not a registry, and the runs it held are gone "
            "from it", hint=DAMAGED_HINT,
        )
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as err:
        raise RegistryError.single(
            where, "", f"the file {str(path)!r} cannot be read ({err.strerror or err})",
            hint="Check the file's permissions.",
        ) from err
    if header != SQLITE_HEADER:
        raise RegistryError.single(
            where, "", f"the file {str(path)!r} is not a SQLite database ({size} bytes without SQLite's header)",
            hint=DAMAGED_HINT,
        )


def _without_password(err: BaseException, password: Any) -> str:
    """Return an error's text with the URL's password (if any) replaced by ``***``."""
    text = str(err).strip()
    if password:
        text = text.replace(str(password), "***")
    return text
