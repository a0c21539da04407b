"""surveillance: monitor kinds (the Poisson MaxSPRT of existing monitors, DELTA-style propensity-matched
comparison, matched binomial MaxSPRT) with DELTA's design and the binomial's matching ratio z; each DELTA look's cumulative matched risk difference, its confidence
interval, pairs and balance; stopping a monitor (who, when, why)

Revision ID: surveillance_0005
Revises: surveillance_0004
Create Date: 2026-11-30 09:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medreg.core.db

revision: str = "surveillance_0005"
down_revision: str | None = "surveillance_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing monitors are Poisson MaxSPRT monitors
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.add_column(sa.Column("kind", sa.String(24), nullable=False, server_default="maxsprt_poisson"))
        batch.add_column(sa.Column("delta_margin", sa.Float(), nullable=True))
        batch.add_column(sa.Column("delta_min_pairs", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("delta_caliper", sa.Float(), nullable=True))
        batch.add_column(sa.Column("binomial_z", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("stopped_at", medreg.core.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stopped_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("stop_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("surveillance_look") as batch:
        batch.add_column(sa.Column("pairs", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("risk_device", sa.Float(), nullable=True))
        batch.add_column(sa.Column("risk_comparator", sa.Float(), nullable=True))
        batch.add_column(sa.Column("risk_difference", sa.Float(), nullable=True))
        batch.add_column(sa.Column("rd_lower", sa.Float(), nullable=True))
        batch.add_column(sa.Column("rd_upper", sa.Float(), nullable=True))
        batch.add_column(sa.Column("max_abs_smd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("surveillance_look") as batch:
        for name in ("max_abs_smd", "rd_upper", "rd_lower", "risk_difference", "risk_comparator",
                     "risk_device", "pairs"):
            batch.drop_column(name)
    with op.batch_alter_table("surveillance_monitor") as batch:
        for name in ("stop_reason", "stopped_by", "stopped_at", "binomial_z", "delta_caliper", "delta_min_pairs",
                     "delta_margin", "kind"):
            batch.drop_column(name)
