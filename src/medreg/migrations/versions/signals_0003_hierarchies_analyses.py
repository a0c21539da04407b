"""signals: device level of cases and runs, strata and engine of runs, configured analyses

Revision ID: signals_0003
Revises: signals_0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medreg.core.db

revision: str = 'signals_0003'
down_revision: str | None = 'signals_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signals_analysis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('event_level', sa.Integer(), nullable=False),
    sa.Column('annexes', sa.String(length=8), nullable=False),
    sa.Column('device_level', sa.String(length=20), nullable=False),
    sa.Column('strata', sa.String(length=60), nullable=False),
    sa.Column('statistic', sa.String(length=8), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('min_n', sa.Integer(), nullable=False),
    sa.Column('engine', sa.String(length=10), nullable=False),
    sa.Column('created_at', medreg.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', medreg.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals_analysis')),
    sa.UniqueConstraint('name', name=op.f('uq_signals_analysis_name'))
    )
    with op.batch_alter_table('signals_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_level', sa.String(length=20), server_default='certificate',
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_signals_case_device_level'), ['device_level'], unique=False)
    with op.batch_alter_table('signals_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_level', sa.String(length=20), server_default='certificate',
                                      nullable=False))
        batch_op.add_column(sa.Column('strata', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('engine', sa.String(length=10), server_default='duckdb', nullable=False))
        batch_op.add_column(sa.Column('analysis_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_signals_run_analysis_id'), ['analysis_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_signals_run_analysis_id_signals_analysis'),
                                    'signals_analysis', ['analysis_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('signals_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_signals_run_analysis_id_signals_analysis'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_signals_run_analysis_id'))
        batch_op.drop_column('analysis_id')
        batch_op.drop_column('engine')
        batch_op.drop_column('strata')
        batch_op.drop_column('device_level')
    with op.batch_alter_table('signals_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signals_case_device_level'))
        batch_op.drop_column('device_level')
    op.drop_table('signals_analysis')
