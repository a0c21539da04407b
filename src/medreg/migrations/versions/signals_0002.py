"""signals: runs, the reports behind each statistic, the case's registration number

Revision ID: signals_0002
Revises: surveillance_0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medreg.core.db

revision: str = 'signals_0002'
down_revision: str | None = 'surveillance_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signals_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('snapshot_version', sa.Integer(), nullable=False),
    sa.Column('snapshot_path', sa.String(length=500), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('exported_at', medreg.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event_level', sa.Integer(), nullable=False),
    sa.Column('annexes', sa.String(length=8), nullable=False),
    sa.Column('criteria', sa.String(length=200), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('prior', sa.JSON(), nullable=True),
    sa.Column('created_at', medreg.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user_account.id'], name=op.f('fk_signals_run_created_by_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals_run'))
    )
    with op.batch_alter_table('signals_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('response_due_at', medreg.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('response', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('responded_at', medreg.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_signals_case_registration_number'), ['registration_number'], unique=False)
    with op.batch_alter_table('signals_case_stat', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ic975', sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f('ix_signals_case_stat_run_id'), ['run_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_signals_case_stat_run_id_signals_run'), 'signals_run', ['run_id'], ['id'])
    op.create_table('signals_case_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('stat_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['signals_case.id'], name=op.f('fk_signals_case_report_case_id_signals_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stat_id'], ['signals_case_stat.id'], name=op.f('fk_signals_case_report_stat_id_signals_case_stat'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals_case_report')),
    sa.UniqueConstraint('stat_id', 'report_id', name=op.f('uq_signals_case_report_stat_id'))
    )
    with op.batch_alter_table('signals_case_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signals_case_report_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signals_case_report_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signals_case_report_stat_id'), ['stat_id'], unique=False)


def downgrade() -> None:
    op.drop_table('signals_case_report')
    with op.batch_alter_table('signals_case_stat', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_signals_case_stat_run_id_signals_run'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_signals_case_stat_run_id'))
        batch_op.drop_column('ic975')
        batch_op.drop_column('run_id')
    with op.batch_alter_table('signals_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signals_case_registration_number'))
        batch_op.drop_column('responded_at')
        batch_op.drop_column('response')
        batch_op.drop_column('response_due_at')
        batch_op.drop_column('registration_number')
    op.drop_table('signals_run')
