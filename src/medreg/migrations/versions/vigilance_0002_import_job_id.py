"""vigilance: vigilance_case.import_job_id, the background import job that filed the report (issue 7:
a cancelled or finally failed import removes what it inserted)

Revision ID: vigilance_0002
Revises: evidence_0001
Create Date: 2026-11-30 06:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "vigilance_0002"
down_revision: str | None = "evidence_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vigilance_case") as batch:
        batch.add_column(sa.Column("import_job_id", sa.Integer(), nullable=True))
        batch.create_index("ix_vigilance_case_import_job_id", ["import_job_id"])


def downgrade() -> None:
    with op.batch_alter_table("vigilance_case") as batch:
        batch.drop_index("ix_vigilance_case_import_job_id")
        batch.drop_column("import_job_id")
