"""Reads for the operator's metrics: counts only, nothing about a reporter."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Report


def reports_by_channel(session: Session) -> dict[str, int]:
    rows = session.execute(select(Report.channel, func.count()).group_by(Report.channel))
    return {str(channel): int(count) for channel, count in rows}
