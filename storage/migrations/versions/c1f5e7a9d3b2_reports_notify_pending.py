"""reports: notify_pending (new-report notifications found by the worker's sweep, not queued by
the hop) and three single-column indexes dropped that the inbox's composite ones already serve

Revision ID: c1f5e7a9d3b2
Revises: b8e3f1a9c2d6
Create Date: 2026-11-26 04:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1f5e7a9d3b2"
down_revision: str | None = "b8e3f1a9c2d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each is the leading column of an ``ix_reports_inbox_*`` index, which answers the same lookups.
REDUNDANT = {
    "ix_reports_category": "category",
    "ix_reports_province_iso": "province_iso",
    "ix_reports_status": "status",
}


def upgrade() -> None:
    # Reports stored before this revision were announced by the jobs of the time: none pending.
    # Plain ALTER TABLEs, not a batch: on SQLite a batch copies the table, and the copy would
    # lose the dashboard's triggers.
    op.add_column(
        "reports",
        sa.Column("notify_pending", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        "ix_reports_notify_pending",
        "reports",
        ["id"],
        postgresql_where=sa.text("notify_pending"),
        sqlite_where=sa.text("notify_pending"),
    )
    for name in REDUNDANT:
        op.drop_index(name, table_name="reports")


def downgrade() -> None:
    for name, column in REDUNDANT.items():
        op.create_index(name, "reports", [column], unique=False)
    op.drop_index("ix_reports_notify_pending", table_name="reports")
    op.drop_column("reports", "notify_pending")
