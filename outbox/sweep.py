"""The periodic sweep: nothing committed to the outbox is ever left behind.

It hands to the queue every row that is due but not in it: a retry whose backoff has passed, or
a row whose job was lost (Redis restarted, the web process died between commit and enqueue). It
also releases rows a dead worker left in ``sending``, expires rows queued longer ago than
``outbox.max_age_minutes`` (never sent late), and forgets old incoming-SMS ids.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from services import Services
from storage import operations

from .dispatch import enqueue, expiry_reason, max_age

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    enqueued: int
    requeued: int
    failed: int
    expired: int
    forgotten: int


def sweep(services: Services) -> SweepReport:
    config = services.settings.outbox
    now = services.clock.now()
    stale = now - timedelta(seconds=config.sweep_after_seconds)
    # Longer than any attempt can take (SDK timeouts, job timeout), so a live worker is never
    # overtaken; what is still "sending" after that belongs to a worker that died.
    stuck = now - timedelta(seconds=config.sending_timeout_seconds)
    retention = now - timedelta(days=services.settings.sms.incoming_retention_days)
    requeue = config.stuck_sending == "requeue"
    with services.db.transaction() as session:
        requeued, failed = operations.release_stuck_outbox_messages(
            session,
            now=now,
            claimed_before=stuck,
            max_attempts=config.max_attempts,
            requeue=requeue,
        )
        # After the release: a row a dead worker left in "sending" long ago is not sent late.
        age = max_age(services)
        expired = operations.expire_outbox_messages(
            session, created_before=now - age, now=now, reason=expiry_reason(age)
        )
        due = operations.take_due_outbox_messages(session, now=now, stale_before=stale, limit=BATCH)
        forgotten = operations.forget_sms_incoming(session, retention)
    enqueued = enqueue(services, due)
    report = SweepReport(
        enqueued=enqueued,
        requeued=requeued,
        failed=failed,
        expired=expired,
        forgotten=forgotten,
    )
    if requeued or failed:
        log.warning("sweep: %s message(s) stuck in sending re-queued, %s failed", requeued, failed)
    if expired:
        log.warning(
            "sweep: %s outbox message(s) expired: older than %s, never sent late", expired, age
        )
    if enqueued:
        log.info("sweep: %s outbox message(s) handed to the queue", enqueued)
    return report
