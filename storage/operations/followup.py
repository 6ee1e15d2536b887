"""Writes of the follow-up: correct, verify, change status, record actions, forward, merge, and
message the reporter. Each writes its timeline event (and, for a correction, one audit row per
changed field) in the caller's transaction: a change without its record cannot be committed.

The timeline (``report_events``) and the audit trail (``report_changes``) are append-only: this
module only ever adds rows, ``_refuse_rewrites`` stops the ORM from updating or deleting one, and
the migration's triggers stop the database from doing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from ..models import Report, ReportChange, ReportEvent
from ..queries.reports import CORRECTABLE_FIELDS

STATUSES = ("new", "monitoring", "resolved", "persistent", "closed")
# The follow-up as data: where each status may go next. Resolved and closed reports can be
# reopened (back to monitoring) when the situation comes back.
TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    "new": ("monitoring", "closed"),
    "monitoring": ("resolved", "persistent", "closed"),
    "persistent": ("monitoring", "resolved", "closed"),
    "resolved": ("monitoring",),
    "closed": ("monitoring",),
}
CLOSE_REASONS = ("duplicate", "not_actionable", "out_of_scope")
VERIFICATIONS = ("unverified", "verified", "could_not_verify", "false_report")
ACTION_TYPES = (
    "referral",
    "dialogue",
    "advocacy",
    "awareness",
    "paralegal",
    "empowerment",
    "other",
)
EVENT_KINDS = ("corrected", "verified", "status", "action", "forwarded", "merged", "message")


class FollowUpError(ValueError):
    """A change the follow-up rules refuse (a status that cannot follow, a merge into itself)."""


@dataclass(frozen=True)
class Author:
    """Who does it: written on every event and audit row."""

    user_id: int
    organisation_id: int


@event.listens_for(Session, "before_flush")
def _refuse_rewrites(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, ReportChange | ReportEvent) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise FollowUpError(f"{type(obj).__tablename__} is append-only")


def _event(
    session: Session, report: Report, author: Author, kind: str, now: datetime, **values: Any
) -> ReportEvent:
    row = ReportEvent(
        report_id=report.id,
        at=now,
        user_id=author.user_id,
        organisation_id=author.organisation_id,
        kind=kind,
        **values,
    )
    session.add(row)
    report.updated_at = now
    session.flush()
    return row


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def correct_report(
    session: Session,
    report: Report,
    author: Author,
    *,
    values: Mapping[str, Any],
    reason: str,
    now: datetime,
    derived: Mapping[str, Any] | None = None,
) -> ReportEvent | None:
    """Set the correctable fields in ``values``; one audit row per field that really changes.

    ``derived`` are columns that follow a corrected field and are not audited separately (the
    province's name and p-code follow its ISO code). Returns None when nothing changed.
    """
    reason = reason.strip()
    if not reason:
        raise FollowUpError("a correction needs a reason")
    unknown = set(values) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise FollowUpError(f"not correctable: {', '.join(sorted(unknown))}")
    changed = {
        name: value
        for name, value in values.items()
        if _text(getattr(report, name)) != _text(value)
    }
    if not changed:
        return None
    row = _event(session, report, author, "corrected", now, note=reason)
    for name, value in changed.items():
        session.add(
            ReportChange(
                report_id=report.id,
                event_id=row.id,
                at=now,
                user_id=author.user_id,
                field=name,
                before=_text(getattr(report, name)),
                after=_text(value),
                reason=reason,
            )
        )
        setattr(report, name, value if value != "" else None)
        if name == "occurred_on":
            report.occurred_until = None  # a corrected date is one day, no longer "this week"
    for name, value in (derived or {}).items():
        setattr(report, name, value)
    session.flush()
    return row


def verify_report(
    session: Session,
    report: Report,
    author: Author,
    *,
    verification: str,
    note: str,
    now: datetime,
) -> ReportEvent:
    if verification not in VERIFICATIONS:
        raise FollowUpError(f"unknown verification {verification!r}")
    previous = report.verification
    report.verification = verification
    return _event(
        session, report, author, "verified", now, value=verification, previous=previous, note=note
    )


def can_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, ())


def change_status(
    session: Session,
    report: Report,
    author: Author,
    *,
    status: str,
    now: datetime,
    close_reason: str | None = None,
    note: str = "",
) -> ReportEvent:
    if not can_move(report.status, status):
        raise FollowUpError(f"a {report.status} report cannot become {status}")
    if status == "closed":
        if close_reason not in CLOSE_REASONS:
            raise FollowUpError("closing needs a reason: " + ", ".join(CLOSE_REASONS))
    else:
        close_reason = None
    previous = report.status
    report.status = status
    report.closed_reason = close_reason
    return _status_event(session, report, author, now, status, previous, close_reason, note)


def _status_event(
    session: Session,
    report: Report,
    author: Author,
    now: datetime,
    status: str,
    previous: str,
    close_reason: str | None,
    note: str,
) -> ReportEvent:
    # A closing's reason travels in ``value`` as "closed:<reason>" so the timeline can say why.
    value = f"closed:{close_reason}" if status == "closed" and close_reason else status
    return _event(
        session, report, author, "status", now, value=value, previous=previous, note=note or None
    )


def record_action(
    session: Session,
    report: Report,
    author: Author,
    *,
    action_type: str,
    action_date: date,
    notes: str,
    now: datetime,
) -> ReportEvent:
    if action_type not in ACTION_TYPES:
        raise FollowUpError(f"unknown action {action_type!r}")
    return _event(
        session,
        report,
        author,
        "action",
        now,
        value=action_type,
        action_date=action_date,
        note=notes or None,
    )


def forward_report(
    session: Session,
    report: Report,
    author: Author,
    *,
    to_organisation_id: int,
    message: str,
    now: datetime,
) -> ReportEvent:
    """Assign the report to a partner organisation: it enters their queue; the event is the
    chain's next link (``previous`` holds the organisation it came from, if any)."""
    if report.assigned_org_id == to_organisation_id:
        raise FollowUpError("the report is already assigned to this organisation")
    previous = report.assigned_org_id
    report.assigned_org_id = to_organisation_id
    return _event(
        session,
        report,
        author,
        "forwarded",
        now,
        target_org_id=to_organisation_id,
        previous=str(previous) if previous is not None else None,
        note=message or None,
    )


def mark_duplicate(
    session: Session, report: Report, original: Report, author: Author, *, note: str, now: datetime
) -> ReportEvent:
    """``report`` joins ``original``'s group: it keeps its own reference, is closed as a duplicate,
    and the inbox lists the group once, through its head. Duplicates of ``report`` follow it."""
    head = original
    if head.duplicate_of_id is not None:
        found = session.get(Report, head.duplicate_of_id)
        head = found if found is not None else head
    if head.id == report.id:
        raise FollowUpError("a report cannot be a duplicate of itself")
    if report.duplicate_of_id is not None:
        raise FollowUpError("this report is already a duplicate")
    session.execute(
        update(Report)
        .where(Report.duplicate_of_id == report.id)
        .values(duplicate_of_id=head.id)
        .execution_options(synchronize_session="fetch")
    )
    report.duplicate_of_id = head.id
    previous = report.status
    report.status = "closed"
    report.closed_reason = "duplicate"
    row = _event(
        session,
        report,
        author,
        "merged",
        now,
        target_report_id=head.id,
        value=head.reference,
        previous=previous,
        note=note or None,
    )
    _event(
        session,
        head,
        author,
        "merged",
        now,
        target_report_id=report.id,
        value=report.reference,
        note=note or None,
    )
    return row


def record_reporter_message(
    session: Session, report: Report, author: Author, *, text: str, now: datetime
) -> ReportEvent:
    """The timeline's record of an SMS to the reporter (the outbox row carries the sending)."""
    return _event(session, report, author, "message", now, note=text)
