"""Every read: nothing in this package writes. Handlers and commands ask here for what they show.

One module per subject, re-exported below, so that callers write ``queries.language_for(...)``.
"""

from __future__ import annotations

from .intake import (
    EXPORT_FIELDS,
    export_row,
    iter_reports,
    language_for,
    occurred_text,
    recent_reports,
    sms_incoming_seen,
)
from .outbox import outbox_counts, outbox_gateway_id_known, outbox_message, outbox_messages

__all__ = [
    "EXPORT_FIELDS",
    "export_row",
    "iter_reports",
    "language_for",
    "occurred_text",
    "outbox_counts",
    "outbox_gateway_id_known",
    "outbox_message",
    "outbox_messages",
    "recent_reports",
    "sms_incoming_seen",
]
