"""surveillance: a monitor's notes (descriptive, editable any time) and the monitor a new one
supersedes (a changed design after the first look is a new monitor; the old one is stopped)

Revision ID: surveillance_0007
Revises: signals_0004
Create Date: 2026-11-30 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "surveillance_0007"
down_revision: str | None = "signals_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_surveillance_monitor_supersedes_id_surveillance_monitor",
            "surveillance_monitor",
            ["supersedes_id"],
            ["id"],
        )
        batch.create_index("ix_surveillance_monitor_supersedes_id", ["supersedes_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("surveillance_monitor") as batch:
        batch.drop_index("ix_surveillance_monitor_supersedes_id")
        batch.drop_constraint(
            "fk_surveillance_monitor_supersedes_id_surveillance_monitor", type_="foreignkey"
        )
        batch.drop_column("supersedes_id")
        batch.drop_column("notes")
