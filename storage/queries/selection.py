"""A selection of reports streamed for an export: the inbox's filter and visibility, every row
once, fetched in batches (a server-side cursor on PostgreSQL), so memory stays flat however many
match."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Report
from .inbox import InboxFilter, Visibility, where_clauses

# What an exported record reads (never the reporter's hash or encrypted number).
SELECTION_COLUMNS = (
    Report.id,
    Report.reference,
    Report.created_at,
    Report.channel,
    Report.language,
    Report.category,
    Report.subcategory,
    Report.province_iso,
    Report.territory_pcode,
    Report.site,
    Report.occurred_on,
    Report.occurred_until,
    Report.details,
    Report.status,
    Report.verification,
    Report.assigned_org_id,
)


def selected_reports(
    session: Session,
    f: InboxFilter,
    visibility: Visibility | None,
    *,
    received_before: datetime | None = None,
    batch: int = 2000,
) -> Iterator[Any]:
    """Every report the inbox would list with ``f`` (each duplicate group once), oldest first;
    only those received before ``received_before`` when given (a public export's delay)."""
    query = select(*SELECTION_COLUMNS).where(*where_clauses(f, visibility))
    if received_before is not None:
        query = query.where(Report.created_at < received_before)
    result = session.execute(
        query.order_by(Report.id).execution_options(yield_per=batch, stream_results=True)
    )
    yield from result
