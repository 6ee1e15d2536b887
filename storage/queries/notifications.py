"""Reads of notifications: members who want them, what was sent, what a digest lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..models import Notification, NotificationPreference, Organisation, Report, User
from .inbox import Visibility, visibility_clause
from .selection import SELECTION_COLUMNS


@dataclass(frozen=True)
class Subscriber:
    user: User
    organisation: Organisation
    preference: NotificationPreference


def preference_of(session: Session, user_id: int) -> NotificationPreference | None:
    return session.get(NotificationPreference, user_id)


def subscribers(
    session: Session, *, organisation_id: int | None = None, frequency: str | None = None
) -> list[Subscriber]:
    """Active members of active organisations who chose e-mail or SMS (optionally of one
    organisation, or of one frequency)."""
    query = (
        select(User, Organisation, NotificationPreference)
        .join(Organisation, Organisation.id == User.organisation_id)
        .join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(
            User.active.is_(True),
            Organisation.active.is_(True),
            or_(NotificationPreference.email.is_(True), NotificationPreference.sms.is_(True)),
        )
        .order_by(User.id)
    )
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if frequency is not None:
        query = query.where(NotificationPreference.frequency == frequency)
    return [Subscriber(user, org, pref) for user, org, pref in session.execute(query)]


def was_notified(session: Session, user_id: int, kind: str, subject: str, channel: str) -> bool:
    found = session.scalar(
        select(Notification.id).where(
            Notification.user_id == user_id,
            Notification.kind == kind,
            Notification.subject == subject,
            Notification.channel == channel,
        )
    )
    return found is not None


def received_between(
    session: Session, after: datetime, until: datetime, area: Visibility, limit: int
) -> tuple[Sequence[Any], int]:
    """For a digest: (the first ``limit`` reports received in (after, until] in an
    organisation's area and expertise, each group once; how many there are in all)."""
    where = [
        Report.duplicate_of_id.is_(None),
        Report.created_at > after,
        Report.created_at <= until,
        visibility_clause(area),
    ]
    rows = list(
        session.execute(
            select(*SELECTION_COLUMNS).where(*where).order_by(Report.created_at).limit(limit)
        )
    )
    if len(rows) < limit:
        return rows, len(rows)
    total = session.scalar(select(func.count()).select_from(Report).where(*where)) or 0
    return rows, int(total)
