"""Writes of the dashboard's kept counts. The counts themselves are written by the database's
triggers on ``reports`` (``DashboardCount``); this only merges the rows they add."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from ..models import DashboardCount

_KEY = (
    DashboardCount.month,
    DashboardCount.grp,
    DashboardCount.category,
    DashboardCount.subcategory,
    DashboardCount.province,
    DashboardCount.territory,
    DashboardCount.status,
    DashboardCount.verification,
    DashboardCount.channel,
    DashboardCount.language,
)


def compact_dashboard_counts(session: Session) -> int:
    """Merge the rows of each key that has several into one (none where they add up to 0).
    Returns how many rows were merged.

    One DELETE ... RETURNING takes the rows it merges: the rows a concurrent writer adds
    meanwhile are not among them and stay, and a concurrent compaction cannot take the same
    rows, so no count is lost or counted twice. Readers see the rows before or after, never both.
    """
    several = select(*_KEY).group_by(*_KEY).having(func.count() > 1)
    taken = session.execute(
        delete(DashboardCount)
        .where(tuple_(*_KEY).in_(several))
        .returning(*_KEY, DashboardCount.n)
        .execution_options(synchronize_session=False)
    ).all()
    sums: dict[tuple[Any, ...], int] = {}
    for *key, n in taken:
        sums[tuple(key)] = sums.get(tuple(key), 0) + int(n)
    rows = [
        {**{column.key: value for column, value in zip(_KEY, key, strict=True)}, "n": n}
        for key, n in sums.items()
        if n
    ]
    if rows:
        session.execute(insert(DashboardCount), rows)
    return len(taken)
