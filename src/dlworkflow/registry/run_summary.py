"""The results table: one leaderboard per test set and headline metric, best run first.

``dlw runs`` shows the results table of every run, so this read is built for size (100,000
runs): per leaderboard it asks the database for the best ``limit`` runs only (an index on
test set, metric and value serves the ``ORDER BY ... LIMIT``) and counts the rest; it reads
only the table's columns, never the stored records.

The queries are plain SQL text with ``:named`` parameters, which both the standard
library's ``sqlite3`` driver and SQLAlchemy's ``text()`` accept: the registry runs them
through SQLAlchemy for any database, and :mod:`dlworkflow.registry.quick_read` runs the
same text through ``sqlite3`` for a local SQLite file, without importing SQLAlchemy. This
module imports neither.

Example:
    >>> higher_is_better("rmse"), higher_is_better("accuracy")
    (False, True)
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS

LOWER_IS_BETTER = frozenset(name for name, direction in METRIC_DIRECTIONS.items() if direction == "min") | {
    "mse",
    "loss",
    "mape",
}
"""Metrics where a smaller value is better: the ``min`` metrics of
:data:`~dlworkflow.evaluation.metric_directions.METRIC_DIRECTIONS`, plus Keras' own error
names a run may rank by. Every other metric (accuracy, r2, ...) ranks higher values first."""


def higher_is_better(metric: str | None) -> bool:
    """Return whether larger values of ``metric`` are better.

    Args:
        metric: A metric name such as ``rmse`` or ``accuracy``.

    Returns:
        False for the error metrics in :data:`LOWER_IS_BETTER`, True otherwise.

    Example:
        >>> higher_is_better("mae")
        False
    """
    return metric not in LOWER_IS_BETTER


@dataclass(slots=True)
class RunSummary:
    """One row of the results table (``dlw runs``): the columns it shows, read without the record.

    Attributes:
        id: The run id.
        name: Model name.
        description: Model description.
        status: ``finished`` or ``failed``.
        created_at: ISO 8601 start time (UTC).
        primary_metric: The headline metric, e.g. ``rmse``.
        primary_value: Its value (None if missing, NaN or infinite).
        baseline_name: The baseline the headline metric is compared with.
        baseline_value: The baseline's value of the headline metric.
        test_set_name: The test set's registered name (the first name it was recorded under).
        test_set_fingerprint: The test set's fingerprint.
        test_set_looks: How often any run has been evaluated on this test set, now.
        test_set_look: This run's ordinal look at the test set; None if it never looked.
        git_commit: The commit the run was made from.
        git_dirty: Whether the working tree had uncommitted changes.
        comments: The run's comments, oldest first, joined with ``"; "`` (empty if none).

    Example:
        >>> [(row.name, row.primary_value) for row in registry.list_runs()]  # doctest: +SKIP
        [('dense-64', 2.31), ('linear', 2.9)]
    """

    id: str
    name: str
    description: str
    status: str
    created_at: str | None
    primary_metric: str | None
    primary_value: float | None
    baseline_name: str | None
    baseline_value: float | None
    test_set_name: str | None
    test_set_fingerprint: str | None
    test_set_looks: int | None
    test_set_look: int | None
    git_commit: str | None
    git_dirty: bool | None
    comments: str = ""



SUMMARY_COLUMNS = (
    "id",
    "name",
    "description",
    "status",
    "created_at",
    "primary_metric",
    "primary_value",
    "baseline_name",
    "baseline_value",
    "test_set_fingerprint",
    "test_set_look",
    "git_commit",
    "git_dirty",
)
"""The ``runs`` columns read per run, in the order the queries return them."""

LEADERBOARD_INDEX_COLUMNS = ("test_set_fingerprint", "primary_metric", "primary_value")
"""The columns of the index that serves each leaderboard's ``ORDER BY primary_value LIMIT n``."""

Execute = Callable[[str, dict[str, Any]], Sequence[Sequence[Any]]]
"""Runs one SQL text with ``:named`` parameters and returns its rows as tuples."""


@dataclass(frozen=True)
class Leaderboard:
    """The runs of one test set ranked by one headline metric, best first.

    Attributes:
        test_set_name: The test set's registered name (None for runs without a test set).
        test_set_fingerprint: Its fingerprint (None for runs without a test set).
        test_set_looks: How often any run has been evaluated on it, now.
        metric: The headline metric the runs are ranked by.
        runs: The best runs (all of them, or the best ``limit``), best first; runs without a
            value come last.
        total: How many runs the leaderboard has in all.

    Example:
        >>> board = read_leaderboards(execute, limit=20)[0]  # doctest: +SKIP
        >>> board.metric, len(board.runs), board.hidden  # doctest: +SKIP
        ('rmse', 20, 19980)
    """

    test_set_name: str | None
    test_set_fingerprint: str | None
    test_set_looks: int | None
    metric: str | None
    runs: list[RunSummary] = field(default_factory=list)
    total: int = 0

    @property
    def hidden(self) -> int:
        """How many of its runs are not in :attr:`runs` (beyond the limit)."""
        return self.total - len(self.runs)


