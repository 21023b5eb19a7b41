"""Schema version 4: the ``jobs`` table — runs and tuning workers submitted to an executor, and their heartbeats.

One row per job: a run or a tuning worker started by ``dlw run``/``dlw tune`` in this process
(executor ``local``) or submitted to a cluster (``slurm``: the SLURM job id, ``<id>_<n>`` for a
job array's task). The row holds the job's state (``queued``, ``running``, ``requeued``,
``finished``, ``failed``, ``interrupted``, ``cancelled``), when it was submitted and started,
its latest heartbeat (written every ``HEARTBEAT_SECONDS`` while it trains, so a job killed on a
compute node is recognised from any host), the run it is running once known, and its log files.
A new table, so existing rows are untouched; the downgrade drops it.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VERSION = 4

schema_version = sa.table("schema_version", sa.column("version", sa.Integer))


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("executor", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("spec_file", sa.Text, nullable=True),
        sa.Column("submitted_at", sa.String(40), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=True),
        sa.Column("heartbeat_at", sa.String(40), nullable=True),
        sa.Column("ended_at", sa.String(40), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("requeues", sa.Integer, nullable=False, server_default="0"),
        sa.Column("stdout_path", sa.Text, nullable=True),
        sa.Column("stderr_path", sa.Text, nullable=True),
    )
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_index("ix_jobs_run_id", "jobs", ["run_id"])
    _set_version(VERSION)


def downgrade() -> None:
    op.drop_index("ix_jobs_run_id", table_name="jobs")
    op.drop_index("ix_jobs_state", table_name="jobs")
    op.drop_table("jobs")
    _set_version(VERSION - 1)


def _set_version(version: int) -> None:
    op.execute(schema_version.delete())
    op.bulk_insert(schema_version, [{"version": version}])
