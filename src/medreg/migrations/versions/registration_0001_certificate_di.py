"""registration: the UDI-DIs of a certificate's product (Order 47 Art.101)

Revision ID: registration_0001
Revises: surveillance_0003
Create Date: 2026-11-30 05:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medreg.core.db

revision: str = "registration_0001"
down_revision: str | None = "surveillance_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registration_certificate_di",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("di", sa.String(length=14), nullable=False),
        sa.Column("declared_by", sa.String(length=64), nullable=False),
        sa.Column("declared_at", medreg.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["certificate_id"], ["registration_certificate.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("di", name="uq_registration_certificate_di"),
    )
    op.create_index("ix_registration_certificate_di_certificate_id", "registration_certificate_di",
                    ["certificate_id"])


def downgrade() -> None:
    op.drop_index("ix_registration_certificate_di_certificate_id", table_name="registration_certificate_di")
    op.drop_table("registration_certificate_di")
