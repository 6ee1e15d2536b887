"""New reports announced by the worker's sweep (``flask worker`` runs it beside the outbox's).

The hop that stores a report queues nothing: the row is stored with ``notify_pending`` and every
sweep claims the pending ones (``operations.claim_reports_to_announce``) and tells the members
who want to hear at once (``send.new_report``). So a report is announced even when Redis went
away between its commit and its job (a job queued by the hop was lost then), a USSD hop spends
no round trip and no job on it, and members hear within one sweep interval
(``outbox.sweep_interval_seconds``).

A member the sending failed for (an SMTP server away) is tried again at the next sweeps while
the report is younger than ``RETRY_FOR``; ``send`` records each message sent, so the others are
not told twice. A report older than ``LATE`` when first claimed (a worker stopped for days) is
not announced as new: the daily digests list it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from services import Services
from storage import operations
from storage.models import Report

from . import send

log = logging.getLogger(__name__)

BATCH = 100
RETRY_FOR = timedelta(hours=1)
LATE = timedelta(days=1)


def announce_new_reports(services: Services) -> int:
    """One sweep: claim the reports waiting to be announced and announce them. Returns how many
    messages left."""
    sent = 0
    while True:
        retrying = False
        with services.db.transaction() as session:
            claimed = operations.claim_reports_to_announce(session, BATCH)
        now = services.clock.now()
        for report_id, created_at in claimed:
            if now - created_at > LATE:
                log.warning("report %s stored over %s ago: not announced as new", report_id, LATE)
                continue
            try:
                sent += send.new_report(services, report_id)
            except Exception as failure:  # send.NotSent (logged member by member) or the database
                sent += failure.sent if isinstance(failure, send.NotSent) else 0
                if now - created_at < RETRY_FOR:
                    _put_back(services, report_id)
                    retrying = True
                    log.warning(
                        "report %s: announcing failed, trying again at the next sweep", report_id
                    )
                else:
                    log.warning(
                        "report %s: announcing failed for %s, given up", report_id, RETRY_FOR
                    )
        if len(claimed) < BATCH or retrying:  # what was put back waits for the next sweep
            return sent


def _put_back(services: Services, report_id: int) -> None:
    with services.db.transaction() as session:
        report = session.get(Report, report_id)
        if report is not None:
            report.notify_pending = True
