"""The results registry: recording runs, test-set looks, the results table, lookups, comments, URLs.

Every test that is about the database runs twice, on SQLite and on PostgreSQL (``any_registry_url``);
the tests of SQLite files (paths, WAL, the default location) use SQLite only (``registry_url``).
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from dlworkflow.errors import RegistryError
from dlworkflow.registry import Registry, RunRecord, RunSummary, artifacts
from dlworkflow.registry.location import SCHEMA_VERSION

WEATHER = "a" * 64
PENGUINS = "b" * 64


def make_record(
    run_id: str,
    name: str = "dense",
    *,
    metric: str | None = "rmse",
    value: float | None = 1.0,
    fingerprint: str | None = WEATHER,
    status: str = "finished",
    created_at: str = "2025-01-01T12:00:00+00:00",
) -> RunRecord:
    return RunRecord(
        id=run_id,
        name=name,
        description=f"{name} model",
        status=status,
        created_at=created_at,
        test_set={"name": None, "fingerprint": fingerprint},
        primary={"metric": metric, "value": value, "baseline": "mean", "baseline_value": 9.0},
        metrics={"train": {}, "validation": {}, "test": {} if value is None else {metric: value}},
        git={"commit": "c" * 40, "dirty": False},
        backend="jax",
    )


@pytest.fixture
def registry(any_registry_url: str, tmp_path: Path) -> Iterator[Registry]:
    with Registry.open(any_registry_url, home=tmp_path / "dlw") as opened:
        yield opened


def execute(url: str, statement: str) -> None:
    """Change the database behind dlworkflow's back (as another program or a person would)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- opening


def test_open_creates_the_database_and_its_folder(registry_url: str, tmp_path: Path) -> None:
    with Registry.open(registry_url) as registry:
        assert (tmp_path / "dlw" / "registry.db").is_file()
        assert registry.home == tmp_path / "dlw"
        assert registry.list_runs() == []
    with sqlite3.connect(tmp_path / "dlw" / "registry.db") as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
        assert {"runs", "run_records", "test_sets", "comments", "schema_version"} <= tables
        assert connection.execute("select version from schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert connection.execute("pragma journal_mode").fetchone() == ("wal",)


def test_open_creates_the_tables_on_a_server(postgres_url: str, tmp_path: Path) -> None:
    with Registry.open(postgres_url, home=tmp_path / "artifacts") as registry:
        assert registry.home == tmp_path / "artifacts"
        assert registry.list_runs() == []
        assert make_url(postgres_url).password not in registry.url
        assert registry.url.startswith("postgresql+psycopg://dlw:***@127.0.0.1:")
    engine = create_engine(postgres_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"runs", "run_records", "test_sets", "comments", "schema_version"} <= tables
        with engine.connect() as connection:
            assert connection.execute(text("select version from schema_version")).all() == [(SCHEMA_VERSION,)]
    finally:
        engine.dispose()


def test_a_plain_postgresql_url_uses_the_installed_driver(postgres_url: str, tmp_path: Path) -> None:
    # Users write postgresql://... (SQLAlchemy's default driver for it, psycopg2, is not installed).
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with Registry.open(plain, home=tmp_path) as registry:
        registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
        assert registry.url.startswith("postgresql://dlw:***@127.0.0.1:")
    with Registry.open(postgres_url, home=tmp_path) as registry:
        assert [run.id for run in registry.list_runs()] == ["20250101-120000-aaaa"]


def test_reopening_keeps_the_runs(any_registry_url: str, tmp_path: Path) -> None:
    with Registry.open(any_registry_url, home=tmp_path) as registry:
        registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    with Registry.open(any_registry_url, home=tmp_path) as registry:
        assert [run.id for run in registry.list_runs()] == ["20250101-120000-aaaa"]


def test_environment_variable_names_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLW_REGISTRY", f"sqlite:///{tmp_path / 'from-env' / 'results.db'}")
    with Registry.open() as registry:
        assert registry.home == tmp_path / "from-env"
    assert (tmp_path / "from-env" / "results.db").is_file()


def test_url_argument_beats_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLW_REGISTRY", f"sqlite:///{tmp_path / 'from-env' / 'registry.db'}")
    with Registry.open(f"sqlite:///{tmp_path / 'from-arg' / 'registry.db'}") as registry:
        assert registry.home == tmp_path / "from-arg"
    assert not (tmp_path / "from-env").exists()


def test_default_is_dot_dlw_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLW_REGISTRY", raising=False)
    monkeypatch.chdir(tmp_path)
    with Registry.open() as registry:
        assert registry.home == tmp_path / ".dlw"
    assert (tmp_path / ".dlw" / "registry.db").is_file()


def test_home_argument_places_the_default_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLW_REGISTRY", raising=False)
    with Registry.open(home=tmp_path / "project-results") as registry:
        assert registry.home == tmp_path / "project-results"
    assert (tmp_path / "project-results" / "registry.db").is_file()


def test_a_relative_sqlite_url_is_fixed_at_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Registry.open("sqlite:///results/registry.db") as registry:
        assert registry.home == tmp_path / "results"
        monkeypatch.chdir(tmp_path.parent)
        registry.record(make_record("20250101-120000-aaaa"), looked_at_test=False, test_set_name="weather")
    assert (tmp_path / "results" / "registry.db").is_file()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite+pysqlite:///:memory:",
                                 "sqlite:///file:runs?mode=memory&uri=true", "sqlite:///file::memory:?cache=shared"])
