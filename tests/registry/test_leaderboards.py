"""Leaderboards: the best runs per test set and metric, read through SQLAlchemy or straight from SQLite.

Read through SQLAlchemy, the leaderboards are tested on SQLite and on PostgreSQL (``filled``);
the quick read of a local SQLite file on SQLite only (``filled_sqlite``).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from dlworkflow.registry import Registry, RunRecord
from dlworkflow.registry.quick_read import read_leaderboards_quickly

WEATHER = "a" * 64
PENGUINS = "b" * 64


def make_record(run_id: str, name: str, *, metric: str | None, value: float | None, fingerprint: str | None,
                status: str = "finished") -> RunRecord:
    return RunRecord(
        id=run_id,
        name=name,
        description=f"{name} <model>",
        status=status,
        created_at="2025-01-01T12:00:00+00:00",
        test_set={"name": None, "fingerprint": fingerprint},
        primary={"metric": metric, "value": value, "baseline": "mean", "baseline_value": 9.0},
        metrics={"train": {}, "validation": {}, "test": {} if value is None else {metric: value}},
        git={"commit": "c" * 40, "dirty": run_id.endswith("7")},
        backend="jax",
    )


def fill(url: str, home: Path) -> Iterator[Registry]:
    """A registry with two test sets, two metrics on one of them, unscored, failed and test-set-less runs."""
    runs = [
        ("0001", "mid", "rmse", 2.0, WEATHER, "finished"),
        ("0002", "worst", "rmse", 3.0, WEATHER, "finished"),
        ("0003", "best", "rmse", 1.0, WEATHER, "finished"),
        ("0004", "unscored", "rmse", None, WEATHER, "finished"),
        ("0005", "tie-first", "rmse", 2.0, WEATHER, "finished"),
        ("0006", "by-mae", "mae", 0.5, WEATHER, "finished"),
        ("0007", "acc-low", "accuracy", 0.7, PENGUINS, "finished"),
        ("0008", "acc-high", "accuracy", 0.9, PENGUINS, "finished"),
        ("0009", "crashed", None, None, None, "failed"),
    ]
    with Registry.open(url, home=home) as registry:
        for suffix, name, metric, value, fingerprint, status in runs:
            record = make_record(f"20250101-120000-{suffix}", name, metric=metric, value=value,
                                 fingerprint=fingerprint, status=status)
            test_set_name = {WEATHER: "weather", PENGUINS: "penguins"}.get(fingerprint)
            registry.record(record, looked_at_test=value is not None, test_set_name=test_set_name)
        registry.add_comment("20250101-120000-0003", "the one to beat")
        registry.add_comment("20250101-120000-0003", "seed 0")
        yield registry


@pytest.fixture
def filled(any_registry_url: str, tmp_path: Path) -> Iterator[Registry]:
    """The filled registry, on SQLite and on PostgreSQL."""
    yield from fill(any_registry_url, tmp_path / "dlw")


@pytest.fixture
def filled_sqlite(registry_url: str, tmp_path: Path) -> Iterator[Registry]:
    """The filled registry in a SQLite file (``registry_url``), for the quick read."""
    yield from fill(registry_url, tmp_path / "dlw")


def overview(boards) -> list[tuple]:
    return [(b.test_set_name, b.metric, b.total, [run.name for run in b.runs]) for b in boards]


def test_leaderboards_are_ordered_by_test_set_then_metric_best_first(filled: Registry) -> None:
    assert overview(filled.leaderboards()) == [
        ("penguins", "accuracy", 2, ["acc-high", "acc-low"]),
        ("weather", "mae", 1, ["by-mae"]),
        # equal values keep the order of their ids (start times); runs without a value come last
        ("weather", "rmse", 5, ["best", "mid", "tie-first", "worst", "unscored"]),
        (None, None, 1, ["crashed"]),
    ]


def test_a_limit_keeps_the_best_runs_and_counts_the_rest(filled: Registry) -> None:
    boards = filled.leaderboards(limit=2)
    assert overview(boards)[2] == ("weather", "rmse", 5, ["best", "mid"])
    assert [board.hidden for board in boards] == [0, 0, 3, 0]
    # Runs without a value fill the places the valued runs leave.
    assert [run.name for run in filled.leaderboards(limit=5)[2].runs][-1] == "unscored"


def test_each_run_carries_its_test_set_looks_and_comments(filled: Registry) -> None:
    best = filled.leaderboards()[2].runs[0]
    assert (best.test_set_name, best.test_set_looks, best.test_set_look) == ("weather", 5, 3)
    assert best.comments == "the one to beat; seed 0"
    assert (best.git_commit, best.git_dirty, best.description) == ("c" * 40, False, "best <model>")
    assert filled.leaderboards()[0].runs[1].git_dirty is True


@pytest.mark.parametrize("limit", [None, 1, 3])
@pytest.mark.parametrize("test_set", [None, "weather", "bbbb"])
def test_reading_straight_from_sqlite_gives_what_the_registry_gives(
    filled_sqlite: Registry, registry_url: str, limit: int | None, test_set: str | None
) -> None:
    quick = read_leaderboards_quickly(registry_url, test_set=test_set, limit=limit)
    assert quick is not None
    assert [asdict(board) for board in quick] == [
        asdict(board) for board in filled_sqlite.leaderboards(test_set, limit=limit)
    ]


def test_the_quick_read_leaves_what_it_cannot_do_to_the_registry(
    filled_sqlite: Registry, registry_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "elsewhere" / "registry.db"
    assert read_leaderboards_quickly(f"sqlite:///{missing}") is None
    assert not missing.parent.exists()  # nothing created
    assert read_leaderboards_quickly("postgresql://ann@db.example.org/results") is None
    assert read_leaderboards_quickly("sqlite://") is None
    assert read_leaderboards_quickly(registry_url, test_set="wether") is None  # the registry says "did you mean"
    database = registry_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("insert into schema_version (version) values (99)")
    assert read_leaderboards_quickly(registry_url) is None


def test_dlw_runs_on_a_sqlite_registry_never_imports_sqlalchemy(filled_sqlite: Registry, registry_url: str) -> None:
    code = textwrap.dedent(f"""
        import sys
        from dlworkflow.cli import app
        try:
            app(["runs", "--registry", {registry_url!r}, "--limit", "1"])
        except SystemExit as end:
            assert not end.code, end.code
        heavy = [m for m in ("sqlalchemy", "pydantic", "pandas", "numpy", "keras") if m in sys.modules]
        sys.exit(", ".join(heavy) or 0)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "best" in result.stdout and "… and 4 more runs on this test set by rmse" in result.stdout
