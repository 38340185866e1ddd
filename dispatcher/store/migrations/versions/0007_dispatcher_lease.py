"""The dispatcher lease: which instance dispatches, and its fencing number (epoch).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dispatcher_lease',
        sa.Column('name', sa.String(40), primary_key=True),
        sa.Column('holder', sa.String(200), nullable=False),
        sa.Column('epoch', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('dispatcher_lease')
