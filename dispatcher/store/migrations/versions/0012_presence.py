"""Presence: who signed in as present at a site, and until when (dispatcher/presence.py).

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'presence',
        sa.Column('person_id', sa.String(64), primary_key=True),
        sa.Column('site_id', sa.String(64), primary_key=True),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('via', sa.String(16), nullable=False),
    )
    op.create_index('ix_presence_expires_at', 'presence', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_presence_expires_at', table_name='presence')
    op.drop_table('presence')
