"""The responder app's long-lived device sessions and its Web Push subscriptions
(gateway/responder/app, escalation/push).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'device_sessions',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False, unique=True),
        sa.Column('csrf_token', sa.String(64), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_device_sessions_user_id', 'device_sessions', ['user_id'])
    op.create_table(
        'push_subscriptions',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('person_id', sa.String(64), nullable=False),
        sa.Column('device_session_id', sa.Integer(), sa.ForeignKey('device_sessions.id'), nullable=True),
        sa.Column('endpoint', sa.String(1000), nullable=False, unique=True),
        sa.Column('p256dh', sa.String(200), nullable=False),
        sa.Column('auth', sa.String(100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('gone_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_push_subscriptions_person_id', 'push_subscriptions', ['person_id'])
    op.create_index('ix_push_subscriptions_device_session_id', 'push_subscriptions', ['device_session_id'])


def downgrade() -> None:
    op.drop_index('ix_push_subscriptions_device_session_id', table_name='push_subscriptions')
    op.drop_index('ix_push_subscriptions_person_id', table_name='push_subscriptions')
    op.drop_table('push_subscriptions')
    op.drop_index('ix_device_sessions_user_id', table_name='device_sessions')
    op.drop_table('device_sessions')
