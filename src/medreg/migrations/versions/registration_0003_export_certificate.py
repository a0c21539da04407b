"""registration: export sales certificates (出口销售证明, NMPA 2025 No.126) with their devices and the
verification code of the public check

Revision ID: registration_0003
Revises: signals_0005
Create Date: 2026-11-30 11:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medreg.core.db

revision: str = "registration_0003"
down_revision: str | None = "signals_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("number_zh", sa.String(length=32), nullable=False),
        sa.Column("number_en", sa.String(length=24), nullable=False),
        sa.Column("letter_code", sa.String(length=2), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("applicant_org_id", sa.Integer(), nullable=False),
        sa.Column("issuer_org_id", sa.Integer(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("verification_code", sa.String(length=14), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("created_at", medreg.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["issuer_org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("letter_code", "year", "serial", name="uq_export_certificate_serial"),
        sa.UniqueConstraint("number_zh"),
        sa.UniqueConstraint("number_en"),
    )
    op.create_index("ix_export_certificate_applicant_org_id", "export_certificate", ["applicant_org_id"])
    op.create_index("ix_export_certificate_status", "export_certificate", ["status"])
    op.create_table(
        "export_certificate_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_certificate_id", sa.Integer(), nullable=False),
        sa.Column("registration_certificate_id", sa.Integer(), nullable=False),
        sa.Column("registration_number", sa.String(length=24), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("model_spec", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["export_certificate_id"], ["export_certificate.id"]),
        sa.ForeignKeyConstraint(["registration_certificate_id"], ["registration_certificate.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_export_certificate_device_export_certificate_id", "export_certificate_device",
                    ["export_certificate_id"])


def downgrade() -> None:
    op.drop_index("ix_export_certificate_device_export_certificate_id", table_name="export_certificate_device")
    op.drop_table("export_certificate_device")
    op.drop_index("ix_export_certificate_status", table_name="export_certificate")
    op.drop_index("ix_export_certificate_applicant_org_id", table_name="export_certificate")
    op.drop_table("export_certificate")
