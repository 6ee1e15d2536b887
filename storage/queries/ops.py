"""Reads for the operator's metrics: counts only, nothing about a reporter."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Report


def reports_by_channel(session: Session) -> dict[str, int]:
    rows = session.execute(select(Report.channel, func.count()).group_by(Report.channel))
    return {str(channel): int(count) for channel, count in rows}


def reports_to_announce(session: Session) -> int:
    """Reports whose members are still to be told (``notify.sweep``): near 0 while the worker
    runs (its partial index keeps this cheap however many reports there are)."""
    return int(
        session.scalar(select(func.count()).select_from(Report).where(Report.notify_pending)) or 0
    )
