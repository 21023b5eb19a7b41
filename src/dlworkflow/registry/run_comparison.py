"""Compare recorded runs side by side, only when they were evaluated on the same test set.

A metric is only comparable between runs scored on the same rows: a lower RMSE on an
easier test set says nothing. :func:`compare_runs` therefore checks the runs' test-set
fingerprints first and refuses, naming each run's test set, when they differ. On one test
set it ranks the runs by their headline metric (best first) and puts each run's metrics on
the test set beside its best baseline (chosen on validation, as the run itself chose it).

Works on plain record dicts (``RunRecord.to_dict()``); imports neither Keras nor numpy.

Example:
    >>> table = compare_runs([record_a, record_b])  # doctest: +SKIP
    >>> [row["name"] for row in table.rows], table.metric  # doctest: +SKIP
    (['weather_batchnorm', 'weather'], 'rmse')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dlworkflow.errors import RegistryError
from dlworkflow.registry.run_summary import higher_is_better


@dataclass(frozen=True)
class RunComparison:
    """Runs of one test set, ranked by their headline metric.

    Attributes:
        test_set_name: The test set's name.
        test_set_fingerprint: Its fingerprint (the same for every run).
        metric: The headline metric the runs are ranked by.
        metrics: Every test metric any of the runs has, in first-seen order (the columns).
        rows: One dict per run, best first: ``id``, ``name``, ``description``, ``status``,
            ``value`` (the headline metric on test), ``test`` (all test metrics),
            ``baseline`` and ``baseline_value`` (its best baseline on test), ``skill``,
            ``epochs_run``, ``best_epoch``, ``git_commit``.

    Example:
        >>> compare_runs([a, b]).rows[0]["id"]  # doctest: +SKIP
        '20261123-215917-474e44'
    """

    test_set_name: str | None
    test_set_fingerprint: str | None
    metric: str | None
    metrics: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def compare_runs(records: Sequence[Mapping[str, Any]], *, where: str = "dlw compare") -> RunComparison:
    """Rank runs evaluated on one test set, each beside its best baseline.

    Args:
        records: Two or more run records (``RunRecord.to_dict()`` shape).
        where: How error messages name the comparison (e.g. the registry).

    Returns:
        The :class:`RunComparison`; runs without a headline value (failed runs) come last.

    Raises:
        RegistryError: With fewer than two runs, or when the runs were evaluated on
            different test sets (the message lists each run's test set) or rank by
            different headline metrics.

    Example:
        >>> compare_runs([weather_run, batchnorm_run]).metric  # doctest: +SKIP
        'rmse'
    """
    if len(records) < 2:
        raise RegistryError.single(
            where, "runs", f"needs two runs or more to compare; got {len(records)}",
            hint="Name the runs to compare: dlw compare RUN RUN [RUN...] (ids from dlw runs).",
        )
    scored = [record for record in records if (record.get("test_set") or {}).get("fingerprint")]
    fingerprints = {record["test_set"]["fingerprint"] for record in scored}
    if len(fingerprints) > 1:
        listing = "; ".join(
            f"{record['id']} ({record['name']}) on {record['test_set'].get('name')!r} "
            f"[{record['test_set']['fingerprint'][:12]}]"
            for record in scored
        )
        raise RegistryError.single(
            where, "runs",
            f"were evaluated on different test sets, so their metrics cannot be ranked: {listing}",
            hint="Compare runs of one test set (dlw runs --test-set NAME lists them); "
            "a metric on other rows says nothing about which model is better.",
        )
    metrics = {(record.get("primary") or {}).get("metric") for record in scored} - {None}
    if len(metrics) > 1:
        raise RegistryError.single(
            where, "runs", f"rank by different headline metrics ({', '.join(sorted(metrics))})",
            hint="Set the same evaluate.metric in the specs, or compare runs of one kind.",
        )
    metric = next(iter(metrics), None)
    rows = [_row(record) for record in records]
    valued = [row for row in rows if row["value"] is not None]
    valued.sort(key=lambda row: row["value"], reverse=higher_is_better(metric))
    columns: list[str] = []
    for row in rows:
        columns += [name for name in row["test"] if name not in columns]
    first = scored[0]["test_set"] if scored else {}
    return RunComparison(
        test_set_name=first.get("name"),
        test_set_fingerprint=first.get("fingerprint"),
        metric=metric,
        metrics=columns,
        rows=valued + [row for row in rows if row["value"] is None],
    )


def _row(record: Mapping[str, Any]) -> dict[str, Any]:
    primary = record.get("primary") or {}
    training = record.get("training") or {}
    return {
        "id": record["id"],
        "name": record.get("name"),
        "description": record.get("description", ""),
        "status": record.get("status"),
        "value": primary.get("value"),
        "test": dict((record.get("metrics") or {}).get("test") or {}),
        "baseline": primary.get("baseline"),
        "baseline_value": primary.get("baseline_value"),
        "skill": primary.get("skill"),
        "epochs_run": training.get("epochs_run"),
        "best_epoch": training.get("best_epoch"),
        "git_commit": (record.get("git") or {}).get("commit"),
    }
