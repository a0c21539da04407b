"""signals: a configured analysis may have its own schedule (else it runs after each snapshot)

Revision ID: signals_0005
Revises: core_0002
Create Date: 2026-11-30 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "signals_0005"
down_revision: str | None = "core_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signals_analysis", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_signals_analysis_schedule_id_schedule"), "schedule",
                                    ["schedule_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("signals_analysis", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_signals_analysis_schedule_id_schedule"), type_="foreignkey")
        batch_op.drop_column("schedule_id")
