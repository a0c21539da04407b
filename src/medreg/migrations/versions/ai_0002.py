"""ai: detection tasks (sealed lesions, the matching rule of a version)

Revision ID: ai_0002
Revises: signals_0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ai_0002'
down_revision: str | None = 'signals_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ai_eval_lesion',
    sa.Column('case_pk', sa.Integer(), nullable=False),
    sa.Column('lesions', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_pk'], ['ai_eval_case.id'], name=op.f('fk_ai_eval_lesion_case_pk_ai_eval_case')),
    sa.PrimaryKeyConstraint('case_pk', name=op.f('pk_ai_eval_lesion'))
    )
    with op.batch_alter_table('ai_eval_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matching', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ai_eval_version', schema=None) as batch_op:
        batch_op.drop_column('matching')
    op.drop_table('ai_eval_lesion')
