"""surveillance: the risk-adjusted CUSUM as a monitored result - its control limit h simulated once and
stored on the monitor (seed, simulations, horizon), the CUSUM state of each look, and what raised an
alert case (the monitor's test or the CUSUM)

Revision ID: surveillance_0006
Revises: surveillance_0010
Create Date: 2026-11-30 11:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "surveillance_0006"
down_revision: str | None = "surveillance_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONITOR = (("cusum_h", sa.Float()), ("cusum_seed", sa.Integer()), ("cusum_simulations", sa.Integer()),
           ("cusum_horizon", sa.Integer()), ("cusum_horizon_expected", sa.Float()))
LOOK = (("cusum_procedures", sa.Integer()), ("cusum_observed", sa.Float()), ("cusum_expected", sa.Float()),
        ("cusum_variance", sa.Float()), ("cusum_value", sa.Float()), ("cusum_peak", sa.Float()),
        ("cusum_h", sa.Float()), ("cusum_crossed_at", sa.Integer()))


def upgrade() -> None:
    with op.batch_alter_table("surveillance_monitor") as batch:
        for name, type_ in MONITOR:
            batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("surveillance_look") as batch:
        for name, type_ in LOOK:
            batch.add_column(sa.Column(name, type_, nullable=True))
    # alerts from before are the monitors' own tests (MaxSPRT or DELTA)
    with op.batch_alter_table("surveillance_alert") as batch:
        batch.add_column(sa.Column("statistic", sa.String(16), nullable=False, server_default="monitor"))


def downgrade() -> None:
    with op.batch_alter_table("surveillance_alert") as batch:
        batch.drop_column("statistic")
    with op.batch_alter_table("surveillance_look") as batch:
        for name, _type in reversed(LOOK):
            batch.drop_column(name)
    with op.batch_alter_table("surveillance_monitor") as batch:
        for name, _type in reversed(MONITOR):
            batch.drop_column(name)
