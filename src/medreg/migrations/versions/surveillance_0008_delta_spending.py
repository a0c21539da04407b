"""surveillance: DELTA monitors' overall alpha spending across looks (spending function, its gamma,
planned matched pairs) and each look's information fraction and nominal alpha

Revision ID: surveillance_0008
Revises: surveillance_0007
Create Date: 2026-11-30 11:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "surveillance_0008"
down_revision: str | None = "surveillance_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing DELTA monitors keep their per-look alpha (spending None)
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.add_column(sa.Column("delta_spending", sa.String(16), nullable=True))
        batch.add_column(sa.Column("delta_hsd_gamma", sa.Float(), nullable=True))
        batch.add_column(sa.Column("delta_planned_pairs", sa.Integer(), nullable=True))
    with op.batch_alter_table("surveillance_look") as batch:
        batch.add_column(sa.Column("info_fraction", sa.Float(), nullable=True))
        batch.add_column(sa.Column("nominal_alpha", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("surveillance_look") as batch:
        for name in ("nominal_alpha", "info_fraction"):
            batch.drop_column(name)
    with op.batch_alter_table("surveillance_monitor") as batch:
        for name in ("delta_planned_pairs", "delta_hsd_gamma", "delta_spending"):
            batch.drop_column(name)
