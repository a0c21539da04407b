"""surveillance: index for the columnar look (group, DI, date); planned looks of a monitor

Revision ID: surveillance_0002
Revises: ai_0002
Create Date: 2026-11-30 03:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "surveillance_0002"
down_revision: str | None = 'ai_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_surveillance_procedure_group_di_date", "surveillance_procedure",
                    ["device_group", "udi_di", "procedure_date"])
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.add_column(sa.Column("planned_looks", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.drop_column("planned_looks")
    op.drop_index("ix_surveillance_procedure_group_di_date", table_name="surveillance_procedure")
