"""dashboard: a covering index for the counts (each duplicate group once)

Revision ID: c4e8a2d6f0b1
Revises: 7a3c5e9d2b10
Create Date: 2026-11-25 17:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c4e8a2d6f0b1'
down_revision: str | None = '7a3c5e9d2b10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = [
    'category', 'subcategory', 'province_iso', 'territory_pcode',
    'status', 'verification', 'channel', 'language',
]


def upgrade() -> None:
    op.create_index(
        'ix_reports_dashboard',
        'reports',
        ['created_at'],
        unique=False,
        postgresql_include=COUNTED,
        postgresql_where=sa.text('duplicate_of_id IS NULL'),
        sqlite_where=sa.text('duplicate_of_id IS NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_reports_dashboard', table_name='reports')
