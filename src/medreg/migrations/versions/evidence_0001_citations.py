"""evidence: citations of study analyses as real-world evidence in registration applications

Revision ID: evidence_0001
Revises: registration_0001
Create Date: 2026-11-30 05:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medreg.core.db import UTCDateTime

revision: str = "evidence_0001"
down_revision: str | None = "registration_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_citation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("protocol_sha256", sa.String(length=64), nullable=False),
        sa.Column("results_sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("cited_by", sa.String(length=64), nullable=False),
        sa.Column("cited_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["analysis_id"], ["evidence_analysis.id"]),
        sa.ForeignKeyConstraint(["application_id"], ["registration_application.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("analysis_id", "application_id", name="uq_evidence_citation"),
    )
    op.create_index("ix_evidence_citation_analysis_id", "evidence_citation", ["analysis_id"])
    op.create_index("ix_evidence_citation_application_id", "evidence_citation", ["application_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_citation_application_id", table_name="evidence_citation")
    op.drop_index("ix_evidence_citation_analysis_id", table_name="evidence_citation")
    op.drop_table("evidence_citation")