def test_an_in_memory_sqlite_url_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"is an in-memory SQLite database.*lost.*sqlite:///\.dlw/registry\.db"):
        Registry.open(url, home=tmp_path / "artifacts")
    assert not (tmp_path / "artifacts").exists()


def test_unknown_database_type_is_a_registry_error() -> None:
    expected = r"registry nosuchdb://x/y: names an unknown database type 'nosuchdb'.*--registry.*DLW_REGISTRY"
    with pytest.raises(RegistryError, match=expected):
        Registry.open("nosuchdb://x/y")


def test_text_that_is_no_url_is_a_registry_error() -> None:
    expected = r"registry not a url: is not a database URL.*--registry or the DLW_REGISTRY"
    with pytest.raises(RegistryError, match=expected):
        Registry.open("not a url")


def test_an_unusable_path_is_a_registry_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker / 'registry.db'}"
    with pytest.raises(RegistryError, match=r"cannot create the folder .*a-file.*--registry"):
        Registry.open(url)


def test_a_file_that_is_not_a_database_is_a_registry_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "registry.db").write_bytes(b"this is not a database at all" * 100)
    expected = rf"the file '{tmp_path / 'registry.db'}' is not a SQLite database \(2900 bytes.*dlw will not replace it"
    with pytest.raises(RegistryError, match=expected) as caught:
        Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    assert "this is not a database" not in str(caught.value)  # errors never quote a file's contents
    assert (tmp_path / "registry.db").read_bytes() == b"this is not a database at all" * 100


def test_an_empty_registry_file_is_refused_not_taken_for_a_new_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlworkflow.registry import database

    monkeypatch.setattr(database, "EMPTY_FILE_WAIT_SECONDS", 0.1)
    (tmp_path / "registry.db").write_bytes(b"")
    expected = rf"the file '{tmp_path / 'registry.db'}' is empty \(0 bytes\).*restore it from a backup.*dlw recover"
    with pytest.raises(RegistryError, match=expected):
        Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    assert (tmp_path / "registry.db").stat().st_size == 0


def test_a_damaged_registry_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    with Registry.open(f"sqlite:///{path}") as registry:
        registry.record(make_record("20250101-120000-aaaa"), looked_at_test=False, test_set_name="weather")
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the first page's b-tree, after the header
    path.write_bytes(bytes(data))
    with pytest.raises(RegistryError, match=rf"the file '{path}' is (damaged|not a SQLite database)"):
        Registry.open(f"sqlite:///{path}")


