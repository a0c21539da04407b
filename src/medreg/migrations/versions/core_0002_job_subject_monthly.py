"""core: job subject (indexed lookup of a subject's latest job); monthly schedules; schedule subject

Revision ID: core_0002
Revises: surveillance_0006
Create Date: 2026-11-30 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0002"
down_revision: str | None = "surveillance_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=120), nullable=True))
        batch_op.create_index("ix_job_kind_subject_id", ["kind", "subject", "id"], unique=False)
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day_of_month", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.drop_column("subject")
        batch_op.drop_column("day_of_month")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_kind_subject_id")
        batch_op.drop_column("subject")
