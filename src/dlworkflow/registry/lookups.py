"""Reading the registry from Python: the results table, leaderboards, one run's record, run folders.

The look-ups of the API (:func:`dlworkflow.runs`, ``dlw runs``, ``dlw show``, ``dlw recover``,
``dlw tensorboard``): each opens the registry named by a SQLAlchemy URL (default
``DLW_REGISTRY`` or ``./.dlw/registry.db``), reads, and closes it. Reads never write, except
:func:`recover`, which records what killed processes left. :mod:`dlworkflow.api` re-exports
them.

Example:
    >>> from dlworkflow.registry.lookups import runs
    >>> runs(registry="sqlite:///.dlw/registry.db")[["name", "primary_value"]]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def runs(*, test_set: str | None = None, registry: str | None = None) -> pd.DataFrame:
    """The results table: one row per run, best first within each test set.

    Args:
        test_set: Only runs evaluated on the test set of this name.
        registry: A SQLAlchemy URL (default ``DLW_REGISTRY`` or ``./.dlw/registry.db``).

    Returns:
        A DataFrame with the workshop's columns: model name, description, metric, value,
        baseline, test set, looks, commit, comments.

    Example:
        >>> runs().columns[:3].tolist()  # doctest: +SKIP
        ['id', 'name', 'description']
    """
    import pandas as pd

    rows = [asdict(summary_row) for summary_row in list_runs(test_set=test_set, registry=registry)]
    return pd.DataFrame(rows)


def list_runs(*, test_set: str | None = None, registry: str | None = None) -> list:
    """The results table as light records, best first within each test set.

    Args:
        test_set: Only runs on the test set of this name.
        registry: A SQLAlchemy URL.

    Returns:
        A list of :class:`~dlworkflow.registry.RunSummary`.

    Example:
        >>> [row.name for row in list_runs(test_set="weather_3_years_v1")]  # doctest: +SKIP
        ['weather', 'weather_small']
    """
    return [row for board in leaderboards(test_set=test_set, registry=registry) for row in board.runs]


def leaderboards(*, test_set: str | None = None, limit: int | None = None, registry: str | None = None) -> list:
    """The results table as one leaderboard per test set and headline metric (what ``dlw runs`` shows).

    A local SQLite registry is read directly (:mod:`dlworkflow.registry.quick_read`), any
    other through the :class:`~dlworkflow.registry.Registry`.

    Args:
        test_set: Only runs on the test set of this name (or fingerprint prefix).
        limit: At most this many runs per leaderboard, the best ones; None for all.
        registry: A SQLAlchemy URL.

    Returns:
        A list of :class:`~dlworkflow.registry.Leaderboard`, each with its best runs and
        its total number of runs.

    Raises:
        RegistryError: when the registry cannot be reached or ``test_set`` names no test set.

    Example:
        >>> board = leaderboards(limit=5)[0]  # doctest: +SKIP
        >>> board.metric, [row.name for row in board.runs], board.hidden  # doctest: +SKIP
        ('rmse', ['weather', 'weather_small'], 0)
    """
    from dlworkflow.registry.quick_read import read_leaderboards_quickly

    boards = read_leaderboards_quickly(registry, test_set=test_set, limit=limit)
    if boards is not None:
        return boards
    from dlworkflow.registry import Registry

    with Registry.open(registry) as store:
        return store.leaderboards(test_set=test_set, limit=limit)


def recover(*, registry: str | None = None, orphans: bool = False) -> list[str]:
    """Record what killed or failed processes left: runs killed mid-training as interrupted (``dlw resume``
    goes on with them); with ``orphans`` (``dlw recover``) also finished runs the registry lacks.

    Reads (:func:`leaderboards`, :func:`show`) never write; ``dlw runs`` calls this first (without a run
    folder in progress, or left by a killed process, the registry is not opened).

    Args:
        registry: A SQLAlchemy URL.
        orphans: Also record the runs noted as not yet recorded and the run folders the registry lacks.

    Returns:
        The ids of the runs now recorded.

    Example:
        >>> recover(orphans=True)  # doctest: +SKIP
        ['20261123-231502-4be1c9']
    """
    from dlworkflow.registry.recovery import recover_runs

    return recover_runs(registry, orphans=orphans)


def unrecorded_runs(*, registry: str | None = None) -> list[str]:
    """The finished runs whose folders are kept but not yet recorded (``dlw recover`` records them).

    Example:
        >>> unrecorded_runs()  # doctest: +SKIP
        ['20261207-101500-4be1c9']
    """
    from dlworkflow.registry.unrecorded import unrecorded_runs_of

    return unrecorded_runs_of(registry)


def show(run_id: str, *, registry: str | None = None) -> dict[str, Any]:
    """One run's full record.

    Args:
        run_id: The run id, or a unique prefix of it.
        registry: A SQLAlchemy URL.

    Returns:
        The record as JSON-compatible data (``dlw show --json``).

    Raises:
        RegistryError: when no run (or more than one) matches.

    Example:
        >>> show("2026")["status"]  # doctest: +SKIP
        'finished'
    """
    from dlworkflow.registry import Registry

    with Registry.open(registry) as store:
        return store.get(run_id).to_dict()


def tensorboard_logs(run_ids: Iterable[str] = (), *, registry: str | None = None) -> dict[str, Path]:
    """The TensorBoard log folders of runs (``dlw tensorboard`` serves them).

    Args:
        run_ids: Run ids or unique prefixes; none: every run that wrote TensorBoard logs.
        registry: A SQLAlchemy URL.

    Returns:
        ``{label: folder}``, the label ``<run id> <name>`` as TensorBoard lists the run.

    Raises:
        RegistryError: when a run does not exist or has no TensorBoard logs (the message
            says how to write them: ``[train] tensorboard = true``).

    Example:
        >>> tensorboard_logs(["20261123"])  # doctest: +SKIP
        {'20261123-215917-474e44 weather': PosixPath('.dlw/runs/20261123-215917-474e44/tensorboard')}
    """
    from dlworkflow.registry import Registry
    from dlworkflow.registry.tensorboard_logs import tensorboard_folders

    with Registry.open(registry) as store:
        return tensorboard_folders(store, list(run_ids))