def test_a_sqlite_file_of_another_program_is_not_turned_into_a_registry(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text)")
    with pytest.raises(RegistryError, match=r"is a SQLite database of something else.*1 other tables"):
        Registry.open(f"sqlite:///{path}")


def test_the_environment_is_named_as_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLW_REGISTRY", "nosuchdb://x/y")
    with pytest.raises(RegistryError, match=r"registry nosuchdb://x/y \(from DLW_REGISTRY\)"):
        Registry.open()


def test_server_url_errors_never_show_the_password() -> None:
    # Either the driver is missing or nothing listens on port 1: both must mask the password.
    with pytest.raises(RegistryError) as caught:
        Registry.open("postgresql://ann:s3cret-pw@127.0.0.1:1/results?connect_timeout=2")
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "postgresql://ann:***@127.0.0.1:1/results" in message
    assert "DLW_REGISTRY" in message


def test_a_newer_schema_is_refused(any_registry_url: str) -> None:
    Registry.open(any_registry_url).close()
    execute(any_registry_url, f"update schema_version set version = {SCHEMA_VERSION + 1}")
    newer = rf"newer dlworkflow \(schema version {SCHEMA_VERSION + 1}; this one reads {SCHEMA_VERSION}\)"
    with pytest.raises(RegistryError, match=newer):
        Registry.open(any_registry_url)


# --------------------------------------------------------------------------- recording and looks


def test_looks_count_up_and_get_shows_the_current_total(registry: Registry) -> None:
    first = registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    second = registry.record(make_record("20250101-130000-bbbb"), looked_at_test=True, test_set_name="weather")

    assert (first.test_set["look"], first.test_set["looks"]) == (1, 1)
    assert (second.test_set["look"], second.test_set["looks"]) == (2, 2)
    again = registry.get("20250101-120000-aaaa")
    assert (again.test_set["look"], again.test_set["looks"]) == (1, 2)
    assert again.test_set["name"] == "weather"
    assert again.test_set["fingerprint"] == WEATHER


