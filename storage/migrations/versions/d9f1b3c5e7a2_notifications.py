"""notifications: members' preferences, and what was sent to whom

Revision ID: d9f1b3c5e7a2
Revises: c4e8a2d6f0b1
Create Date: 2026-11-25 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = 'd9f1b3c5e7a2'
down_revision: str | None = 'c4e8a2d6f0b1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'notification_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.Boolean(), nullable=False),
        sa.Column('sms', sa.Boolean(), nullable=False),
        sa.Column('phone_hash', sa.String(length=64), nullable=True),
        sa.Column('phone_encrypted', sa.Text(), nullable=True),
        sa.Column('frequency', sa.String(length=16), nullable=False),
        sa.Column('digest_from', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('subject', sa.String(length=100), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'kind', 'subject', 'channel'),
    )


def downgrade() -> None:
    op.drop_table('notifications')
    op.drop_table('notification_preferences')
