"""Every write to the database goes through this package, one module per subject.

Callers own the transaction (``Database.transaction``). New subjects get a module of their own
here and are re-exported below, so that callers keep writing ``operations.create_report(...)``.
"""

from __future__ import annotations

from .intake import (
    WEEK_DAYS,
    Submission,
    create_report,
    forget_sms_incoming,
    occurrence,
    record_sms_incoming,
    record_ussd_session_end,
    remember_language,
    report_columns,
)
from .outbox import (
    NewOutboxMessage,
    OutboxClaim,
    claim_outbox_message,
    mark_outbox_failed,
    mark_outbox_retry,
    mark_outbox_sent,
    queue_outbox_message,
    record_delivery_report,
    release_stuck_outbox_messages,
    take_due_outbox_messages,
)
from .trees import (
    HasErrors,
    StaleRevision,
    TreeVersionError,
    UnknownVersion,
    WrongStatus,
    create_draft,
    draft_from,
    publish_version,
    rollback_tree,
    save_draft,
    seed_tree,
)

__all__ = [
    "WEEK_DAYS",
    "HasErrors",
    "NewOutboxMessage",
    "OutboxClaim",
    "StaleRevision",
    "Submission",
    "TreeVersionError",
    "UnknownVersion",
    "WrongStatus",
    "claim_outbox_message",
    "create_draft",
    "create_report",
    "draft_from",
    "forget_sms_incoming",
    "mark_outbox_failed",
    "mark_outbox_retry",
    "mark_outbox_sent",
    "occurrence",
    "publish_version",
    "queue_outbox_message",
    "record_delivery_report",
    "record_sms_incoming",
    "record_ussd_session_end",
    "release_stuck_outbox_messages",
    "remember_language",
    "report_columns",
    "rollback_tree",
    "save_draft",
    "seed_tree",
    "take_due_outbox_messages",
]
