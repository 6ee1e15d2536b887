"""Notifications to CSO members: a new report in their organisation's area and expertise, a
report forwarded to their organisation, and a daily digest, by e-mail and/or SMS as each member
chose (``web/notifications``).

Nothing is sent inside the request that caused it. A report stored by a USSD hop or an SMS is
stored with ``notify_pending``, and ``flask worker``'s sweep announces it (``notify.sweep``):
the hop queues nothing. A forward sends a signal after its commit, and the receiver here puts a
job on the ``<redis_prefix><notify.queue>`` queue, which ``flask worker`` serves after the
outbox's. Both write e-mails through SMTP (``notify.mail``) and SMS through the outbox, and record
each one sent (``notifications`` table), so work done twice sends nothing twice. ``flask notify
digest`` sends the daily digests (from cron).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from outbox.worker import add_sweep
from services import EXTENSION_KEY, Services
from web import signals as web_signals

from .queue import enqueue
from .sweep import announce_new_reports


def _on_report_forwarded(sender: Flask, event_id: int, **_: Any) -> None:
    services: Services = sender.extensions[EXTENSION_KEY]
    enqueue(services, "notify.jobs.report_forwarded", (event_id,))


def init_app(app: Flask) -> None:
    # Module-level receivers (blinker keeps weak references): connecting twice is connecting once.
    web_signals.report_forwarded.connect(_on_report_forwarded)
    add_sweep(app, announce_new_reports)
