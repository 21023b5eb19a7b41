"""Schema version 3: a run may be recorded as ``interrupted`` (Ctrl-C, or a process that was killed).

An interrupted run keeps its last epoch's checkpoint and can go on with ``dlw resume``. The
status check of ``runs`` is widened; SQLite changes a check constraint by rebuilding the
table (Alembic's batch mode, its indexes included).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

VERSION = 3

OLD_STATUSES = "status IN ('finished', 'failed')"
NEW_STATUSES = "status IN ('finished', 'failed', 'interrupted')"

schema_version = sa.table("schema_version", sa.column("version", sa.Integer))


def upgrade() -> None:
    _status_check(NEW_STATUSES)
    _set_version(VERSION)


def downgrade() -> None:
    op.execute("DELETE FROM runs WHERE status = 'interrupted'")
    _status_check(OLD_STATUSES)
    _set_version(VERSION - 1)


def _status_check(condition: str) -> None:
    with op.batch_alter_table("runs", recreate="auto") as batch:
        batch.drop_constraint("ck_runs_status", type_="check")
        batch.create_check_constraint("ck_runs_status", condition)


def _set_version(version: int) -> None:
    op.execute(schema_version.delete())
    op.bulk_insert(schema_version, [{"version": version}])
