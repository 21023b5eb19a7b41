"""Schema version 1: the tables runs, run_records, test_sets, comments and schema_version.

The registry as dlworkflow created it before the migrations existed (``metadata.create_all``),
written out here once and never changed: registries from that time are stamped with this
revision and upgraded from it.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

VERSION = 1


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=True),
        sa.Column("finished_at", sa.String(40), nullable=True),
        sa.Column("spec_hash", sa.String(128), nullable=True),
        sa.Column("data_fingerprint", sa.String(128), nullable=True),
        sa.Column("test_set_fingerprint", sa.String(128), nullable=True),
        sa.Column("test_set_look", sa.Integer, nullable=True),
        sa.Column("primary_metric", sa.String(64), nullable=True),
        sa.Column("primary_value", sa.Float, nullable=True),
        sa.Column("baseline_name", sa.String(255), nullable=True),
        sa.Column("baseline_value", sa.Float, nullable=True),
        sa.Column("git_commit", sa.String(64), nullable=True),
        sa.Column("git_dirty", sa.Boolean, nullable=True),
        sa.Column("backend", sa.String(32), nullable=True),
        sa.CheckConstraint("status IN ('finished', 'failed')", name="ck_runs_status"),
    )
    op.create_index("ix_runs_created_at", "runs", ["created_at"])
    op.create_index("ix_runs_test_set_fingerprint", "runs", ["test_set_fingerprint"])
    op.create_table(
        "run_records",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("record_json", sa.Text, nullable=False),
    )
    op.create_table(
        "test_sets",
        sa.Column("fingerprint", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("looks", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_test_sets_name", "test_sets", ["name"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_comments_run_id", "comments", ["run_id"])
    schema_version = op.create_table("schema_version", sa.Column("version", sa.Integer, primary_key=True))
    op.bulk_insert(schema_version, [{"version": VERSION}])


def downgrade() -> None:
    for name in ("schema_version", "comments", "test_sets", "run_records", "runs"):
        op.drop_table(name)
