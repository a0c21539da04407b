"""surveillance: per-monitor CUSUM design (odds ratios R_0 and R_A, false-alarm probability); the
alpha targeted and spent by each look of a group-sequential monitor and its signalling count

Revision ID: surveillance_0004
Revises: registration_0002
Create Date: 2026-11-30 08:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "surveillance_0004"
down_revision: str | None = "registration_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing monitors keep the values that were fixed before (R_0 = 1, R_A = 2, 0.05)
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.add_column(sa.Column("cusum_odds_ratio", sa.Float(), nullable=False, server_default="2"))
        batch.add_column(sa.Column("cusum_null_odds_ratio", sa.Float(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("cusum_false_alarm", sa.Float(), nullable=False, server_default="0.05"))
    with op.batch_alter_table("surveillance_look") as batch:
        batch.add_column(sa.Column("events_to_signal", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("alpha_target", sa.Float(), nullable=True))
        batch.add_column(sa.Column("alpha_spent", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("surveillance_look") as batch:
        batch.drop_column("alpha_spent")
        batch.drop_column("alpha_target")
        batch.drop_column("events_to_signal")
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.drop_column("cusum_false_alarm")
        batch.drop_column("cusum_null_odds_ratio")
        batch.drop_column("cusum_odds_ratio")
