"""Agreed approaches for known visitors: a room or zone, a time window, a visitor reference
and the approach note (dispatcher/approaches.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'approach_agreements',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('site_id', sa.String(64), nullable=False),
        sa.Column('location_id', sa.String(64), nullable=True),
        sa.Column('zone_id', sa.String(64), nullable=True),
        sa.Column('place_name', sa.String(300), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('visitor', sa.String(60), nullable=False),
        sa.Column('note', sa.String(300), nullable=False),
        sa.Column('made_by', sa.String(200), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by', sa.String(200), nullable=True),
        sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_approach_agreements_ends_at', 'approach_agreements', ['ends_at'])


def downgrade() -> None:
    op.drop_index('ix_approach_agreements_ends_at', table_name='approach_agreements')
    op.drop_table('approach_agreements')
