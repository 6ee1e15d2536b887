"""Who gets what, and sending it once: the work the notification jobs and ``flask notify
digest`` do. Each message is recorded (``operations.record_notification``) in the transaction
that follows its sending (an e-mail) or that queues it (an SMS, with its outbox row), so running a
job again skips whoever already got it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select

from outbox.dispatch import enqueue as enqueue_sms
from outbox.dispatch import queue_message
from services import Services
from storage import operations, queries
from storage.models import Report, ReportEvent
from storage.operations import SealedPhone
from storage.queries import Subscriber
from web.config import LANGUAGES
from web.identity import Actor
from web.permissions import in_area_and_expertise

from . import messages
from .mail import Mail, mailer_for

log = logging.getLogger(__name__)


def _context(services: Services, member: Subscriber) -> messages.Context:
    language = member.user.language if member.user.language in LANGUAGES else LANGUAGES[0]
    return messages.Context(
        language=str(language),
        base_url=services.settings.notify.base_url,
        zone=services.settings.timezone,
    )


def _deliver(
    services: Services,
    member: Subscriber,
    *,
    kind: str,
    subject: str,
    mail: Callable[[], Mail],
    sms: Callable[[], str],
    after: Callable[[Any], None] | None = None,
) -> int:
    """Send one notification to ``member`` on each channel they chose that has not had it yet;
    ``after(session)`` runs in the transaction of the last channel (a digest's watermark)."""
    sent = 0
    user, preference = member.user, member.preference
    now = services.clock.now()
    channels = [c for c, on in (("email", preference.email), ("sms", preference.sms)) if on]
    if preference.sms and not preference.phone_encrypted:
        channels.remove("sms")  # asked for SMS but gave no number: nothing to send to
    for index, channel in enumerate(channels):
        last = index == len(channels) - 1
        with services.db.transaction() as session:
            if queries.was_notified(session, user.id, kind, subject, channel):
                continue
            outbox_ids: list[int] = []
            if channel == "email":
                mailer_for(services.settings.notify).send(mail())
            else:
                assert preference.phone_hash and preference.phone_encrypted
                row = queue_message(
                    session,
                    services,
                    idempotency_key=f"notify:{kind}:{subject}:{user.id}",
                    phone=SealedPhone(preference.phone_hash, preference.phone_encrypted),
                    text=sms(),
                )
                outbox_ids.append(row.id)
            operations.record_notification(
                session, user_id=user.id, kind=kind, subject=subject, channel=channel, now=now
            )
            if last and after is not None:
                after(session)
        enqueue_sms(services, outbox_ids)
        sent += 1
    if not channels and after is not None:
        with services.db.transaction() as session:
            after(session)
    return sent


class NotSent(RuntimeError):
    """Some members could not be told (the SMTP server refused, say): the others were (``sent``
    messages left), and the work fails so that the worker's log shows it; doing it again sends
    only what is missing."""

    def __init__(self, message: str, sent: int) -> None:
        super().__init__(message)
        self.sent = sent


def _raise_if(failed: list[int], what: str, sent: int) -> None:
    if failed:
        raise NotSent(f"{what}: {len(failed)} member(s) not notified", sent)


def _covers(member: Subscriber, report: Report) -> bool:
    actor = Actor.of(member.user, member.organisation)
    return in_area_and_expertise(actor, queries.scope_of(report))


def _row(session: Any, report_id: int) -> Any:
    return session.execute(
        select(*queries.SELECTION_COLUMNS).where(Report.id == report_id)
    ).one_or_none()


def new_report(services: Services, report_id: int) -> int:
    """Tell the members who want it at once that ``report_id`` arrived in their organisation's
    area and expertise. Returns how many messages left."""
    with services.db.session() as session:
        report = queries.report_by_id(session, report_id)
        if report is None or report.duplicate_of_id is not None:
            return 0
        row = _row(session, report_id)
        members = [
            m for m in queries.subscribers(session, frequency="immediate") if _covers(m, report)
        ]
    sent = 0
    failed: list[int] = []
    for member in members:
        ctx = _context(services, member)
        try:
            sent += _deliver(
                services,
                member,
                kind="new_report",
                subject=f"report:{report_id}",
                mail=partial(messages.new_report_mail, member.user.email, row, ctx),
                sms=partial(messages.new_report_sms, row, ctx),
            )
        except Exception:
            log.exception("new report %s: notifying member %s failed", report_id, member.user.id)
            failed.append(member.user.id)
    _raise_if(failed, f"report {report_id}", sent)
    return sent


def forwarded(services: Services, event_id: int) -> int:
    """Tell the receiving organisation's members (whatever their frequency: a forward asks
    them to act) that a report was forwarded to them."""
    with services.db.session() as session:
        event = session.get(ReportEvent, event_id)
        if event is None or event.kind != "forwarded" or event.target_org_id is None:
            return 0
        row = _row(session, event.report_id)
        names = queries.organisation_names(session)
        members = queries.subscribers(session, organisation_id=event.target_org_id)
        to_name = names.get(event.target_org_id, "")
        from_name = names.get(event.organisation_id or 0, "") or "Kufatilia"
        message = event.note or ""
    sent = 0
    failed: list[int] = []
    for member in members:
        if member.user.id == event.user_id:
            continue  # nobody needs telling what they just did
        ctx = _context(services, member)
        try:
            sent += _deliver(
                services,
                member,
                kind="forwarded",
                subject=f"event:{event_id}",
                mail=partial(
                    messages.forwarded_mail,
                    member.user.email,
                    row,
                    ctx,
                    to_name=to_name,
                    from_name=from_name,
                    message=message,
                ),
                sms=partial(messages.forwarded_sms, row, ctx, to_name),
            )
        except Exception:
            log.exception("forward %s: notifying member %s failed", event_id, member.user.id)
            failed.append(member.user.id)
    _raise_if(failed, f"forward {event_id}", sent)
    return sent


def digests(services: Services, now: datetime | None = None) -> tuple[int, int]:
    """The daily digests: to each member who chose them, the reports received in their
    organisation's area and expertise since their last digest (a day, the first time).
    Returns (members who got one, messages that left)."""
    now = now or services.clock.now()
    limit = services.settings.notify.digest_max_reports
    with services.db.session() as session:
        members = queries.subscribers(session, frequency="daily")
    told = sent = 0
    for member in members:
        since = member.preference.digest_from or now - timedelta(days=1)
        org = member.organisation
        area = queries.Visibility(
            organisation_id=org.id,
            provinces=frozenset(org.provinces or ()),
            territories=frozenset(org.territories or ()),
            categories=frozenset(org.categories or ()),
        )
        with services.db.session() as session:
            rows, total = queries.received_between(session, since, now, area, limit)
        user_id = member.user.id

        def advance(session: Any, user_id: int = user_id) -> None:
            preference = queries.preference_of(session, user_id)
            if preference is not None:
                operations.advance_digest(session, preference, now)

        if not total:
            with services.db.transaction() as session:
                advance(session)
            continue
        ctx = _context(services, member)
        local = since.astimezone(services.settings.timezone).date().isoformat()
        query = {"received_from": local}
        count = _deliver(
            services,
            member,
            kind="digest",
            subject=f"digest:{now.isoformat()}",
            mail=partial(messages.digest_mail, member.user.email, rows, total, ctx, query),
            sms=partial(messages.digest_sms, total, ctx, query),
            after=advance,
        )
        told += 1 if count else 0
        sent += count
    log.info("digests: %d member(s), %d message(s)", told, sent)
    return told, sent
