"""Compare recorded runs side by side, only when they were evaluated on the same test set.

A metric is only comparable between runs scored on the same rows: a lower RMSE on an
easier test set says nothing. :func:`compare_runs` therefore checks the runs' test-set
fingerprints first and refuses, naming each run's test set, when they differ. On one test
set it ranks the runs by their headline metric (best first), and the runs' best baselines
(chosen on validation, as each run chose it) among them, so that it shows at a glance
which models beat the naive answer.

Works on typed records (a dict in the ``RunRecord.to_dict()`` shape is read into one);
imports neither Keras nor numpy.

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
from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS
from dlworkflow.registry.record import RunRecord
from dlworkflow.registry.run_summary import higher_is_better


@dataclass(frozen=True)
class RunComparison:
    """Runs of one test set, ranked by their headline metric.

    Attributes:
        test_set_name: The test set's name.
        test_set_fingerprint: Its fingerprint (the same for every run).
        metric: The headline metric the runs are ranked by.
        metrics: Every evaluation metric (rmse, accuracy, ...) any of the runs has on the
            test set, in first-seen order (the columns); Keras' own ``loss`` is left out.
        rows: One dict per run and per best baseline of the runs, all ranked together by
            the headline metric on test, best first (runs without a value last): ``kind``
            (``run`` or ``baseline``), ``id`` (None for a baseline), ``name``,
            ``description``, ``status``, ``value`` (the headline metric on test), ``test``
            (all test metrics), ``baseline`` and ``baseline_value`` (a run's best baseline),
            ``skill``, ``epochs_run``, ``best_epoch``, ``evaluated_epoch`` (the epoch whose weights
            were scored: the best one when they were restored, else the last), ``git_commit``.
        curves: The PNG with the runs' loss curves overlaid, when it was drawn.

    Example:
        >>> compare_runs([a, b]).rows[0]["id"]  # doctest: +SKIP
        '20261123-215917-474e44'
    """

    test_set_name: str | None
    test_set_fingerprint: str | None
    metric: str | None
    metrics: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    curves: str | None = None


def compare_runs(records: Sequence[RunRecord | Mapping[str, Any]], *, where: str = "dlw compare") -> RunComparison:
    """Rank runs evaluated on one test set, each beside its best baseline.

    Args:
        records: Two or more run records (or dicts in the ``RunRecord.to_dict()`` shape).
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
    records = [RunRecord.coerce(record) for record in records]
    if len(records) < 2:
        raise RegistryError.single(
            where, "runs", f"needs two runs or more to compare; got {len(records)}",
            hint="Name the runs to compare: dlw compare RUN RUN [RUN...] (ids from dlw runs).",
        )
    scored = [record for record in records if record.test_set.fingerprint]
    fingerprints = {record.test_set.fingerprint for record in scored}
    if len(fingerprints) > 1:
        listing = "; ".join(
            f"{record.id} ({record.name}) on {record.test_set.name!r} [{record.test_set.fingerprint[:12]}]"
            for record in scored
        )
        raise RegistryError.single(
            where, "runs",
            f"were evaluated on different test sets, so their metrics cannot be ranked: {listing}",
            hint="Compare runs of one test set (dlw runs --test-set NAME lists them); "
            "a metric on other rows says nothing about which model is better.",
        )
    metrics = {record.primary.metric for record in scored} - {None}
    if len(metrics) > 1:
        raise RegistryError.single(
            where, "runs", f"rank by different headline metrics ({', '.join(sorted(metrics))})",
            hint="Set the same evaluate.metric in the specs, or compare runs of one kind.",
        )
    metric = next(iter(metrics), None)
    rows = [_row(record) for record in records]
    rows += _baseline_rows(records, metric)
    valued = [row for row in rows if row["value"] is not None]
    valued.sort(key=lambda row: row["value"], reverse=higher_is_better(metric))
    columns: list[str] = []
    for row in rows:
        columns += [name for name in row["test"] if name not in columns]
    first = scored[0].test_set if scored else None
    return RunComparison(
        test_set_name=first.name if first else None,
        test_set_fingerprint=first.fingerprint if first else None,
        metric=metric,
        metrics=columns,
        rows=valued + [row for row in rows if row["value"] is None],
    )


def _evaluation_metrics(scores: Mapping[str, Any] | None) -> dict[str, Any]:
    """The evaluation's metrics (rmse, accuracy, ...), not Keras' duplicates (loss, ...)."""
    return {name: value for name, value in (scores or {}).items() if name in METRIC_DIRECTIONS}


def _baseline_rows(records: Sequence[RunRecord], metric: str | None) -> list[dict[str, Any]]:
    """One row per distinct best baseline of the runs, with its test metrics (from the first run that has it)."""
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        name = record.primary.baseline
        scores = (record.baselines.get(name) or {}).get("test")
        if name is None or name in rows or not scores:
            continue
        test = _evaluation_metrics(scores)
        rows[name] = {
            "kind": "baseline", "id": None, "name": name, "description": "naive baseline", "status": "finished",
            "value": test.get(metric), "test": test, "baseline": None, "baseline_value": None, "skill": 0.0,
            "epochs_run": None, "best_epoch": None, "evaluated_epoch": None, "git_commit": None,
        }
    return list(rows.values())


def _row(record: RunRecord) -> dict[str, Any]:
    primary, training = record.primary, record.training
    return {
        "kind": "run",
        "id": record.id,
        "name": record.name,
        "description": record.description,
        "status": record.status,
        "value": primary.value,
        "test": _evaluation_metrics(record.metrics.get("test")),
        "baseline": primary.baseline,
        "baseline_value": primary.baseline_value,
        "skill": primary.skill,
        "epochs_run": training.epochs_run,
        "best_epoch": training.best_epoch,
        "evaluated_epoch": training.evaluated_epoch,
        "git_commit": record.git.commit,
    }
