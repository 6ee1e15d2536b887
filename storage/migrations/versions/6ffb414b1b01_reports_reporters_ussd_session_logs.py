"""reports, reporters, USSD session logs

Revision ID: 6ffb414b1b01
Revises:
Create Date: 2026-11-24 13:09:59.041638
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '6ffb414b1b01'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reporters',
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('phone_hash')
    )
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('gateway', sa.String(length=32), nullable=False),
    sa.Column('conversation_key', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('tree_id', sa.String(length=64), nullable=False),
    sa.Column('tree_version', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('subcategory', sa.String(length=96), nullable=True),
    sa.Column('province_iso', sa.String(length=8), nullable=True),
    sa.Column('province_pcode', sa.String(length=16), nullable=True),
    sa.Column('province_name', sa.String(length=64), nullable=True),
    sa.Column('territory', sa.String(length=96), nullable=True),
    sa.Column('territory_pcode', sa.String(length=16), nullable=True),
    sa.Column('site', sa.String(length=200), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=True),
    sa.Column('occurred_until', sa.Date(), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('network_code', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reporter_hash', sa.String(length=64), nullable=False),
    sa.Column('reporter_encrypted', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_key'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_province_iso'), ['province_iso'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_reporter_hash'), ['reporter_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_status'), ['status'], unique=False)

    op.create_table('ussd_session_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('service_code', sa.String(length=64), nullable=True),
    sa.Column('network_code', sa.String(length=16), nullable=True),
    sa.Column('reporter_hash', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('hops', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('cost', sa.String(length=64), nullable=True),
    sa.Column('last_node', sa.String(length=64), nullable=True),
    sa.Column('last_response', sa.Text(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ussd_session_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ussd_session_logs_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ussd_session_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ussd_session_logs_session_id'))

    op.drop_table('ussd_session_logs')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_status'))
        batch_op.drop_index(batch_op.f('ix_reports_reporter_hash'))
        batch_op.drop_index(batch_op.f('ix_reports_province_iso'))
        batch_op.drop_index(batch_op.f('ix_reports_created_at'))
        batch_op.drop_index(batch_op.f('ix_reports_category'))

    op.drop_table('reports')
    op.drop_table('reporters')
