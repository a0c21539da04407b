"""core: schedules (recurring jobs the worker queues at their due times)

Revision ID: core_0001
Revises: surveillance_0005
Create Date: 2026-11-30 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medreg.core.db

revision: str = "core_0001"
down_revision: str | None = "surveillance_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("every", sa.String(length=16), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=True),
        sa.Column("at_time", sa.String(length=5), nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", medreg.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_due_at", medreg.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_job_id", sa.Integer(), nullable=True),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.Column("last_note", sa.String(length=500), nullable=True),
        sa.Column("skipped_runs", sa.Integer(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", medreg.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", medreg.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["user_account.id"],
                                name=op.f("fk_schedule_created_by_user_id_user_account")),
        sa.ForeignKeyConstraint(["last_job_id"], ["job.id"], name=op.f("fk_schedule_last_job_id_job"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule")),
        sa.UniqueConstraint("name", name=op.f("uq_schedule_name")),
    )
    op.create_index(op.f("ix_schedule_next_run_at"), "schedule", ["next_run_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_schedule_next_run_at"), table_name="schedule")
    op.drop_table("schedule")
