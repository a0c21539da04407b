"""surveillance: incremental looks (earliest registry change since the last look); covering indexes;
the planned looks of a group-sequential monitor

Revision ID: surveillance_0003
Revises: signals_0003
Create Date: 2026-11-30 05:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "surveillance_0003"
down_revision: str | None = "signals_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LOOK_COLUMNS = ["device_group", "udi_di", "procedure_date", "follow_up_end", "age", "sex", "diabetes",
                "renal_failure", "prior_mi", "ejection_fraction", "id"]


def upgrade() -> None:
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.add_column(sa.Column("changed_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("look_plan", sa.JSON(), nullable=True))
    # the look's read is served by the index alone; the narrower index of surveillance_0002 is its prefix
    op.drop_index("ix_surveillance_procedure_group_di_date", table_name="surveillance_procedure")
    op.create_index("ix_surveillance_procedure_look", "surveillance_procedure", LOOK_COLUMNS)
    op.create_index("ix_surveillance_outcome_look", "surveillance_outcome",
                    ["procedure_id", "kind", "event_date"])


def downgrade() -> None:
    op.drop_index("ix_surveillance_outcome_look", table_name="surveillance_outcome")
    op.drop_index("ix_surveillance_procedure_look", table_name="surveillance_procedure")
    op.create_index("ix_surveillance_procedure_group_di_date", "surveillance_procedure",
                    ["device_group", "udi_di", "procedure_date"])
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.drop_column("look_plan")
        batch.drop_column("changed_from")