def read_leaderboards(
    execute: Execute, *, fingerprints: Sequence[str] | None = None, limit: int | None = None
) -> list[Leaderboard]:
    """Read the results table as leaderboards, each ordered best first.

    Leaderboards are ordered by test set (registered name, then fingerprint; runs without a
    test set last), then by headline metric. Within one, runs are ordered best value first
    (lower first for rmse/mae, higher first for accuracy/r2/balanced_accuracy/f1_macro;
    ties by id, i.e. by start time), runs without a value last.

    Args:
        execute: Runs a SQL text with ``:named`` parameters on the registry database.
        fingerprints: Only the test sets with these fingerprints; default: all runs.
        limit: At most this many runs per leaderboard (the best ones); None for all.

    Returns:
        The leaderboards.

    Example:
        >>> boards = read_leaderboards(execute, limit=3)  # doctest: +SKIP
        >>> [(board.test_set_name, board.metric, board.total) for board in boards]  # doctest: +SKIP
        [('weather_3_years_v1', 'rmse', 12)]
    """
    with _collector_paused():
        where, parameters = _test_set_filter(fingerprints)
        boards = [Leaderboard(group.name, group.fingerprint, group.looks, group.metric,
                              _best_rows(execute, group.fingerprint, group.metric, limit), group.total)
                  for group in leaderboard_groups(execute, where, parameters)]
        boards.sort(key=_board_order)
        shown = {run.id for board in boards for run in board.runs}
        notes = joined_comments(execute("SELECT run_id, text FROM comments ORDER BY id", {}), shown)
        for board in boards:
            for run in board.runs:
                run.test_set_name, run.test_set_looks = board.test_set_name, board.test_set_looks
                run.comments = notes.get(run.id, "")
        return boards


class LeaderboardGroup(NamedTuple):
    """The runs of one test set and headline metric that a WHERE clause keeps: how many, and the test set's name and looks."""

    fingerprint: str | None
    metric: str | None
    total: int
    name: str | None
    looks: int | None


def leaderboard_groups(execute: Execute, where: str, parameters: dict[str, Any]) -> list[LeaderboardGroup]:
    """Each (test set, headline metric) pair of the runs ``where`` keeps, with its count and its test set.

    One query counts the runs per pair, one reads the test sets' names and looks; the
    leaderboards of ``dlw runs`` and the pages of ``dlw ui`` are built on these groups.

    Args:
        execute: Runs a SQL text with ``:named`` parameters on the registry database.
        where: ``""`` or a `` WHERE ...`` clause on the ``runs`` table.
        parameters: Its parameters.

    Returns:
        The groups, in the database's order.

    Example:
        >>> [(group.name, group.metric, group.total) for group in leaderboard_groups(execute, "", {})]  # doctest: +SKIP
        [('weather_3_years_v1', 'rmse', 12)]
    """
    counts = execute(
        f"SELECT test_set_fingerprint, primary_metric, COUNT(*) FROM runs{where} "
        "GROUP BY test_set_fingerprint, primary_metric",
        parameters,
    )
    sets = {fingerprint: (name, looks) for fingerprint, name, looks in execute(
        "SELECT fingerprint, name, looks FROM test_sets", {}
    )}
    return [LeaderboardGroup(fingerprint, metric, int(total), *sets.get(fingerprint, (None, None)))
            for fingerprint, metric, total in counts]


def _test_set_filter(fingerprints: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    if fingerprints is None:
        return "", {}
    names = [f"fingerprint_{index}" for index in range(len(fingerprints))]
    if not names:
        return " WHERE 1 = 0", {}
    placeholders = ", ".join(f":{name}" for name in names)
    return f" WHERE test_set_fingerprint IN ({placeholders})", dict(zip(names, fingerprints, strict=True))


def _best_rows(execute: Execute, fingerprint: str | None, metric: str | None, limit: int | None) -> list[RunSummary]:
    """One leaderboard's best runs: valued runs best first, then runs without a value."""
    conditions, parameters = [], {}
    for column, value in (("test_set_fingerprint", fingerprint), ("primary_metric", metric)):
        if value is None:
            conditions.append(f"{column} IS NULL")
        else:
            conditions.append(f"{column} = :{column}")
            parameters[column] = value
    where = " AND ".join(conditions)
    direction = "DESC" if higher_is_better(metric) else "ASC"
    columns = ", ".join(SUMMARY_COLUMNS)
    rows = list(execute(
        f"SELECT {columns} FROM runs WHERE {where} AND primary_value IS NOT NULL "
        f"ORDER BY primary_value {direction}, id" + _limit_clause(limit, parameters),
        parameters,
    ))
    if limit is None or len(rows) < limit:
        rest = None if limit is None else limit - len(rows)
        rows += execute(
            f"SELECT {columns} FROM runs WHERE {where} AND primary_value IS NULL ORDER BY id"
            + _limit_clause(rest, parameters),
            parameters,
        )
    return [_summary(row) for row in rows]


def _limit_clause(limit: int | None, parameters: dict[str, Any]) -> str:
    if limit is None:
        return ""
    parameters["limit"] = limit
    return " LIMIT :limit"


def _summary(row: Sequence[Any]) -> RunSummary:
    (run_id, name, description, status, created_at, metric, value, baseline, baseline_value,
     fingerprint, look, commit, dirty) = row
    return RunSummary(
        run_id, name, description, status, created_at, metric, value, baseline, baseline_value,
        None, fingerprint, None, look, commit, None if dirty is None else bool(dirty),
    )


def _board_order(board: Leaderboard) -> tuple[Any, ...]:
    name, fingerprint, metric = board.test_set_name, board.test_set_fingerprint, board.metric
    return (name is None, name or "", fingerprint or "", metric is None, metric or "")


def joined_comments(notes: Sequence[Sequence[Any]], shown: set[str]) -> dict[str, str]:
    """The comments of the ``shown`` runs, ``(run id, text)`` rows oldest first, joined as the COMMENTS column shows them."""
    joined: dict[str, list[str]] = {}
    for run_id, text in notes:
        if run_id in shown:
            joined.setdefault(run_id, []).append(text)
    return {run_id: "; ".join(texts) for run_id, texts in joined.items()}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large table is read.

    Reading 100,000 runs allocates hundreds of thousands of objects, none of them in
    reference cycles; the collector's repeated passes over them took a third of the time.
    The collector's previous state is restored on exit.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