def test_a_run_that_did_not_look_leaves_the_count(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    quiet = registry.record(
        make_record("20250101-130000-bbbb", value=None), looked_at_test=False, test_set_name="weather"
    )
    assert (quiet.test_set["look"], quiet.test_set["looks"]) == (None, 1)
    assert registry.get("20250101-12").test_set["looks"] == 1


def test_a_never_seen_test_set_not_looked_at_has_zero_looks(registry: Registry) -> None:
    stored = registry.record(make_record("20250101-120000-aaaa"), looked_at_test=False, test_set_name="weather")
    assert (stored.test_set["look"], stored.test_set["looks"]) == (None, 0)


def test_the_first_name_of_a_test_set_wins(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    renamed = registry.record(make_record("20250101-130000-bbbb"), looked_at_test=True, test_set_name="weather-v2")
    assert renamed.test_set["name"] == "weather"
    assert {run.test_set_name for run in registry.list_runs()} == {"weather"}


def test_get_returns_what_record_stored(registry: Registry) -> None:
    stored = registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    assert registry.get(stored.id) == stored
    assert stored.primary["value"] == 1.0
    assert stored.git.to_dict() == {"commit": "c" * 40, "dirty": False}


def test_classes_and_skipped_baselines_survive_the_database(registry: Registry) -> None:
    classes = {
        "names": ["cat", "dog"],
        "confusion": {"test": [[3, 1], [0, 4]]},
        "per_class_accuracy": {"test": {"cat": 0.75, "dog": 1.0}},
    }
    record = make_record("20250101-120000-aaaa", metric="accuracy", value=0.875).replace(
        classes=classes, baselines_skipped={"logistic_regression": "images streamed from disk"}
    )
    registry.record(record, looked_at_test=True, test_set_name="cats")
    stored = registry.get("20250101-120000-aaaa")
    assert stored.classes == classes
    assert stored.baselines_skipped == {"logistic_regression": "images streamed from disk"}


def test_recording_an_id_twice_is_refused(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    with pytest.raises(RegistryError, match="a run with this id is already recorded; got '20250101-120000-aaaa'"):
        registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    assert registry.get("20250101-120000-aaaa").test_set["looks"] == 1  # the refused run did not count


def test_an_invalid_status_is_refused(registry: Registry) -> None:
    expected = r"run '20250101-120000-aaaa': status: must be one of 'finished', 'failed', 'interrupted'; got 'done'"
    with pytest.raises(RegistryError, match=expected):
        registry.record(make_record("20250101-120000-aaaa", status="done"), looked_at_test=False, test_set_name="w")


def test_an_interrupted_run_is_recorded_and_replaced_by_its_finished_run(registry: Registry) -> None:
    interrupted = make_record("20250101-120000-aaaa", status="interrupted", value=None)
    registry.record(interrupted, looked_at_test=False, test_set_name="weather")
    registry.add_comment("20250101-120000-aaaa", "stopped by Ctrl-C")
    finished = registry.replace_interrupted(make_record("20250101-120000-aaaa"), looked_at_test=True,
                                            test_set_name="weather")
    assert (finished.status, finished.test_set["look"]) == ("finished", 1)
    again = registry.get("20250101-120000-aaaa")
    assert again.status == "finished" and [c["text"] for c in again.comments] == ["stopped by Ctrl-C"]
    with pytest.raises(RegistryError, match="is not an interrupted run"):
        registry.replace_interrupted(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="w")


def test_looking_without_a_fingerprint_is_refused(registry: Registry) -> None:
    with pytest.raises(RegistryError, match="test_set.fingerprint: a run that looked at the test set must record"):
        registry.record(make_record("20250101-120000-aaaa", fingerprint=None), looked_at_test=True, test_set_name="w")


def test_a_failed_run_without_a_test_set_is_recorded(registry: Registry) -> None:
    failed = make_record("20250101-120000-aaaa", fingerprint=None, value=None, metric=None, status="failed")
    stored = registry.record(failed.replace(error="loss became NaN"), looked_at_test=False, test_set_name="")
    assert stored.status == "failed" and stored.error == "loss became NaN"
    assert stored.test_set.to_dict() == {"name": None, "fingerprint": None, "looks": None, "look": None}
    (row,) = registry.list_runs()
    assert (row.status, row.test_set_name, row.primary_value) == ("failed", None, None)


def test_a_nan_value_is_stored_as_missing(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa", value=float("nan")), looked_at_test=True, test_set_name="w")
    assert registry.list_runs()[0].primary_value is None


def test_several_processes_count_every_look(any_registry_url: str) -> None:
    Registry.open(any_registry_url).close()
    script = textwrap.dedent(
        f"""
        import sys
        from dlworkflow.registry import Registry, RunRecord
        worker = sys.argv[1]
        with Registry.open({any_registry_url!r}) as registry:
            for index in range(5):
                record = RunRecord(id=f"20250101-120000-{{worker}}{{index}}", name="m",
                                   test_set={{"fingerprint": {WEATHER!r}}})
                registry.record(record, looked_at_test=True, test_set_name="weather")
        """
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(worker)], stderr=subprocess.PIPE, text=True)
        for worker in range(4)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors
    with Registry.open(any_registry_url) as registry:
        rows = registry.list_runs()
    assert len(rows) == 20
    assert {row.test_set_looks for row in rows} == {20}
    assert sorted(row.test_set_look for row in rows) == list(range(1, 21))


def test_a_test_set_registered_meanwhile_by_another_process_counts_the_look(postgres_url: str, tmp_path: Path) -> None:
    # On PostgreSQL each statement of a transaction sees what others committed meanwhile: here
    # another process registers the test set just after this one's UPDATE found it missing.
    # (On SQLite the other process would wait for this one's write lock instead.)
    with Registry.open(postgres_url, home=tmp_path) as registry, Registry.open(postgres_url, home=tmp_path) as other:
        meanwhile: list[RunRecord] = []

        @event.listens_for(registry._engine, "after_cursor_execute")
        def another_process_records(connection, cursor, statement, *_) -> None:
            if statement.startswith("UPDATE test_sets") and not meanwhile:
                record = make_record("20250101-120000-bbbb")
                meanwhile.append(other.record(record, looked_at_test=True, test_set_name="weather"))

        stored = registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
        assert meanwhile[0].test_set["look"] == 1
        assert (stored.test_set["look"], stored.test_set["looks"]) == (2, 2)
        assert registry.get("20250101-120000-bbbb").test_set["looks"] == 2


def test_several_processes_can_create_a_new_registry_at_once(any_registry_url: str) -> None:
    # Parallel workers started on a new registry all create its tables at the same moment.
    script = textwrap.dedent(
        f"""
        import sys
        from dlworkflow.registry import Registry, RunRecord
        from dlworkflow.registry.database import create_registry_engine
        create_registry_engine({any_registry_url!r}).dispose()  # imports the database's driver
        print("ready", flush=True)
        sys.stdin.readline()
        with Registry.open({any_registry_url!r}) as registry:
            record = RunRecord(id=f"20250101-120000-{{sys.argv[1]}}", name="m", test_set={{"fingerprint": {WEATHER!r}}})
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
    for worker in workers:  # every worker has imported dlworkflow ...
        assert worker.stdout.readline() == "ready\n"
    for worker in workers:  # ... and now they open the registry together
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors
    with Registry.open(any_registry_url) as registry:
        rows = registry.list_runs()
    assert sorted(row.test_set_look for row in rows) == [1, 2, 3, 4]


# --------------------------------------------------------------------------- test-set warnings


def test_no_warning_for_a_consistent_or_new_test_set(registry: Registry) -> None:
    assert registry.warnings_for_test_set(WEATHER, "weather") == []
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    assert registry.warnings_for_test_set(WEATHER, "weather") == []
    assert registry.warnings_for_test_set(PENGUINS, "penguins") == []


def test_warning_when_the_name_is_taken_by_other_rows(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    (warning,) = registry.warnings_for_test_set(PENGUINS, "weather")
    assert "Test set name 'weather' already names a different test set (fingerprint aaaaaaaaaaaa, 1 looks)" in warning
    assert "not comparable" in warning
    assert "evaluate.test_set" in warning


def test_warning_when_the_rows_are_registered_under_another_name(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    (warning,) = registry.warnings_for_test_set(WEATHER, "weather-again")
    assert "already registered as 'weather' (1 looks)" in warning
    assert "listed under 'weather', not 'weather-again'" in warning


# --------------------------------------------------------------------------- the results table


def test_results_table_is_grouped_by_test_set_and_best_first(registry: Registry) -> None:
    runs = [
        make_record("20250101-120000-0001", "mid", value=2.0),
        make_record("20250101-120000-0002", "worst", value=3.0),
        make_record("20250101-120000-0003", "best", value=1.0),
        make_record("20250101-120000-0004", "unscored", value=None),
        make_record("20250101-120000-0005", "acc-low", metric="accuracy", value=0.7, fingerprint=PENGUINS),
        make_record("20250101-120000-0006", "acc-high", metric="accuracy", value=0.9, fingerprint=PENGUINS),
        make_record("20250101-120000-0007", "acc-tie", metric="accuracy", value=0.7, fingerprint=PENGUINS),
    ]
    for run in runs:
        name = "weather" if run.test_set["fingerprint"] == WEATHER else "penguins"
        registry.record(run, looked_at_test=run.primary["value"] is not None, test_set_name=name)

    table = registry.list_runs()

    assert [(row.test_set_name, row.name) for row in table] == [
        ("penguins", "acc-high"),
        ("penguins", "acc-low"),
        ("penguins", "acc-tie"),
        ("weather", "best"),
        ("weather", "mid"),
        ("weather", "worst"),
        ("weather", "unscored"),
    ]
    assert all(isinstance(row, RunSummary) for row in table)
    best = table[3]
    assert (best.primary_metric, best.primary_value) == ("rmse", 1.0)
    assert (best.baseline_name, best.baseline_value) == ("mean", 9.0)
    assert (best.test_set_looks, best.test_set_look, best.test_set_fingerprint) == (3, 3, WEATHER)
    assert (best.git_commit, best.git_dirty) == ("c" * 40, False)
    assert (best.status, best.description) == ("finished", "best model")


@pytest.mark.parametrize(("metric", "expected"), [("mae", ["a", "b"]), ("r2", ["b", "a"]), ("f1_macro", ["b", "a"])])
def test_metric_direction(registry: Registry, metric: str, expected: list[str]) -> None:
    for run_id, name, value in [("20250101-120000-0001", "a", 0.1), ("20250101-120000-0002", "b", 0.5)]:
        registry.record(make_record(run_id, name, metric=metric, value=value), looked_at_test=True, test_set_name="w")
    assert [row.name for row in registry.list_runs()] == expected


def test_metric_direction_agrees_with_the_evaluation_layer() -> None:
    # The registry keeps its own numpy-free copy so that `dlw runs` stays light.
    from dlworkflow.registry import higher_is_better

    metrics = pytest.importorskip("dlworkflow.evaluation.metrics")
    directions = getattr(metrics, "METRIC_DIRECTIONS", None)
    if directions is None:
        pytest.skip("dlworkflow.evaluation.metrics has no METRIC_DIRECTIONS")
    assert {name: higher_is_better(name) for name in directions} == {
        name: direction == "max" for name, direction in directions.items()
    }


def test_results_table_for_one_test_set(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-0001", "w"), looked_at_test=True, test_set_name="weather")
    penguins = make_record("20250101-120000-0002", "p", fingerprint=PENGUINS)
    registry.record(penguins, looked_at_test=True, test_set_name="penguins")
    assert [row.name for row in registry.list_runs(test_set="penguins")] == ["p"]
    assert [row.name for row in registry.list_runs(test_set=WEATHER)] == ["w"]
    assert [row.name for row in registry.list_runs(test_set="bbbbbb")] == ["p"]


def test_results_table_for_an_unknown_test_set(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-0001"), looked_at_test=True, test_set_name="weather")
    expected = r"test set: no test set has this name or fingerprint; got 'wether'. Did you mean 'weather'\?"
    with pytest.raises(RegistryError, match=expected):
        registry.list_runs(test_set="wether")


def test_results_table_reads_no_records(registry: Registry, any_registry_url: str) -> None:
    registry.record(make_record("20250101-120000-0001"), looked_at_test=True, test_set_name="weather")
    execute(any_registry_url, "update run_records set record_json = 'broken'")
    assert [row.id for row in registry.list_runs()] == ["20250101-120000-0001"]
    with pytest.raises(RegistryError, match="its stored record is not a readable run record"):
        registry.get("20250101-120000-0001")


# --------------------------------------------------------------------------- lookups


def test_get_by_unique_prefix(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    registry.record(make_record("20250102-090000-bbbb"), looked_at_test=True, test_set_name="weather")
    assert registry.get("20250102").id == "20250102-090000-bbbb"
    assert registry.get("20250101-12").id == "20250101-120000-aaaa"
    assert registry.resolve_id(" 20250102 ") == "20250102-090000-bbbb"


def test_an_ambiguous_prefix_lists_the_matches(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    registry.record(make_record("20250101-130000-bbbb"), looked_at_test=True, test_set_name="weather")
    with pytest.raises(RegistryError) as caught:
        registry.get("20250101")
    message = str(caught.value)
    assert "the prefix matches several runs: '20250101-120000-aaaa', '20250101-130000-bbbb'; got '20250101'" in message
    assert "Type more of the id." in message


def test_an_unknown_id_suggests_a_recent_one(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    with pytest.raises(RegistryError) as caught:
        registry.get("20250101-120000-aaab")
    message = str(caught.value)
    assert re.search(r"run id: no run has this id or an id starting with it; got '20250101-120000-aaab'", message)
    assert "Did you mean '20250101-120000-aaaa'?" in message
    assert "`dlw runs`" in message


def test_an_unknown_id_in_an_empty_registry(registry: Registry) -> None:
    with pytest.raises(RegistryError, match=r"got 'abc'. The registry has no runs yet"):
        registry.get("abc")


def test_like_wildcards_in_a_prefix_are_literal(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    with pytest.raises(RegistryError, match="no run has this id"):
        registry.get("2025%")
    with pytest.raises(RegistryError, match="no run has this id"):
        registry.get("2025010_")


# --------------------------------------------------------------------------- comments


def test_comments_are_attached_and_joined(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    assert registry.add_comment("20250101", "overfits after epoch 40") == "20250101-120000-aaaa"
    registry.add_comment("20250101-120000-aaaa", "  try dropout  ")

    record = registry.get("20250101-120000-aaaa")
    assert [comment["text"] for comment in record.comments] == ["overfits after epoch 40", "try dropout"]
    assert all(comment["created_at"] for comment in record.comments)
    assert registry.list_runs()[0].comments == "overfits after epoch 40; try dropout"


def test_a_blank_comment_is_refused(registry: Registry) -> None:
    registry.record(make_record("20250101-120000-aaaa"), looked_at_test=True, test_set_name="weather")
    with pytest.raises(RegistryError, match="comment: must be non-empty text"):
        registry.add_comment("20250101-120000-aaaa", "   ")


def test_a_comment_on_an_unknown_run_is_refused(registry: Registry) -> None:
    with pytest.raises(RegistryError, match="no run has this id"):
        registry.add_comment("nope", "hello")


def test_comments_in_a_record_are_not_stored_by_record(registry: Registry) -> None:
    record = make_record("20250101-120000-aaaa").replace(comments=[{"text": "x", "created_at": "y"}])
    assert registry.record(record, looked_at_test=True, test_set_name="weather").comments == []


# --------------------------------------------------------------------------- ids and folders


def test_new_run_ids_are_time_stamped_and_unique(registry: Registry) -> None:
    ids = {registry.new_run_id() for _ in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", run_id) for run_id in ids)


def test_stage_commit_puts_the_run_folder_in_home(registry: Registry) -> None:
    run_id = registry.new_run_id()
    with registry.stage(run_id) as folder:
        folder.path(artifacts.RECORD).write_text("{}")
        final = folder.commit()
    assert final == registry.home / "runs" / run_id == registry.run_dir(run_id)
    assert (final / "run.json").is_file()


def test_a_staged_but_discarded_run_leaves_no_folder(registry: Registry) -> None:
    run_id = registry.new_run_id()
    folder = registry.stage(run_id)
    folder.path(artifacts.MODEL).write_bytes(b"partial")
    folder.discard()
    assert not registry.run_dir(run_id).exists()
    assert [path.name for path in (registry.home / "runs").iterdir()] == []


# --------------------------------------------------------------------------- imports


def test_importing_the_registry_imports_no_heavy_library() -> None:
    code = (
        "import sys, dlworkflow.registry, dlworkflow.provenance\n"
        "heavy = ('keras', 'tensorflow', 'jax', 'pandas', 'numpy')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONSTARTUP"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    assert result.stdout.strip() == "[]"
