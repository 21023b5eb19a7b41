"""Writing one run's rows: its look at the test set counted, the results-table row and the full record.

Called by :class:`~dlworkflow.registry.registry.Registry` inside its write transactions
(a new run, or an interrupted run replaced by its finished one).

Example:
    >>> with registry._write() as connection:  # doctest: +SKIP
    ...     stored = insert_run(connection, record, record.test_set.fingerprint, "weather", True, where="registry")
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import Connection, insert, select, update

from dlworkflow.errors import RegistryError
from dlworkflow.registry.database import run_records, runs, test_sets
from dlworkflow.registry.record import RunRecord, finite_or_none, utc_now


def insert_run(
    connection: Connection, record: RunRecord, fingerprint: str | None, name: str, looked: bool, *, where: str
) -> RunRecord:
    """Write a run's rows in an open transaction: count its look at the test set, then the run and its record.

    The test set is registered under ``name`` the first time its fingerprint is seen;
    later names do not rename it. Comments are not written (they have their own table).

    Args:
        connection: A connection inside a write transaction.
        record: The run's record.
        fingerprint: The test set's fingerprint, or None (a trial, a failed run without data).
        name: The name the spec gives the test set.
        looked: Whether the run was evaluated on the test set (its look is counted).
        where: The registry, for messages.

    Returns:
        The stored record, with the test set's registered name, its looks and this run's look.

    Raises:
        RegistryError: when a run with this id is already recorded.
        IntegrityError: when another process registered the same new test set meanwhile
            (the caller runs the transaction again).
    """
    taken = connection.execute(select(runs.c.id).where(runs.c.id == record.id)).first()
    if taken is not None:
        raise RegistryError.single(
            where,
            "",
            "a run with this id is already recorded",
            got=record.id,
            hint="Record each run once, under a new id (Registry.new_run_id()).",
        )
    looks: int | None = None
    look: int | None = None
    registered_name: str | None = None
    if fingerprint:
        # Whether the test set is new is decided by the UPDATE, not by a later SELECT: on
        # PostgreSQL each statement sees what others committed meanwhile, and a row another
        # process inserted after this UPDATE found none would be read, its look not counted.
        # Both databases: a new test set inserted by two processes at once fails the second
        # one's INSERT (IntegrityError), and `record` runs the transaction again.
        counted = looked and connection.execute(
            update(test_sets).where(test_sets.c.fingerprint == fingerprint).values(looks=test_sets.c.looks + 1)
        ).rowcount > 0
        row = None
        if counted or not looked:
            row = connection.execute(
                select(test_sets.c.name, test_sets.c.looks).where(test_sets.c.fingerprint == fingerprint)
            ).first()
        if row is None:
            looks = 1 if looked else 0
            registered_name = name
            connection.execute(
                insert(test_sets).values(fingerprint=fingerprint, name=name, looks=looks, created_at=utc_now())
            )
        else:
            registered_name, looks = row.name, int(row.looks)
        look = looks if looked else None
    stored = record.replace(
        test_set=dataclasses.replace(record.test_set, name=registered_name, looks=looks, look=look),
        comments=[],
    )
    text = stored.to_json()
    primary, git = stored.primary, stored.git
    connection.execute(
        insert(runs).values(
            id=stored.id,
            name=stored.name,
            description=stored.description or "",
            status=stored.status,
            created_at=stored.created_at,
            finished_at=stored.finished_at,
            spec_hash=stored.spec_hash,
            data_fingerprint=stored.data.fingerprint,
            test_set_fingerprint=fingerprint,
            test_set_look=look,
            primary_metric=primary.metric,
            primary_value=finite_or_none(primary.value),
            baseline_name=primary.baseline,
            baseline_value=finite_or_none(primary.baseline_value),
            git_commit=git.commit,
            git_dirty=git.dirty,
            backend=stored.backend,
        )
    )
    connection.execute(insert(run_records).values(run_id=stored.id, record_json=text))
    return RunRecord.from_json(text)
