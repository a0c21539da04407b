"""signals: cases raised by a surveillance monitor (source, monitor, alert) and the look's statistics

Revision ID: signals_0004
Revises: core_0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'signals_0004'
down_revision: str | None = 'core_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signals_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=24), server_default='disproportionality',
                                      nullable=False))
        batch_op.add_column(sa.Column('monitor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('alert_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_signals_case_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_signals_case_monitor_id'), ['monitor_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_signals_case_alert_id'), ['alert_id'])
        batch_op.create_foreign_key(batch_op.f('fk_signals_case_monitor_id_surveillance_monitor'),
                                    'surveillance_monitor', ['monitor_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_signals_case_alert_id_surveillance_alert'),
                                    'surveillance_alert', ['alert_id'], ['id'])
    with op.batch_alter_table('signals_case_stat', schema=None) as batch_op:
        batch_op.add_column(sa.Column('look_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('look_stats', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_signals_case_stat_look_id'), ['look_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_signals_case_stat_look_id_surveillance_look'),
                                    'surveillance_look', ['look_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('signals_case_stat', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_signals_case_stat_look_id_surveillance_look'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_signals_case_stat_look_id'))
        batch_op.drop_column('look_stats')
        batch_op.drop_column('look_id')
    with op.batch_alter_table('signals_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_signals_case_alert_id_surveillance_alert'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_signals_case_monitor_id_surveillance_monitor'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_signals_case_alert_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_signals_case_monitor_id'))
        batch_op.drop_index(batch_op.f('ix_signals_case_source'))
        batch_op.drop_column('alert_id')
        batch_op.drop_column('monitor_id')
        batch_op.drop_column('source')
