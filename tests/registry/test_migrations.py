"""The registry's schema migrations: an older registry is upgraded in place, rows intact; a new one
is built by the same migrations; an up-to-date one is only read.

Every test runs on SQLite and on PostgreSQL (``any_registry_url``). The version-1 registries are
built here with the version-1 tables (:data:`VERSION_1`, the tables as dlworkflow created them
before the migrations existed), not with the migrations, so that the upgrade is tested against
what users' registries really hold.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
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
    insert,
    inspect,
    select,
    text,
)

from dlworkflow.errors import RegistryError
from dlworkflow.registry import Registry, RunRecord
from dlworkflow.registry.database import SCHEMA_LOCK_KEY, create_registry_engine, ensure_schema, metadata
from dlworkflow.registry.location import SCHEMA_VERSION
from dlworkflow.registry.migrations import VERSION_TABLE, current_revision, head_version, revision_of

WEATHER = "a" * 64
PENGUINS = "b" * 64

# --------------------------------------------------------------------------- the version-1 registry

VERSION_1 = MetaData()
"""The tables of schema version 1, as ``database.py`` defined them before the migrations (frozen)."""

Table(
    "runs",
    VERSION_1,
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
    CheckConstraint("status IN ('finished', 'failed')", name="ck_runs_status"),
)
Table(
    "run_records",
    VERSION_1,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("record_json", Text, nullable=False),
)
Table(
    "test_sets",
    VERSION_1,
    Column("fingerprint", String(128), primary_key=True),
    Column("name", String(255), nullable=False, index=True),
    Column("looks", Integer, nullable=False, default=0),
    Column("created_at", String(40), nullable=False),
)
Table(
    "comments",
    VERSION_1,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_comments_run_id", "run_id"),
)
Table("schema_version", VERSION_1, Column("version", Integer, primary_key=True))

LEADERBOARD_INDEX = "ix_runs_leaderboard"
TABLES = ("runs", "run_records", "test_sets", "comments")

OLD_RUNS = [
    # (id, name, metric value, test set, look, status)
    ("20250101-120000-aaaaaa", "dense", 2.5, WEATHER, 1, "finished"),
    ("20250101-130000-bbbbbb", "linear", 3.1, WEATHER, 2, "finished"),
    ("20250102-090000-cccccc", "mlp", 0.8, PENGUINS, 1, "finished"),
    ("20250102-100000-dddddd", "broken", None, None, None, "failed"),
]

OLD_COMMENTS = [
    (OLD_RUNS[0][0], "overfits after epoch 40", "2025-01-01T13:00:00+00:00"),
    (OLD_RUNS[0][0], "try dropout", "2025-01-01T14:00:00+00:00"),
    (OLD_RUNS[2][0], "good", "2025-01-02T10:00:00+00:00"),
]


def old_record(run_id: str, name: str, value: float | None, fingerprint: str | None, look: int | None,
               status: str) -> RunRecord:
    looks = {WEATHER: 2, PENGUINS: 1}.get(fingerprint)
    return RunRecord(
        id=run_id,
        name=name,
        description=f"{name} model",
        status=status,
        created_at=f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}T{run_id[9:11]}:00:00+00:00",
        test_set={"name": {WEATHER: "weather", PENGUINS: "penguins"}.get(fingerprint),
                  "fingerprint": fingerprint, "looks": looks, "look": look},
        primary={"metric": "rmse", "value": value, "baseline": "mean", "baseline_value": 9.0},
        metrics={"train": {}, "validation": {}, "test": {} if value is None else {"rmse": value}},
        git={"commit": "c" * 40, "dirty": False},
        backend="jax",
        error="diverged" if status == "failed" else None,
    )


def build_version_1_registry(url: str, *, leaderboard_index: bool = False) -> None:
    """Create a registry as dlworkflow did at schema version 1, with runs, test sets and comments.

    ``leaderboard_index``: also the index that version-1 registries made by the last code before
    the migrations have.
    """
    tables = VERSION_1.tables
    records = [old_record(*run) for run in OLD_RUNS]
    engine = plain_engine(url)
    try:
        with engine.begin() as connection:
            VERSION_1.create_all(connection)
            if leaderboard_index:
                columns = "test_set_fingerprint, primary_metric, primary_value"
                connection.execute(text(f"CREATE INDEX {LEADERBOARD_INDEX} ON runs ({columns})"))
            connection.execute(insert(tables["schema_version"]).values(version=1))
            connection.execute(insert(tables["test_sets"]), [
                {"fingerprint": WEATHER, "name": "weather", "looks": 2, "created_at": "2025-01-01T12:00:00+00:00"},
                {"fingerprint": PENGUINS, "name": "penguins", "looks": 1, "created_at": "2025-01-02T09:00:00+00:00"},
            ])
            connection.execute(insert(tables["runs"]), [
                {
                    "id": record.id, "name": record.name, "description": record.description,
                    "status": record.status, "created_at": record.created_at, "finished_at": record.created_at,
                    "spec_hash": "s" * 64, "data_fingerprint": "d" * 64,
                    "test_set_fingerprint": record.test_set["fingerprint"], "test_set_look": record.test_set["look"],
                    "primary_metric": "rmse", "primary_value": record.primary["value"], "baseline_name": "mean",
                    "baseline_value": 9.0, "git_commit": "c" * 40, "git_dirty": False, "backend": "jax",
                }
                for record in records
            ])
            connection.execute(
                insert(tables["run_records"]), [{"run_id": r.id, "record_json": r.to_json()} for r in records]
            )
            connection.execute(insert(tables["comments"]), [
                {"run_id": run_id, "text": note, "created_at": created_at} for run_id, note, created_at in OLD_COMMENTS
            ])
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- helpers


def plain_engine(url: str) -> Engine:
    """An engine on the registry's database without dlworkflow's set-up (another program's view)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url)


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the registry's tables, in a fixed order."""
    engine = plain_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {name} ORDER BY 1"))]
                for name in TABLES
            }
    finally:
        engine.dispose()


