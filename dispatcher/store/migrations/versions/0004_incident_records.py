"""Incident records: the registration form's fields, offenders, sanctions, aftercare, audit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='alarm'))
        batch_op.add_column(sa.Column('near_miss', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('affected_person_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reported_by_user', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('contact_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('police_report_reference', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('employer_address_used', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('damage_description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_incidents_affected_person_id', ['affected_person_id'], unique=False)
    op.create_table(
        'offenders',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'incident_offenders',
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('offender_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
        sa.ForeignKeyConstraint(['offender_id'], ['offenders.id']),
        sa.PrimaryKeyConstraint('incident_id', 'offender_id'),
    )
    with op.batch_alter_table('incident_offenders', schema=None) as batch_op:
        batch_op.create_index('ix_incident_offenders_offender_id', ['offender_id'], unique=False)
    op.create_table(
        'sanctions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('offender_id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('suggested', sa.String(length=16), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('letter', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
        sa.ForeignKeyConstraint(['offender_id'], ['offenders.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('sanctions', schema=None) as batch_op:
        batch_op.create_index('ix_sanctions_incident_id', ['incident_id'], unique=False)
        batch_op.create_index('ix_sanctions_offender_id', ['offender_id'], unique=False)
    op.create_table(
        'aftercare_tasks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by', sa.String(length=200), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('aftercare_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_aftercare_tasks_incident_id', ['incident_id'], unique=False)
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_incident_id', ['incident_id'], unique=False)


def downgrade() -> None:
    for table in ('audit_log', 'aftercare_tasks', 'sanctions', 'incident_offenders', 'offenders'):
        op.drop_table(table)
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_affected_person_id')
        for column in ('anonymised_at', 'updated_at', 'completed_at', 'employer_address_used',
                       'police_report_reference', 'damage_description', 'contact_kind', 'reported_by_user', 'affected_person_id',
                       'near_miss', 'source'):
            batch_op.drop_column(column)
