"""The states a job of the registry's ``jobs`` table can be in, free of SQLAlchemy.

Kept apart from :mod:`dlworkflow.registry.jobs` so that ``dlw runs`` can ask a local SQLite
registry whether any job is still live (:func:`~dlworkflow.registry.quick_read.has_live_jobs_quickly`)
without importing SQLAlchemy.

Example:
    >>> "queued" in LIVE_STATES, "cancelled" in END_STATES
    (True, True)
"""

from __future__ import annotations

LIVE_STATES = ("queued", "running", "requeued")
"""States of a job that has not ended: ``dlw runs`` lists these."""

END_STATES = ("finished", "failed", "interrupted", "cancelled")
"""States of a job that has ended."""
