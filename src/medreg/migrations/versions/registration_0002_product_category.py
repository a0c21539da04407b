"""registration: the catalogue product category (一级 / 二级) of an application and its certificate

Revision ID: registration_0002
Revises: vigilance_0002
Create Date: 2026-11-30 08:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registration_0002"
down_revision: str | None = "vigilance_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a table's columns in place (a no-op wrapper on PostgreSQL)
    with op.batch_alter_table("registration_application") as batch:
        batch.add_column(sa.Column("category1_code", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("category2_code", sa.String(length=8), nullable=True))
    with op.batch_alter_table("registration_certificate") as batch:
        batch.add_column(sa.Column("category1_code", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("category2_code", sa.String(length=8), nullable=True))
    op.create_index("ix_registration_certificate_category1_code", "registration_certificate",
                    ["category1_code"])
    op.create_index("ix_registration_certificate_category2_code", "registration_certificate",
                    ["category2_code"])


def downgrade() -> None:
    op.drop_index("ix_registration_certificate_category2_code", table_name="registration_certificate")
    op.drop_index("ix_registration_certificate_category1_code", table_name="registration_certificate")
    with op.batch_alter_table("registration_certificate") as batch:
        batch.drop_column("category2_code")
        batch.drop_column("category1_code")
    with op.batch_alter_table("registration_application") as batch:
        batch.drop_column("category2_code")
        batch.drop_column("category1_code")
