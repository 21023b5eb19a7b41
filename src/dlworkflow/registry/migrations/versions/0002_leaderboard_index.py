"""Schema version 2: the index ix_runs_leaderboard on runs (test set, metric, value).

``dlw runs`` reads the best N runs of each leaderboard with an ``ORDER BY ... LIMIT`` that this
index answers without sorting the whole table. Some version-1 registries have it already (it
was added to the tables shortly before the migrations existed), hence ``IF NOT EXISTS``.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VERSION = 2

schema_version = sa.table("schema_version", sa.column("version", sa.Integer))


def upgrade() -> None:
    op.create_index(
        "ix_runs_leaderboard",
        "runs",
        ["test_set_fingerprint", "primary_metric", "primary_value"],
        if_not_exists=True,
    )
    _set_version(VERSION)


def downgrade() -> None:
    op.drop_index("ix_runs_leaderboard", table_name="runs")
    _set_version(VERSION - 1)


def _set_version(version: int) -> None:
    op.execute(schema_version.delete())
    op.bulk_insert(schema_version, [{"version": version}])
