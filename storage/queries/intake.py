"""Reads of the intake: reports for listing and export, reporters' languages, incoming SMS ids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ..db import Database
from ..models import Report, Reporter, SmsIncoming

EXPORT_FIELDS = (
    "reference",
    "created_at",
    "channel",
    "gateway",
    "language",
    "tree_id",
    "tree_version",
    "category",
    "subcategory",
    "province",
    "province_pcode",
    "province_name",
    "territory",
    "territory_pcode",
    "site",
    "occurred_on",
    "details",
    "network_code",
    "status",
)


# On a USSD hop, on PostgreSQL: the statement as the driver takes it. SQLAlchemy's building and
# compiling of the same statement cost twice the round trip itself (bench/loadtest).
_LANGUAGE_PG = "SELECT language FROM reporters WHERE phone_hash = %(phone_hash)s"


def language_for(session: Session | Connection, phone_hash: str) -> str | None:
    return session.scalar(select(Reporter.language).where(Reporter.phone_hash == phone_hash))


def language_at_once(db: Database, phone_hash: str) -> str | None:
    """``language_for`` as one statement of its own, outside any transaction (a USSD hop's)."""
    if db.on_postgresql:
        row = db.single_row(_LANGUAGE_PG, {"phone_hash": phone_hash})
        return None if row is None else str(row[0])
    with db.single_statements() as connection:
        return language_for(connection, phone_hash)


def recent_reports(session: Session, limit: int = 50) -> list[Report]:
    return list(
        session.scalars(
            select(Report).order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)
        )
    )


def iter_reports(session: Session, batch: int = 500) -> Iterator[Report]:
    """Every report, oldest first, streamed in batches so an export never holds them all."""
    last_id = 0
    while True:
        rows = list(
            session.scalars(
                select(Report).where(Report.id > last_id).order_by(Report.id).limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def occurred_text(report: Report) -> str:
    """ISO 8601: a day, or an interval ``start/end`` for a range such as "this week"."""
    if report.occurred_on is None:
        return ""
    if report.occurred_until is not None:
        return f"{report.occurred_on.isoformat()}/{report.occurred_until.isoformat()}"
    return report.occurred_on.isoformat()


def export_row(report: Report) -> dict[str, Any]:
    """A report as a flat record for CSV/JSONL. The reporter appears in no form at all."""
    return {
        "reference": report.reference,
        "created_at": report.created_at.isoformat() if report.created_at else "",
        "channel": report.channel,
        "gateway": report.gateway,
        "language": report.language,
        "tree_id": report.tree_id,
        "tree_version": report.tree_version,
        "category": report.category or "",
        "subcategory": report.subcategory or "",
        "province": report.province_iso or "",
        "province_pcode": report.province_pcode or "",
        "province_name": report.province_name or "",
        "territory": report.territory or "",
        "territory_pcode": report.territory_pcode or "",
        "site": report.site or "",
        "occurred_on": occurred_text(report),
        "details": report.details or "",
        "network_code": report.network_code or "",
        "status": report.status,
    }


def report_stored_for(session: Session, conversation_key: str) -> bool:
    """Whether this conversation's report is stored already (one report per conversation)."""
    found = session.scalar(select(Report.id).where(Report.conversation_key == conversation_key))
    return found is not None


def sms_incoming_seen(session: Session, gateway: str, message_id: str) -> bool:
    """Whether this gateway's incoming SMS was already handled (a retry, or a duplicate)."""
    found = session.scalar(
        select(SmsIncoming.id).where(
            SmsIncoming.gateway == gateway, SmsIncoming.message_id == message_id
        )
    )
    return found is not None
