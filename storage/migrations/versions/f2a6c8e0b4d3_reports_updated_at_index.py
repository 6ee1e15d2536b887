"""dashboard: an index on reports.updated_at (the months whose counts changed since a count)

Revision ID: f2a6c8e0b4d3
Revises: d9f1b3c5e7a2
Create Date: 2026-11-25 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = 'f2a6c8e0b4d3'
down_revision: str | None = 'd9f1b3c5e7a2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_reports_updated_at', 'reports', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reports_updated_at', table_name='reports')
