"""Notifications to CSO members: a new report in their organisation's area and expertise, a
report forwarded to their organisation, and a daily digest, by e-mail and/or SMS as each member
chose (``web/notifications``).

Nothing is sent inside the request that caused it: the channels (a report stored by a USSD hop
or an SMS) and the platform (a forward) send a signal after their commit; the receivers here only
put a job on the ``<redis_prefix><notify.queue>`` queue, which ``flask worker`` serves after the
outbox's. The jobs (``notify.jobs``) write e-mails through SMTP (``notify.mail``) and SMS through
the outbox, and record each one sent (``notifications`` table), so a job that runs twice sends
nothing twice. ``flask notify digest`` sends the daily digests (from cron).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from channels import signals as channel_signals
from services import EXTENSION_KEY, Services
from web import signals as web_signals

from .queue import enqueue


def _on_reports_received(sender: Services, report_ids: list[int], **_: Any) -> None:
    enqueue(sender, "notify.jobs.report_received", *[(report_id,) for report_id in report_ids])


def _on_report_forwarded(sender: Flask, event_id: int, **_: Any) -> None:
    services: Services = sender.extensions[EXTENSION_KEY]
    enqueue(services, "notify.jobs.report_forwarded", (event_id,))


def init_app(app: Flask) -> None:
    # Module-level receivers (blinker keeps weak references): connecting twice is connecting once.
    channel_signals.reports_received.connect(_on_reports_received)
    web_signals.report_forwarded.connect(_on_report_forwarded)
