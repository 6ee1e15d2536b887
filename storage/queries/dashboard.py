"""The dashboard's counts: how many reports (each duplicate group once, as the inbox lists them)
by category, sub-category, month received, province, territoire, status, verification, channel
and language, for any inbox filter and visibility.

On PostgreSQL all of it is one query, one pass over the matching rows (``GROUPING SETS`` of five
pairs of dimensions, every set hashed), served by an index-only scan of ``ix_reports_dashboard``: at a million reports that
pass is the whole cost, so it is paid once rather than nine times (bench/analysis.py measures
it). SQLite has no grouping sets and gets one ``GROUP BY`` per pair (an embedded database is small).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, literal_column, select, text, tuple_
from sqlalchemy.orm import Session

from ..models import Report, ReportEvent
from .inbox import InboxFilter, Visibility, where_clauses

# Each dimension and the column it counts by ("month" is computed: see ``_month``).
DIMENSIONS = (
    "category",
    "subcategory",
    "month",
    "province",
    "territory",
    "status",
    "verification",
    "channel",
    "language",
)
_COLUMNS: dict[str, Any] = {
    "category": Report.category,
    "subcategory": Report.subcategory,
    "province": Report.province_iso,
    "territory": Report.territory_pcode,
    "status": Report.status,
    "verification": Report.verification,
    "channel": Report.channel,
    "language": Report.language,
}


@dataclass(frozen=True)
class Counts:
    """``by[dimension]``: (value, count) pairs, most first (months in time order); a value of
    None counts the reports without one (no sub-category, no territoire)."""

    total: int
    by: dict[str, list[tuple[str | None, int]]] = field(default_factory=dict)


def _month(dialect: str, zone: str, offset: timedelta) -> ColumnElement[str]:
    """The month a report was received in the deployment's time zone, as "YYYY-MM".

    PostgreSQL converts with the zone's own rules; SQLite only knows a fixed offset (the zone's
    offset now: exact for the Congo's zones, which keep no daylight saving time).

    The constants are written into the SQL rather than bound: PostgreSQL matches a selected
    expression with its GROUP BY only when both are the same text, parameters included."""
    if not _ZONE_NAME.match(zone):
        raise ValueError(f"not a time zone name: {zone!r}")
    if dialect == "postgresql":
        local = func.timezone(literal_column(f"'{zone}'"), Report.created_at)
        return func.date_trunc(literal_column("'month'"), local)  # formatted by _ordered
    seconds = int(offset.total_seconds())
    return func.strftime(
        literal_column("'%Y-%m'"), Report.created_at, literal_column(f"'{seconds:+d} seconds'")
    )


_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+/-]+$")  # what an IANA name is made of: safe in SQL text


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m") if isinstance(value, datetime) else str(value)


def _ordered(dimension: str, pairs: Sequence[tuple[Any, int]]) -> list[tuple[str | None, int]]:
    found = [(_text(value), int(count)) for value, count in pairs]
    if dimension == "month":
        return sorted(found, key=lambda pair: pair[0] or "")
    return sorted(found, key=lambda pair: (-pair[1], pair[0] or ""))


# Dimensions counted together: one group per pair is fewer hash tables than one per dimension
# (a fifth less time at a million reports), and each dimension's counts are the pair's sums.
PAIRS: tuple[tuple[str, ...], ...] = (
    ("category", "subcategory"),
    ("province", "territory"),
    ("status", "verification"),
    ("channel", "language"),
    ("month",),
)


def _sums(rows: list[tuple[dict[str, Any], int]]) -> dict[str, list[tuple[Any, int]]]:
    """Each dimension's counts from the pairs' rows (value -> the sum of its pairs' counts)."""
    by: dict[str, dict[Any, int]] = {d: {} for d in DIMENSIONS}
    for values, count in rows:
        for dimension, value in values.items():
            by[dimension][value] = by[dimension].get(value, 0) + count
    return {d: list(found.items()) for d, found in by.items()}


def dashboard_counts(
    session: Session,
    f: InboxFilter,
    visibility: Visibility | None,
    *,
    zone: str,
    now: datetime,
) -> Counts:
    """Every dimension's counts for the reports the inbox would list with ``f``."""
    dialect = session.get_bind().dialect.name
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    columns = {**_COLUMNS, "month": _month(dialect, zone, offset)}
    where = where_clauses(f, visibility)
    if dialect == "postgresql":
        return _grouping_sets(session, columns, where)
    rows: list[tuple[dict[str, Any], int]] = []
    total = 0
    for pair in PAIRS:
        chosen = [columns[d] for d in pair]
        found = session.execute(select(*chosen, func.count()).where(*where).group_by(*chosen))
        for row in found:
            rows.append((dict(zip(pair, row[:-1], strict=True)), int(row[-1])))
            if pair == PAIRS[0]:
                total += int(row[-1])
    by = _sums(rows)
    return Counts(total=total, by={d: _ordered(d, pairs) for d, pairs in by.items()})


def _grouping_sets(
    session: Session, columns: dict[str, Any], where: list[ColumnElement[bool]]
) -> Counts:
    # For this transaction only: JIT compiling costs more than it saves on one pass, and the
    # planner hashes every set (a few hundred groups in all) only if it believes they fit; its
    # estimate for an expression like the month is the row count.
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    chosen = [columns[d].label(d) for d in DIMENSIONS]
    # GROUPING(x) is 0 in the rows grouped by x: it tells a NULL value from "not this set".
    firsts = [pair[0] for pair in PAIRS]
    grouped = [func.grouping(columns[d]).label(f"g_{d}") for d in firsts]
    sets = func.grouping_sets(
        *[tuple_(*[columns[d] for d in pair]) for pair in PAIRS], literal_column("()")
    )
    query = select(*chosen, *grouped, func.count().label("n")).where(*where).group_by(sets)
    rows: list[tuple[dict[str, Any], int]] = []
    total = 0
    for row in session.execute(query):
        mapping = row._mapping
        pair = next((p for p in PAIRS if mapping[f"g_{p[0]}"] == 0), None)
        if pair is None:  # the empty set: every matching report
            total = int(mapping["n"])
        else:
            rows.append(({d: mapping[d] for d in pair}, int(mapping["n"])))
    by = _sums(rows)
    return Counts(total=total, by={d: _ordered(d, pairs) for d, pairs in by.items()})


def data_version(session: Session) -> tuple[int, int]:
    """Changes whenever a count can: a new report (its id), or anything done to one (every
    correction, verification, status change, forward and merge writes a timeline event). Two
    index lookups: cheap enough to ask before every dashboard."""
    reports = session.scalar(select(func.max(Report.id))) or 0
    events = session.scalar(select(func.max(ReportEvent.id))) or 0
    return int(reports), int(events)
