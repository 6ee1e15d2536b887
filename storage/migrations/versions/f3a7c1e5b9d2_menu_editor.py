"""menu editor: org admins the coordinator allows to edit trees; the editor's audit trail

Revision ID: f3a7c1e5b9d2
Revises: f2a6c8e0b4d3
Create Date: 2026-11-25 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'f3a7c1e5b9d2'
down_revision: str | None = 'f2a6c8e0b4d3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(
            sa.Column('menu_editor', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        'tree_audit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('tree_id', sa.String(length=64), nullable=True),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_tree_audit_at', 'tree_audit', ['at'], unique=False)
    op.create_index('ix_tree_audit_tree_id', 'tree_audit', ['tree_id'], unique=False)
    op.create_index('ix_tree_audit_user_id', 'tree_audit', ['user_id'], unique=False)
    # Append-only, as report_changes: kuf_append_only() exists since 7a3c5e9d2b10.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            'CREATE TRIGGER tree_audit_append_only BEFORE UPDATE OR DELETE ON tree_audit '
            'FOR EACH ROW EXECUTE FUNCTION kuf_append_only()'
        )
    else:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(
                f'CREATE TRIGGER tree_audit_no_{verb.lower()} BEFORE {verb} ON tree_audit '
                "BEGIN SELECT RAISE(ABORT, 'tree_audit is append-only'); END"
            )


def downgrade() -> None:
    op.drop_table('tree_audit')  # its triggers go with it
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('menu_editor')
