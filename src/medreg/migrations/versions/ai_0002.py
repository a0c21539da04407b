"""ai: detection tasks (sealed lesions, the matching rule of a version); evidence pack citations

Revision ID: ai_0002
Revises: signals_0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medreg.core.db

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
    op.create_table('ai_evidence_citation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('cited_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', medreg.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['registration_application.id'], name=op.f('fk_ai_evidence_citation_application_id_registration_application')),
    sa.ForeignKeyConstraint(['cited_by_user_id'], ['user_account.id'], name=op.f('fk_ai_evidence_citation_cited_by_user_id_user_account')),
    sa.ForeignKeyConstraint(['pack_id'], ['ai_evidence_pack.id'], name=op.f('fk_ai_evidence_citation_pack_id_ai_evidence_pack')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_evidence_citation')),
    sa.UniqueConstraint('pack_id', 'application_id', name='uq_ai_evidence_citation_pack_app')
    )
    with op.batch_alter_table('ai_evidence_citation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_evidence_citation_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_evidence_citation_pack_id'), ['pack_id'], unique=False)
    with op.batch_alter_table('ai_eval_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matching', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ai_eval_version', schema=None) as batch_op:
        batch_op.drop_column('matching')
    with op.batch_alter_table('ai_evidence_citation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_evidence_citation_pack_id'))
        batch_op.drop_index(batch_op.f('ix_ai_evidence_citation_application_id'))
    op.drop_table('ai_evidence_citation')
    op.drop_table('ai_eval_lesion')
