"""No PINs or phone numbers in stored plans and outbox rows; Twilio webhooks seen; provider ids.

Stored alarm states move to version 2 (dispatcher/store/codec.py `upgrade_v1`): PINs leave the
plan (a PIN of an alarm still open becomes a digest nothing matches: the control room ends it)
and phone routes name the recipient instead of the number. Outbox rows of notifications do the
same. `webhook_receipts` remembers every Twilio request that changed something, so a captured
and replayed one is refused; `outbox.provider_ref` keeps the id Twilio gave a message or call,
so that keys pressed count only on the call placed for that page.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dispatcher.store.codec import upgrade_notify_v1, upgrade_v1

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhook_receipts',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_ref', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    alarms = sa.table('alarms', sa.column('uid', sa.String), sa.column('state', sa.JSON))
    for uid, stored in connection.execute(sa.select(alarms.c.uid, alarms.c.state)).all():
        if stored and stored.get('v') == 1:
            upgraded = {'v': 2, 'state': upgrade_v1(stored['state'])}
            connection.execute(alarms.update().where(alarms.c.uid == uid).values(state=upgraded))
    outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                      sa.column('payload', sa.JSON))
    for row_id, payload in connection.execute(
            sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.kind == 'notify')).all():
        connection.execute(outbox.update().where(outbox.c.id == row_id).values(payload=upgrade_notify_v1(payload)))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('provider_ref')
    op.drop_table('webhook_receipts')
