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
from .ops import reports_by_channel
from .outbox import outbox_counts, outbox_gateway_id_known, outbox_message, outbox_messages
from .trees import (
    VersionInfo,
    codes_in_use,
    judge_document,
    latest_version,
    published_versions,
    tree_document,
    tree_ids,
    tree_version,
    tree_versions,
)

__all__ = [
    "EXPORT_FIELDS",
    "VersionInfo",
    "codes_in_use",
    "export_row",
    "iter_reports",
    "judge_document",
    "language_for",
    "latest_version",
    "occurred_text",
    "outbox_counts",
    "outbox_gateway_id_known",
    "outbox_message",
    "outbox_messages",
    "published_versions",
    "recent_reports",
    "reports_by_channel",
    "sms_incoming_seen",
    "tree_document",
    "tree_ids",
    "tree_version",
    "tree_versions",
]
