"""Actions taken on a standby (an operator's, a responder's answer, a provider's report),
stored for the instance that dispatches to carry out.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'relayed_commands',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('alarm_uid', sa.String(40), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('strict', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.JSON(), nullable=True),
    )
    op.create_index('ix_relayed_commands_waiting', 'relayed_commands', ['taken_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_relayed_commands_waiting', table_name='relayed_commands')
    op.drop_table('relayed_commands')
