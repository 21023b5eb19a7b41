"""The results table one page at a time, filtered and sorted: what a web page of 100,000 runs asks for.

``dlw runs`` reads each leaderboard's best ``limit`` runs (:mod:`dlworkflow.registry.run_summary`);
a page in a browser also filters them (by model name, test set, status, start date), sorts them
(best first, newest, oldest, by name) and turns pages (``LIMIT ... OFFSET``). Each query reads
only the ``runs`` columns of the table, never the stored records, and the comments of the runs
shown only. The SQL is plain text with ``:named`` parameters, run by an ``execute`` callable as
:func:`~dlworkflow.registry.run_summary.read_leaderboards` runs it (SQLAlchemy's ``text()`` or
``sqlite3``), so it works on every database the registry supports.

Example:
    >>> RunFilter(status="finished", page=2, per_page=20).offset
    20
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dlworkflow.errors import RegistryError
from dlworkflow.registry.record import STATUSES
from dlworkflow.registry.run_summary import (
    SUMMARY_COLUMNS,
    Execute,
    RunSummary,
    higher_is_better,
    joined_comments,
    leaderboard_groups,
)

SORTS = ("best", "newest", "oldest", "name")
"""How a page's runs can be ordered: best value first (the leaderboard's order), by start time, by model name."""

MAX_PER_PAGE = 500
"""The most runs one page may hold."""


@dataclass(frozen=True)
class RunFilter:
    """Which runs a page shows and in which order.

    Attributes:
        name: Only runs whose model name contains this text (case-insensitive on SQLite).
        test_set: Only runs on the test set of this registered name (or a fingerprint prefix).
        status: Only runs of this status (``finished``, ``failed``, ``interrupted``).
        since: Only runs started on or after this date (``YYYY-MM-DD``, UTC).
        until: Only runs started on or before this date (``YYYY-MM-DD``, UTC).
        sort: One of :data:`SORTS`.
        page: The page, from 1.
        per_page: Runs per leaderboard and page, 1 to :data:`MAX_PER_PAGE`.

    Example:
        >>> RunFilter(page=3, per_page=50).offset
        100
    """

    name: str | None = None
    test_set: str | None = None
    status: str | None = None
    since: str | None = None
    until: str | None = None
    sort: str = "best"
    page: int = 1
    per_page: int = 50

    def __post_init__(self) -> None:
        where = "results page"
        if self.sort not in SORTS:
            raise RegistryError.single(where, "sort", f"must be one of {', '.join(map(repr, SORTS))}", got=self.sort)
        if self.status and self.status not in STATUSES:
            raise RegistryError.single(
                where, "status", f"must be one of {', '.join(map(repr, STATUSES))}", got=self.status
            )
        if not isinstance(self.page, int) or self.page < 1:
            raise RegistryError.single(where, "page", "must be a whole number from 1", got=self.page)
        if not isinstance(self.per_page, int) or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise RegistryError.single(
                where, "per_page", f"must be a whole number from 1 to {MAX_PER_PAGE}", got=self.per_page
            )
        for key in ("since", "until"):
            value = getattr(self, key)
            if value and not _is_date(value):
                raise RegistryError.single(where, key, "must be a date YYYY-MM-DD", got=value)

    @property
    def offset(self) -> int:
        """How many runs of each leaderboard come before this page."""
        return (self.page - 1) * self.per_page

    def conditions(self) -> tuple[list[str], dict[str, Any]]:
        """The SQL conditions on ``runs`` and their parameters (empty: every run).

        Example:
            >>> RunFilter(since="2025-01-01").conditions()
            (['created_at >= :since'], {'since': '2025-01-01'})
        """
        conditions: list[str] = []
        parameters: dict[str, Any] = {}
        if self.name:
            conditions.append("name LIKE :name ESCAPE '\\'")
            parameters["name"] = "%" + _escaped_like(self.name) + "%"
        if self.test_set:
            conditions.append(
                "test_set_fingerprint IN (SELECT fingerprint FROM test_sets WHERE name = :test_set "
                "OR fingerprint LIKE :test_set_prefix ESCAPE '\\')"
            )
            parameters["test_set"] = self.test_set
            parameters["test_set_prefix"] = _escaped_like(self.test_set) + "%"
        if self.status:
            conditions.append("status = :status")
            parameters["status"] = self.status
        if self.since:
            conditions.append("created_at >= :since")
            parameters["since"] = self.since
        if self.until:
            conditions.append("created_at < :until")
            parameters["until"] = self.until + "T99"  # the whole day: every time of it sorts below
        return conditions, parameters


@dataclass(frozen=True)
class RunPage:
    """One leaderboard's runs on one page.

    Attributes:
        test_set_name: The test set's registered name (None: runs without a test set).
        test_set_fingerprint: Its fingerprint.
        test_set_looks: How often any run has been evaluated on it, now.
        metric: The headline metric the runs are ranked by.
        runs: This page's runs, in the filter's order.
        total: How many runs of this leaderboard pass the filter.
        offset: How many come before this page.

    Example:
        >>> RunPage("weather", "ab12", 3, "rmse", [], total=120, offset=100).has_next
        True
    """

    test_set_name: str | None
    test_set_fingerprint: str | None
    test_set_looks: int | None
    metric: str | None
    runs: list[RunSummary] = field(default_factory=list)
    total: int = 0
    offset: int = 0

    @property
    def has_next(self) -> bool:
        """Whether runs come after this page."""
        return self.offset + max(len(self.runs), 1) < self.total


def read_run_pages(execute: Execute, run_filter: RunFilter) -> list[RunPage]:
    """Read one page of every leaderboard that has runs passing the filter.

    Leaderboards come in the order of ``dlw runs`` (test set name, fingerprint, runs without a
    test set last, then metric); each asks the database for its page only.

    Args:
        execute: Runs a SQL text with ``:named`` parameters on the registry database.
        run_filter: Which runs, in which order, which page.

    Returns:
        The pages, one per leaderboard (a leaderboard whose runs all fall before the page
        has an empty page, with its total).

    Example:
        >>> pages = read_run_pages(execute, RunFilter(test_set="weather", per_page=20))  # doctest: +SKIP
        >>> pages[0].total, len(pages[0].runs)  # doctest: +SKIP
        (120, 20)
    """
    conditions, parameters = run_filter.conditions()
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    pages = []
    for group in leaderboard_groups(execute, where, parameters):
        rows = _page_rows(execute, group.fingerprint, group.metric, run_filter)
        for row in rows:
            row.test_set_name, row.test_set_looks = group.name, group.looks
        pages.append(RunPage(group.name, group.fingerprint, group.looks, group.metric, rows, group.total,
                             run_filter.offset))
    pages.sort(key=lambda page: (page.test_set_fingerprint is None, page.test_set_name or "",
                                 page.test_set_fingerprint or "", page.metric is None, page.metric or ""))
    _attach_comments(execute, [run for page in pages for run in page.runs])
    return pages


def _page_rows(execute: Execute, fingerprint: str | None, metric: str | None, run_filter: RunFilter) -> list[RunSummary]:
    conditions, parameters = run_filter.conditions()
    for column, value in (("test_set_fingerprint", fingerprint), ("primary_metric", metric)):
        if value is None:
            conditions.append(f"{column} IS NULL")
        else:
            conditions.append(f"{column} = :board_{column}")
            parameters[f"board_{column}"] = value
    columns = ", ".join(SUMMARY_COLUMNS)
    where = " AND ".join(conditions)
    if run_filter.sort == "best":  # valued runs by the index on (test set, metric, value), then the rest
        return _best_page(execute, columns, where, parameters, metric, run_filter)
    order = {"newest": "created_at DESC, id DESC", "oldest": "created_at, id", "name": "name, id"}[run_filter.sort]
    parameters.update(page_limit=run_filter.per_page, page_offset=run_filter.offset)
    rows = execute(
        f"SELECT {columns} FROM runs WHERE {where} ORDER BY {order} LIMIT :page_limit OFFSET :page_offset",
        parameters,
    )
    return [_summary(row) for row in rows]


def _best_page(execute: Execute, columns: str, where: str, parameters: dict[str, Any], metric: str | None,
               run_filter: RunFilter) -> list[RunSummary]:
    """Best value first, runs without a value last: two queries the leaderboard index serves, as ``dlw runs``."""
    direction = "DESC" if higher_is_better(metric) else "ASC"
    parameters.update(page_limit=run_filter.per_page, page_offset=run_filter.offset)
    rows = list(execute(
        f"SELECT {columns} FROM runs WHERE {where} AND primary_value IS NOT NULL "
        f"ORDER BY primary_value {direction}, id LIMIT :page_limit OFFSET :page_offset", parameters,
    ))
    if len(rows) < run_filter.per_page:
        ((valued,),) = execute(f"SELECT COUNT(*) FROM runs WHERE {where} AND primary_value IS NOT NULL", parameters)
        parameters.update(page_limit=run_filter.per_page - len(rows), page_offset=max(0, run_filter.offset - valued))
        rows += execute(
            f"SELECT {columns} FROM runs WHERE {where} AND primary_value IS NULL "
            "ORDER BY id LIMIT :page_limit OFFSET :page_offset", parameters,
        )
    return [_summary(row) for row in rows]


def _summary(row: Sequence[Any]) -> RunSummary:
    (run_id, name, description, status, created_at, metric, value, baseline, baseline_value,
     fingerprint, look, commit, dirty) = row
    return RunSummary(
        run_id, name, description, status, created_at, metric, value, baseline, baseline_value,
        None, fingerprint, None, look, commit, None if dirty is None else bool(dirty),
    )


def _attach_comments(execute: Execute, shown: list[RunSummary]) -> None:
    """Each shown run's comments, joined as ``dlw runs`` joins them: one query for the page's runs only."""
    if not shown:
        return
    names = {f"run_{index}": run.id for index, run in enumerate(shown)}
    placeholders = ", ".join(f":{name}" for name in names)
    notes = execute(f"SELECT run_id, text FROM comments WHERE run_id IN ({placeholders}) ORDER BY id", names)
    joined = joined_comments(notes, {run.id for run in shown})
    for run in shown:
        run.comments = joined.get(run.id, "")


def _escaped_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _is_date(value: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return len(value) == 10
