"""Reads for one report's page: the report, who may act on it, its timeline and audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Report, ReportChange, ReportEvent

# The fields a person may correct, in the order the page shows them.
CORRECTABLE_FIELDS = (
    "category",
    "subcategory",
    "province_iso",
    "territory_pcode",
    "site",
    "occurred_on",
    "details",
)


@dataclass(frozen=True)
class ReportScope:
    """The facts about a report that decide who may see and act on it (web/permissions.py)."""

    id: int
    assigned_org_id: int | None
    province_iso: str | None
    territory_pcode: str | None
    category: str | None
    forwarded_to: frozenset[int] = frozenset()


@dataclass(frozen=True)
class TimelineEntry:
    event: ReportEvent
    changes: Sequence[ReportChange] = field(default_factory=tuple)


def report_by_reference(session: Session, reference: str) -> Report | None:
    return session.scalar(select(Report).where(Report.reference == reference))


def report_by_id(session: Session, report_id: int) -> Report | None:
    return session.get(Report, report_id)


def reports_by_ids(session: Session, ids: Sequence[int]) -> list[Report]:
    if not ids:
        return []
    return list(session.scalars(select(Report).where(Report.id.in_(ids)).order_by(Report.id)))


def forwarded_to(session: Session, report_ids: Sequence[int]) -> dict[int, frozenset[int]]:
    """For each report, every organisation it was ever forwarded to."""
    found: dict[int, set[int]] = {report_id: set() for report_id in report_ids}
    if report_ids:
        rows = session.execute(
            select(ReportEvent.report_id, ReportEvent.target_org_id).where(
                ReportEvent.report_id.in_(report_ids),
                ReportEvent.kind == "forwarded",
                ReportEvent.target_org_id.is_not(None),
            )
        )
        for report_id, org_id in rows:
            if org_id is not None:
                found[report_id].add(org_id)
    return {report_id: frozenset(orgs) for report_id, orgs in found.items()}


def scope_of(report: Report | Any, forwarded: frozenset[int] = frozenset()) -> ReportScope:
    """A report (or an inbox row with the same columns) as permission decisions see it."""
    return ReportScope(
        id=report.id,
        assigned_org_id=report.assigned_org_id,
        province_iso=report.province_iso,
        territory_pcode=report.territory_pcode,
        category=report.category,
        forwarded_to=forwarded,
    )


def report_scope(session: Session, report: Report) -> ReportScope:
    return scope_of(report, forwarded_to(session, [report.id])[report.id])


def timeline(session: Session, report_id: int) -> list[TimelineEntry]:
    """Every event, oldest first, each correction with its field changes."""
    events = list(
        session.scalars(
            select(ReportEvent)
            .where(ReportEvent.report_id == report_id)
            .order_by(ReportEvent.at, ReportEvent.id)
        )
    )
    changes: dict[int, list[ReportChange]] = {}
    for change in session.scalars(
        select(ReportChange).where(ReportChange.report_id == report_id).order_by(ReportChange.id)
    ):
        changes.setdefault(change.event_id, []).append(change)
    return [TimelineEntry(event, tuple(changes.get(event.id, ()))) for event in events]


def original_values(report: Report, entries: Sequence[TimelineEntry]) -> dict[str, str | None]:
    """Each correctable field as received: the ``before`` of its first correction, or the current
    value when it was never corrected."""
    original: dict[str, str | None] = {
        name: _text(getattr(report, name)) for name in CORRECTABLE_FIELDS
    }
    seen: set[str] = set()
    for entry in entries:
        for change in entry.changes:
            if change.field not in seen:
                seen.add(change.field)
                original[change.field] = change.before
    return original


def current_values(report: Report) -> dict[str, str | None]:
    return {name: _text(getattr(report, name)) for name in CORRECTABLE_FIELDS}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def duplicates_of(session: Session, report_id: int) -> list[Report]:
    return list(
        session.scalars(
            select(Report).where(Report.duplicate_of_id == report_id).order_by(Report.created_at)
        )
    )


def group_status(session: Session, report: Report) -> str:
    """The follow-up status a reporter asking about ``report`` hears: its group head's."""
    if report.duplicate_of_id is None:
        return report.status
    head = session.get(Report, report.duplicate_of_id)
    return head.status if head is not None else report.status


def status_for_reporter(session: Session, reference: str, reporter_hash: str) -> str | None:
    """The follow-up status the phone ``reporter_hash`` may hear about ``reference``: its
    group's, when this phone sent the report; None otherwise, whether the reference exists or
    not (a reporter learns nothing about anybody else's report)."""
    report = session.scalar(
        select(Report).where(Report.reference == reference, Report.reporter_hash == reporter_hash)
    )
    return group_status(session, report) if report is not None else None
