"""Writes of notifications: a member's preferences, and the record of what was sent to whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Notification, NotificationPreference, Report, User
from ..phones import PhoneVault

FREQUENCIES = ("immediate", "daily")


def save_preferences(
    session: Session,
    user: User,
    *,
    email: bool,
    sms: bool,
    frequency: str,
    phone: str | None,
    vault: PhoneVault,
    now: datetime,
) -> NotificationPreference:
    """``phone``: a normalised number to store (hashed and encrypted), or None to keep the one
    stored. Choosing the daily digest starts it from now (nothing older is sent in a heap)."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"unknown frequency {frequency!r}")
    found = session.get(NotificationPreference, user.id)
    if found is None:
        found = NotificationPreference(user_id=user.id, updated_at=now)
        session.add(found)
    if frequency == "daily" and (found.frequency != "daily" or found.digest_from is None):
        found.digest_from = now
    found.email, found.sms, found.frequency, found.updated_at = email, sms, frequency, now
    if phone is not None:
        found.phone_hash, found.phone_encrypted = vault.hash(phone), vault.encrypt(phone)
    session.flush()
    return found


def record_notification(
    session: Session, *, user_id: int, kind: str, subject: str, channel: str, now: datetime
) -> bool:
    """Note that this was sent; False when it had been already (a savepoint keeps the caller's
    transaction usable when the unique key says so)."""
    try:
        with session.begin_nested():
            session.add(
                Notification(
                    user_id=user_id, kind=kind, subject=subject, channel=channel, sent_at=now
                )
            )
    except IntegrityError:
        return False
    return True


def advance_digest(session: Session, preference: NotificationPreference, until: datetime) -> None:
    preference.digest_from = until
    session.flush()


def claim_reports_to_announce(session: Session, limit: int) -> list[tuple[int, datetime]]:
    """Up to ``limit`` reports whose members are still to be told of them, oldest first, as
    (id, created_at), taken off the list in this transaction: two sweepers never both announce
    one (the second's conditional UPDATE finds it taken). At most once: a worker that dies
    after the commit and before sending leaves it unannounced, as a lost job did before."""
    ids = list(
        session.scalars(
            select(Report.id).where(Report.notify_pending).order_by(Report.id).limit(limit)
        )
    )
    if not ids:
        return []
    claimed = session.execute(
        update(Report)
        .where(Report.id.in_(ids), Report.notify_pending)
        .values(notify_pending=False)
        .returning(Report.id, Report.created_at)
        .execution_options(synchronize_session=False)
    )
    return sorted((row.id, row.created_at) for row in claimed)