def state(url: str) -> tuple[list[int], str | None, set[str]]:
    """(schema_version rows, Alembic revision, index names of runs)."""
    engine = plain_engine(url)
    try:
        with engine.connect() as connection:
            versions = sorted(connection.execute(text("SELECT version FROM schema_version")).scalars())
            revision = current_revision(connection)
        indexes = {index["name"] for index in inspect(engine).get_indexes("runs")}
        return versions, revision, indexes
    finally:
        engine.dispose()


def describe(url: str) -> dict[str, Any]:
    """The schema of the registry's tables as the database reports it (columns, keys, indexes, checks)."""
    engine = plain_engine(url)
    try:
        inspector = inspect(engine)
        names = sorted(set(inspector.get_table_names()) - {VERSION_TABLE})
        return {
            name: {
                "columns": [
                    (column["name"], str(column["type"]), column["nullable"]) for column in inspector.get_columns(name)
                ],
                "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
                "foreign_keys": sorted(
                    (tuple(key["constrained_columns"]), key["referred_table"], tuple(key["referred_columns"]),
                     key["options"].get("ondelete"))
                    for key in inspector.get_foreign_keys(name)
                ),
                "indexes": sorted(
                    (index["name"], tuple(index["column_names"]), bool(index["unique"]))
                    for index in inspector.get_indexes(name)
                ),
                "checks": sorted((check["name"], check["sqltext"]) for check in inspector.get_check_constraints(name)),
                "unique": sorted(tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(name)),
            }
            for name in names
        }
    finally:
        engine.dispose()


