"""The results table: one light :class:`RunSummary` per run, read fast and ordered best first.

``dlw runs`` lists every run, so this read is built for size (100,000 runs): it reads only
the table's columns (never the stored records), takes rows straight from the driver, and
orders them in Python, where a few groups and one float sort per group beat a SQL sort of
wide rows.

Example:
    >>> higher_is_better("rmse"), higher_is_better("accuracy")
    (False, True)
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Select, select

from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS
from dlworkflow.registry.database import comments, runs, test_sets

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


# The columns read per run, in this order (the indexes below refer to it).
_COLUMNS = (
    runs.c.id,
    runs.c.name,
    runs.c.description,
    runs.c.status,
    runs.c.created_at,
    runs.c.primary_metric,
    runs.c.primary_value,
    runs.c.baseline_name,
    runs.c.baseline_value,
    runs.c.test_set_fingerprint,
    runs.c.test_set_look,
    runs.c.git_commit,
    runs.c.git_dirty,
)
_ID, _METRIC, _VALUE, _FINGERPRINT = 0, 5, 6, 9

Row = tuple[Any, ...]


def read_run_summaries(connection: Connection, fingerprints: Sequence[str] | None = None) -> list[RunSummary]:
    """Read the results table, ordered best first within each test set.

    Rows are grouped by test set (by registered name, then fingerprint; runs without a test
    set last), then by headline metric, then ordered best value first (lower first for
    rmse/mae, higher first for accuracy/r2/balanced_accuracy/f1_macro; ties by id, i.e. by
    start time); runs without a value come last in their group.

    Args:
        connection: An open connection to the registry database.
        fingerprints: Only runs on these test sets; default: all runs.

    Returns:
        The summaries.

    Example:
        >>> with engine.connect() as connection:               # doctest: +SKIP
        ...     rows = read_run_summaries(connection, [fingerprint])
    """
    with _collector_paused():
        query = select(*_COLUMNS)
        notes_query = select(comments.c.run_id, comments.c.text).order_by(comments.c.id)
        if fingerprints is not None:
            query = query.where(runs.c.test_set_fingerprint.in_(fingerprints))
            notes_query = notes_query.join(runs, runs.c.id == comments.c.run_id).where(
                runs.c.test_set_fingerprint.in_(fingerprints)
            )
        test_set_rows = select(test_sets.c.fingerprint, test_sets.c.name, test_sets.c.looks)
        sets = {fingerprint: (name, looks) for fingerprint, name, looks in connection.execute(test_set_rows)}
        notes = connection.execute(notes_query).all()
        rows = _fetch_all(connection, query)
        return _ordered(rows, sets, _joined_comments(notes))


def _joined_comments(notes: Sequence[Any]) -> dict[str, str]:
    joined: dict[str, list[str]] = {}
    for run_id, text in notes:
        joined.setdefault(run_id, []).append(text)
    return {run_id: "; ".join(texts) for run_id, texts in joined.items()}


def _ordered(
    rows: list[Row], sets: dict[str, tuple[str, int]], comment_text: dict[str, str]
) -> list[RunSummary]:
    """Group the rows by (test set, metric), order groups and rows, and build the summaries."""
    rows.sort(key=itemgetter(_ID))  # ties within a group: by id (start time)
    groups: dict[tuple[str | None, str | None], list[Row]] = {}
    for row in rows:
        key = (row[_FINGERPRINT], row[_METRIC])
        group = groups.get(key)
        if group is None:
            groups[key] = [row]
        else:
            group.append(row)

    def test_set_of(fingerprint: str | None) -> tuple[str | None, int | None]:
        return sets.get(fingerprint, (None, None)) if fingerprint is not None else (None, None)

    def group_order(key: tuple[str | None, str | None]) -> tuple[Any, ...]:
        fingerprint, metric = key
        name = test_set_of(fingerprint)[0]
        return (name is None, name or "", fingerprint or "", metric is None, metric or "")

    summaries: list[RunSummary] = []
    for key in sorted(groups, key=group_order):
        fingerprint, metric = key
        group = groups[key]
        set_name, looks = test_set_of(fingerprint)
        valued = [row for row in group if row[_VALUE] is not None]
        valued.sort(key=itemgetter(_VALUE), reverse=higher_is_better(metric))  # stable either way
        if len(valued) < len(group):
            valued += [row for row in group if row[_VALUE] is None]
        summaries += [
            RunSummary(
                run_id,
                name,
                description,
                status,
                created_at,
                metric,
                value,
                baseline,
                baseline_value,
                set_name,
                fingerprint,
                looks,
                look,
                commit,
                None if dirty is None else bool(dirty),
                comment_text.get(run_id, ""),
            )
            for (
                run_id,
                name,
                description,
                status,
                created_at,
                metric,
                value,
                baseline,
                baseline_value,
                fingerprint,
                look,
                commit,
                dirty,
            ) in valued
        ]
    return summaries


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


def _fetch_all(connection: Connection, query: Select[Any]) -> list[Row]:
    """Run a SELECT on the connection's DBAPI cursor and return plain tuples.

    The query is compiled by SQLAlchemy for the connection's dialect, but its rows skip
    SQLAlchemy's Row objects and result processing: for a 100,000-run results table that
    halves the time. Only for queries whose columns need no type conversion beyond what
    the driver does (booleans may come back as 0/1).
    """
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
