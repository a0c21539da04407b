"""surveillance: an alert case follows its signal case (``surveillance_alert.signal_case_id``); alerts whose
look a signal case already holds are linked to it (their state is not changed here: the next move of the
signal case, audited, sets it)

Revision ID: surveillance_0010
Revises: surveillance_0008
Create Date: 2026-11-30 11:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "surveillance_0010"
down_revision: str | None = "surveillance_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("surveillance_alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signal_case_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_surveillance_alert_signal_case_id"), ["signal_case_id"],
                              unique=False)
    op.execute(
        "UPDATE surveillance_alert SET signal_case_id = (SELECT MIN(s.case_id) FROM signals_case_stat s "
        "WHERE s.look_id = surveillance_alert.look_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("surveillance_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveillance_alert_signal_case_id"))
        batch_op.drop_column("signal_case_id")
