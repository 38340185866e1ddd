"""Initial schema: incidents, alarms, timeline, outbox, device status.

Revision ID: 0001
Revises: -
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_status',
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('battery', sa.Double(), nullable=True),
    sa.Column('rssi', sa.Integer(), nullable=True),
    sa.Column('firmware', sa.String(length=64), nullable=True),
    sa.Column('last_alarm_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('device_id')
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('alarm_uid', sa.String(length=40), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=True),
    sa.Column('site_name', sa.String(length=200), nullable=True),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('position', sa.JSON(), nullable=True),
    sa.Column('person_affected', sa.String(length=200), nullable=True),
    sa.Column('reporter', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=True),
    sa.Column('abcd_class', sa.String(length=1), nullable=True),
    sa.Column('aggression_forms', sa.JSON(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('offenders', sa.Text(), nullable=True),
    sa.Column('injury', sa.Text(), nullable=True),
    sa.Column('hospital_admission', sa.Boolean(), nullable=True),
    sa.Column('death', sa.Boolean(), nullable=True),
    sa.Column('damage_personal_amount', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('damage_personal_recovered', sa.Boolean(), nullable=True),
    sa.Column('damage_employer_amount', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('damage_employer_recovered', sa.Boolean(), nullable=True),
    sa.Column('police_report', sa.Boolean(), nullable=True),
    sa.Column('police_report_date', sa.Date(), nullable=True),
    sa.Column('repeat_offender', sa.Boolean(), nullable=True),
    sa.Column('sanction', sa.String(length=32), nullable=True),
    sa.Column('aftercare', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('alarm_uid')
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('alarm_uid', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_alarm_uid'), ['alarm_uid'], unique=False)
        batch_op.create_index('ix_outbox_unsent', ['sent_at', 'failed_at'], unique=False)

    op.create_table('alarms',
    sa.Column('uid', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('device_alarm_id', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('uid')
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.create_index('ix_alarms_key', ['device_id', 'device_alarm_id'], unique=False)
        batch_op.create_index('ix_alarms_open_deadline', ['is_open', 'deadline_at'], unique=False)
        batch_op.create_index('uq_alarms_open_key', ['device_id', 'device_alarm_id'], unique=True, sqlite_where=sa.text('is_open'), postgresql_where=sa.text('is_open'))

    op.create_table('timeline',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('alarm_uid', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('notice', sa.Boolean(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_incident_id'), ['incident_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_incident_id'))

    op.drop_table('timeline')
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('uq_alarms_open_key', sqlite_where=sa.text('is_open'), postgresql_where=sa.text('is_open'))
        batch_op.drop_index('ix_alarms_open_deadline')
        batch_op.drop_index('ix_alarms_key')

    op.drop_table('alarms')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unsent')
        batch_op.drop_index(batch_op.f('ix_outbox_alarm_uid'))

    op.drop_table('outbox')
    op.drop_table('incidents')
    op.drop_table('device_status')