@pytest.fixture
def other_url(any_registry_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A second fresh database of the same kind as ``any_registry_url``."""
    if any_registry_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'other' / 'registry.db'}"
    return request.getfixturevalue("postgres_server").create_database("other")


def migrate_to(url: str, revision: str) -> None:
    """Run the shipped migrations from nothing up to ``revision`` (as Alembic's ``upgrade`` would)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from alembic.script import ScriptDirectory

    from dlworkflow.registry.migrations import FOLDER

    script = ScriptDirectory(str(FOLDER))
    engine = plain_engine(url)
    try:
        with engine.begin() as connection:
            context = MigrationContext.configure(connection, opts={
                "version_table": VERSION_TABLE, "fn": lambda heads, _: script._upgrade_revs(revision, heads),
            })
            with Operations.context(context):
                context.run_migrations()
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the schema itself


def test_the_newest_revision_is_the_schema_version() -> None:
    assert head_version() == SCHEMA_VERSION
    assert revision_of(SCHEMA_VERSION) == f"{SCHEMA_VERSION:04d}"


def test_the_migrations_build_exactly_the_tables_of_database_py(any_registry_url: str, other_url: str) -> None:
    # A change to the tables in database.py without a migration (or the reverse) fails here.
    Registry.open(any_registry_url).close()
    engine = plain_engine(other_url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
    assert describe(any_registry_url) == describe(other_url)


def test_revision_0001_is_schema_version_1(any_registry_url: str, other_url: str) -> None:
    migrate_to(any_registry_url, "0001")
    engine = plain_engine(other_url)
    try:
        VERSION_1.create_all(engine)
    finally:
        engine.dispose()
    assert describe(any_registry_url) == describe(other_url)
    assert state(any_registry_url) == ([1], "0001", {"ix_runs_created_at", "ix_runs_test_set_fingerprint"})


def test_a_new_registry_is_at_the_newest_revision(any_registry_url: str) -> None:
    Registry.open(any_registry_url).close()
    versions, revision, indexes = state(any_registry_url)
    assert (versions, revision) == ([SCHEMA_VERSION], revision_of(SCHEMA_VERSION))
    assert LEADERBOARD_INDEX in indexes


# --------------------------------------------------------------------------- upgrading in place


@pytest.mark.parametrize("leaderboard_index", [False, True], ids=["without_index", "with_index"])
def test_an_old_registry_is_upgraded_in_place_with_its_rows(
    any_registry_url: str, tmp_path: Path, leaderboard_index: bool
) -> None:
    build_version_1_registry(any_registry_url, leaderboard_index=leaderboard_index)
    before = dump(any_registry_url)
    versions, revision, indexes = state(any_registry_url)
    assert (versions, revision, LEADERBOARD_INDEX in indexes) == ([1], None, leaderboard_index)

    with Registry.open(any_registry_url, home=tmp_path / "dlw") as registry:
        assert dump(any_registry_url) == before  # every row as it was
        versions, revision, indexes = state(any_registry_url)
        assert (versions, revision) == ([SCHEMA_VERSION], revision_of(SCHEMA_VERSION))
        assert LEADERBOARD_INDEX in indexes
        # ... and the registry reads them as before, and goes on counting.
        rows = {row.id: row for row in registry.list_runs()}
        assert set(rows) == {run[0] for run in OLD_RUNS}
        assert (rows[OLD_RUNS[0][0]].test_set_looks, rows[OLD_RUNS[0][0]].comments) == (
            2, "overfits after epoch 40; try dropout"
        )
        assert registry.get(OLD_RUNS[2][0]).to_dict() == old_record(*OLD_RUNS[2]).replace(
            comments=[{"text": "good", "created_at": "2025-01-02T10:00:00+00:00"}]
        ).to_dict()
        new = RunRecord(id="20250103-120000-eeeeee", name="wide", test_set={"fingerprint": WEATHER})
        stored = registry.record(new, looked_at_test=True, test_set_name="weather")
        assert (stored.test_set["look"], stored.test_set["looks"]) == (3, 3)


def test_an_upgraded_sqlite_registry_is_read_quickly_again(registry_url: str) -> None:
    from dlworkflow.registry.quick_read import read_leaderboards_quickly

    build_version_1_registry(registry_url)
    assert read_leaderboards_quickly(registry_url) is None  # an older schema: left to the registry
    with Registry.open(registry_url) as registry:
        expected = registry.leaderboards()
    assert read_leaderboards_quickly(registry_url) == expected


def test_several_processes_upgrade_an_old_registry_at_once(any_registry_url: str, tmp_path: Path) -> None:
    # Workers of a tuning study started after a dlworkflow upgrade all open the old registry at once.
    build_version_1_registry(any_registry_url)
    script = textwrap.dedent(
        f"""
        import sys
        from dlworkflow.registry import Registry, RunRecord
        from dlworkflow.registry.database import create_registry_engine
        create_registry_engine({any_registry_url!r}).dispose()  # imports the database's driver
        print("ready", flush=True)
        sys.stdin.readline()
        with Registry.open({any_registry_url!r}, home={str(tmp_path / "dlw")!r}) as registry:
            record = RunRecord(id=f"20250103-120000-{{sys.argv[1]}}", name="m", test_set={{"fingerprint": {WEATHER!r}}})
            registry.record(record, looked_at_test=True, test_set_name="weather")
        """
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(worker)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for worker in range(4)
    ]
    for worker in workers:
        assert worker.stdout.readline() == "ready\n"
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors
    versions, revision, indexes = state(any_registry_url)
    assert (versions, revision) == ([SCHEMA_VERSION], revision_of(SCHEMA_VERSION))
    with Registry.open(any_registry_url, home=tmp_path / "dlw") as registry:
        looks = sorted(run.test_set_look for run in registry.list_runs(test_set="weather"))
    assert looks == [1, 2, 3, 4, 5, 6]  # the two old looks, then one per worker


def test_a_failed_upgrade_leaves_the_registry_as_it_was(any_registry_url: str) -> None:
    # A damaged old registry (a column renamed by hand) cannot take the new index: nothing of the
    # upgrade is kept, neither the Alembic stamp nor the version number.
    build_version_1_registry(any_registry_url)
    engine = plain_engine(any_registry_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE runs RENAME COLUMN primary_value TO value_by_hand"))
    finally:
        engine.dispose()
    before = dump(any_registry_url)
    with pytest.raises(RegistryError, match=r"cannot be opened or created \(.*primary_value"):
        Registry.open(any_registry_url)
    assert dump(any_registry_url) == before
    engine = plain_engine(any_registry_url)
    try:
        assert VERSION_TABLE not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version FROM schema_version")).scalars().all() == [1]
    finally:
        engine.dispose()


def test_an_upgrade_that_rebuilds_a_table_keeps_the_rows_that_refer_to_it(registry_url: str) -> None:
    # SQLite changes a table's constraints by building a new table and dropping the old one
    # (Alembic's batch mode). Were foreign keys enforced meanwhile, dropping the old runs table
    # would delete every run record and comment (ON DELETE CASCADE). Here such a rebuild of runs
    # happens inside the upgrade, just before revision 0002 adds its index.
    build_version_1_registry(registry_url)
    before = dump(registry_url)
    engine = create_registry_engine(registry_url)

    @event.listens_for(engine, "before_cursor_execute")
    def rebuild_runs(connection, cursor, statement, *_) -> None:
        if statement.startswith("CREATE INDEX IF NOT EXISTS ix_runs_leaderboard"):
            (ddl,) = cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'runs'").fetchone()
            cursor.execute(ddl.replace("CREATE TABLE runs", "CREATE TABLE runs_rebuilt", 1))
            cursor.execute("INSERT INTO runs_rebuilt SELECT * FROM runs")
            cursor.execute("DROP TABLE runs")
            cursor.execute("ALTER TABLE runs_rebuilt RENAME TO runs")

    try:
        assert ensure_schema(engine) == SCHEMA_VERSION
        with engine.connect() as connection:  # enforcement is back on for the registry's own work
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
    assert dump(registry_url) == before


# --------------------------------------------------------------------------- up to date, newer, unknown


def test_a_registry_at_the_newest_revision_takes_no_migration_and_no_write_lock(any_registry_url: str) -> None:
    # Opening an up-to-date registry neither imports Alembic (start-up time) nor waits for the lock
    # that creating or upgrading takes: here another process holds it all along.
    Registry.open(any_registry_url).close()
    before = state(any_registry_url)
    code = textwrap.dedent(
        f"""
        import sys
        from dlworkflow.registry import Registry
        with Registry.open({any_registry_url!r}) as registry:
            registry.list_runs()
        sys.exit("alembic imported" if "alembic" in sys.modules else 0)
        """
    )
    engine = create_registry_engine(any_registry_url)
    try:
        with engine.connect() as holder:
            if engine.dialect.name == "sqlite":
                holder.execution_options(dlw_write=True)  # BEGIN IMMEDIATE: SQLite's write lock
                holder.begin()
                holder.execute(text("SELECT 1"))
            else:
                holder.begin()
                holder.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
            try:
                result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail("opening an up-to-date registry waited for the lock that upgrades take")
            holder.rollback()
    finally:
        engine.dispose()
    assert result.returncode == 0, result.stderr
    assert state(any_registry_url) == before


def test_a_newer_registry_is_refused_and_left_alone(any_registry_url: str) -> None:
    Registry.open(any_registry_url).close()
    engine = plain_engine(any_registry_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE schema_version SET version = {SCHEMA_VERSION + 1}"))
    finally:
        engine.dispose()
    before = state(any_registry_url)
    with pytest.raises(
        RegistryError,
        match=rf"newer dlworkflow \(schema version {SCHEMA_VERSION + 1}; this one reads {SCHEMA_VERSION}\)",
    ):
        Registry.open(any_registry_url)
    assert state(any_registry_url) == before


def test_an_unknown_revision_is_a_registry_error(registry_url: str) -> None:
    build_version_1_registry(registry_url)
    engine = plain_engine(registry_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) PRIMARY KEY)"))
            connection.execute(text(f"INSERT INTO {VERSION_TABLE} VALUES ('0999')"))
    finally:
        engine.dispose()
    with pytest.raises(RegistryError, match=r"registry sqlite:///.*: schema: cannot be upgraded.*'0999'.*Upgrade"):
        Registry.open(registry_url)
    assert state(registry_url)[:2] == ([1], "0999")


# --------------------------------------------------------------------------- sharing the database


def test_an_optuna_study_in_the_same_database_keeps_its_own_revision(any_registry_url: str, tmp_path: Path) -> None:
    # A study's storage is the registry's own database when the registry is not a SQLite file;
    # Optuna keeps its Alembic revision in alembic_version, the registry in its own table.
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = any_registry_url
    plain_engine(url).dispose()  # the SQLite file's folder
    optuna.storages.RDBStorage(url)
    with Registry.open(url, home=tmp_path / "dlw") as registry:
        registry.record(RunRecord(id="20250101-120000-aaaaaa", name="m", test_set={"fingerprint": WEATHER}),
                        looked_at_test=True, test_set_name="weather")
    storage = optuna.storages.RDBStorage(url)  # Optuna still finds its own schema
    assert storage.get_current_version() == storage.get_head_version()
    storage.engine.dispose()
    assert state(url)[:2] == ([SCHEMA_VERSION], revision_of(SCHEMA_VERSION))
