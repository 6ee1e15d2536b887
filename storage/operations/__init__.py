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

__all__ = [
    "WEEK_DAYS",
    "Submission",
    "create_report",
    "forget_sms_incoming",
    "occurrence",
    "record_sms_incoming",
    "record_ussd_session_end",
    "remember_language",
    "report_columns",
]
