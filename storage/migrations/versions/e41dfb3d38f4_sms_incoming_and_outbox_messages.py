"""sms incoming and outbox messages

Revision ID: e41dfb3d38f4
Revises: 6ffb414b1b01
Create Date: 2026-11-24 13:16:20.353827
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e41dfb3d38f4'
down_revision: str | None = '6ffb414b1b01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('phone_encrypted', sa.Text(), nullable=False),
    sa.Column('sender', sa.String(length=32), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('encoding', sa.String(length=8), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('backend', sa.String(length=32), nullable=True),
    sa.Column('gateway_message_id', sa.String(length=100), nullable=True),
    sa.Column('gateway_status', sa.String(length=32), nullable=True),
    sa.Column('cost', sa.String(length=32), nullable=True),
    sa.Column('failure_reason', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_gateway_message_id'), ['gateway_message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_phone_hash'), ['phone_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_status'), ['status'], unique=False)

    op.create_table('sms_incoming',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=100), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reporter_hash', sa.String(length=64), nullable=False),
    sa.Column('shortcode', sa.String(length=32), nullable=False),
    sa.Column('network_code', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('gateway', 'message_id')
    )
    with op.batch_alter_table('sms_incoming', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_incoming_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_incoming_reporter_hash'), ['reporter_hash'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sms_incoming', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_incoming_reporter_hash'))
        batch_op.drop_index(batch_op.f('ix_sms_incoming_received_at'))

    op.drop_table('sms_incoming')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_status'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_phone_hash'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_gateway_message_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_created_at'))

    op.drop_table('outbox_messages')
