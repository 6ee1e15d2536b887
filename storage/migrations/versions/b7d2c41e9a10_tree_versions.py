"""tree versions

Revision ID: b7d2c41e9a10
Revises: e41dfb3d38f4
Create Date: 2026-11-25 09:00:00.000000

The trees' own content is not written here: ``flask db upgrade`` seeds version 1 of each
configured tree after migrating (``storage.tree_seed``), validated like any import.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'b7d2c41e9a10'
down_revision: str | None = 'e41dfb3d38f4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tree_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tree_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name='ck_tree_versions_status'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tree_id', 'version')
    )
    # One published version per tree, enforced by the database (both dialects know partial indexes).
    with op.batch_alter_table('tree_versions', schema=None) as batch_op:
        batch_op.create_index(
            'uq_tree_versions_one_published',
            ['tree_id'],
            unique=True,
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        )


def downgrade() -> None:
    with op.batch_alter_table('tree_versions', schema=None) as batch_op:
        batch_op.drop_index('uq_tree_versions_one_published')

    op.drop_table('tree_versions')
