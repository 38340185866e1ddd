"""The whole registration form (Bijlage 10), aftercare planned when the alarm closes, the
Arbeidsinspectie tasks and the debrief of a serious incident.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

INCIDENT_COLUMNS = [
    ('lasting_harm', sa.Boolean()),
    ('injured', sa.Boolean()),
    ('offender_relation', sa.String(16)),
    ('damage_personal', sa.Boolean()),
    ('damage_employer', sa.Boolean()),
    ('damage_personal_description', sa.Text()),
    ('sanction_other', sa.String(300)),
    ('employee_signed_name', sa.String(200)),
    ('employee_signed_on', sa.Date()),
    ('lead_signed_name', sa.String(200)),
    ('lead_signed_on', sa.Date()),
    ('colleagues_involved', sa.JSON()),
    ('aftercare_planned_at', sa.DateTime(timezone=True)),
    ('debrief_what', sa.Text()),
    ('debrief_went_well', sa.Text()),
    ('debrief_change', sa.Text()),
    ('debrief_actions', sa.Text()),
    ('team_meeting_on', sa.Date()),
]


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        for name, kind in INCIDENT_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table('aftercare_tasks') as batch:
        batch.alter_column('kind', existing_type=sa.String(16), type_=sa.String(32), existing_nullable=False)
        batch.add_column(sa.Column('subject', sa.String(200), nullable=True))
        batch.add_column(sa.Column('declined', sa.Boolean(), nullable=False, server_default=sa.false()))
    # The task for the inspectorate, under its name of today; planned aftercare is marked as such.
    op.execute("UPDATE aftercare_tasks SET kind = 'ai_phone' WHERE kind = 'inspectie_szw'")
    op.execute("UPDATE incidents SET aftercare_planned_at = COALESCE(completed_at, opened_at) "
               "WHERE id IN (SELECT incident_id FROM aftercare_tasks WHERE kind = 'aftercare')")


def downgrade() -> None:
    op.execute("UPDATE aftercare_tasks SET kind = 'inspectie_szw' WHERE kind = 'ai_phone'")
    op.execute("DELETE FROM aftercare_tasks WHERE length(kind) > 16")
    with op.batch_alter_table('aftercare_tasks') as batch:
        batch.drop_column('declined')
        batch.drop_column('subject')
        batch.alter_column('kind', existing_type=sa.String(32), type_=sa.String(16), existing_nullable=False)
    with op.batch_alter_table('incidents') as batch:
        for name, _ in reversed(INCIDENT_COLUMNS):
            batch.drop_column(name)
