"""signals: a configured analysis may have its own schedule (else it runs after each snapshot); the
existing signals.run jobs of an analysis get their job subject (signals_analysis:<id>)

Revision ID: signals_0005
Revises: core_0002
Create Date: 2026-11-30 12:00:00
"""
from collections.abc import Sequence

import json

import sqlalchemy as sa
from alembic import op

revision: str = "signals_0005"
down_revision: str | None = "core_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signals_analysis", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_signals_analysis_schedule_id_schedule"), "schedule",
                                    ["schedule_id"], ["id"], ondelete="SET NULL")
    job = sa.table("job", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                   sa.column("params", sa.JSON), sa.column("subject", sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(job.c.id, job.c.params).where(job.c.kind == "signals.run",
                                                                 job.c.subject.is_(None))).all()
    for job_id, params in rows:
        params = json.loads(params) if isinstance(params, str) else params
        analysis_id = (params or {}).get("analysis_id")
        if isinstance(analysis_id, int):
            conn.execute(sa.update(job).where(job.c.id == job_id)
                         .values(subject=f"signals_analysis:{analysis_id}"))


def downgrade() -> None:
    with op.batch_alter_table("signals_analysis", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_signals_analysis_schedule_id_schedule"), type_="foreignkey")
        batch_op.drop_column("schedule_id")
