"""The dashboard's counts: how many reports (each duplicate group once, as the inbox lists them)
by category, sub-category, month received, province, territoire, status, verification, channel
and language, for any inbox filter and visibility.

On PostgreSQL the counts are one query, one pass over the matching rows (``GROUPING SETS`` of three
groups of dimensions, each with the month received, every set hashed), served by an index-only
scan of ``ix_reports_dashboard``. SQLite has no grouping sets and gets one ``GROUP BY`` per group.

Counted by month, the counts can be kept (web/dashboard keeps them in Redis) and brought up to
date by counting again only the months whose reports were received or changed since
(``changed_months``): at a million reports a whole count reads a million index entries, a month a
few thousand (bench/analysis.py measures both).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from ..models import DashboardCount, Report
from .inbox import InboxFilter, Visibility, forwarded_ids, where_clauses

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


# Dimensions counted together, each group by month received; each dimension's counts (and each
# month's) are sums of its group's. Fewer sets are fewer hash tables: three rather than four took
# 874 ms instead of 1,353 ms at a million reports in psql (the status group has at most 120 values
# a month).
PAIRS: tuple[tuple[str, ...], ...] = (
    ("category", "subcategory"),
    ("province", "territory"),
    ("status", "verification", "channel", "language"),
)
PAIRED = tuple(d for pair in PAIRS for d in pair)  # every dimension but the month


def _spans() -> list[tuple[int, int]]:
    """Where each group's values are among PAIRED."""
    spans, at = [], 0
    for pair in PAIRS:
        spans.append((at, at + len(pair)))
        at += len(pair)
    return spans


_SPANS = _spans()


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
    return tally_months(count_months(session, f, visibility, zone=zone, now=now)).counts()


MonthRows = list[tuple[int, tuple[Any, ...], int]]
"""One month's counts: (index in PAIRS, the group's values, how many reports)."""


def count_months(
    session: Session,
    f: InboxFilter,
    visibility: Visibility | None,
    *,
    zone: str,
    now: datetime,
    months: Sequence[str] | None = None,
) -> dict[str, MonthRows]:
    """The counts of each month received ("YYYY-MM" in ``zone``), by the groups of dimensions;
    only the ``months`` listed when given (an index range scan each: a few thousand entries
    rather than a million)."""
    dialect = session.get_bind().dialect.name
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    month = _month(dialect, zone, offset)
    # On PostgreSQL the reports forwarded to a restricted reader are read first and tested as a
    # list (at a million reports, 0.4 s instead of 0.7 s for a CSO's view: psql, load 3.6).
    forwarded = (
        forwarded_ids(session, visibility)
        if visibility is not None and dialect == "postgresql"
        else None
    )
    where = where_clauses(f, visibility, forwarded)
    if months is not None:
        if not months:
            return {}
        where.append(
            or_(
                *[
                    and_(Report.created_at >= start, Report.created_at < end)
                    for start, end in (_month_bounds(dialect, zone, offset, m) for m in months)
                ]
            )
        )
    found: dict[str, MonthRows] = {}
    if dialect == "postgresql":
        # For this transaction only: JIT compiling costs more than it saves on one pass, and the
        # planner hashes every set (a few thousand groups in all) only if it believes they fit;
        # its estimate for an expression like the month is the row count. The covering index is
        # read in its order, most of it from memory: priced as random reads (the default 4), an
        # index-only scan of it lost to a bitmap scan of the table's pages for a broad filter
        # (status = new: 58,000 heap pages instead of 12,000 index pages at a million reports).
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        session.execute(text("SET LOCAL random_page_cost = 1.1"))
        # The month leaves as text ("YYYY-MM", made once per group, not per row), and one
        # GROUPING() bitmask tells which set a row belongs to (0 in a column that set groups by).
        label = func.to_char(month, literal_column("'YYYY-MM'"))
        heads = [_COLUMNS[p[0]] for p in PAIRS]
        chosen = [label, func.grouping(*heads), *[_COLUMNS[d] for d in PAIRED]]
        sets = func.grouping_sets(*[tuple_(month, *[_COLUMNS[d] for d in p]) for p in PAIRS])
        query = select(*chosen, func.count()).where(*where).group_by(sets)
        width = len(PAIRS)
        # Which set a bitmask is: the set that groups by its head has that head's bit clear.
        which = {sum(1 << (width - 1 - j) for j in range(width) if j != i): i for i in range(width)}
        for row in session.execute(query):
            index = which[row[1]]
            start, end = _SPANS[index]
            values = tuple(row[2 + start : 2 + end])  # after the month and the bitmask
            found.setdefault(row[0], []).append((index, values, int(row[-1])))
        return found
    for index, pair in enumerate(PAIRS):
        columns = [month, *[_COLUMNS[d] for d in pair]]
        for row in session.execute(select(*columns, func.count()).where(*where).group_by(*columns)):
            found.setdefault(_text(row[0]) or "", []).append(
                (index, tuple(row[1:-1]), int(row[-1]))
            )
    return found


def _month_bounds(
    dialect: str, zone: str, offset: timedelta, month: str
) -> tuple[datetime, datetime]:
    """The UTC instants a month received ("YYYY-MM") starts and ends at, by the same rule as
    ``_month`` (the zone's own rules on PostgreSQL, its offset now on SQLite)."""
    year, number = (int(part) for part in month.split("-"))
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    if dialect == "postgresql":
        local = ZoneInfo(zone)
        return (
            datetime(year, number, 1, tzinfo=local).astimezone(UTC),
            datetime(*following, 1, tzinfo=local).astimezone(UTC),
        )
    return (
        datetime(year, number, 1, tzinfo=UTC) - offset,
        datetime(*following, 1, tzinfo=UTC) - offset,
    )


def changed_months(session: Session, since: datetime, *, zone: str, now: datetime) -> set[str]:
    """The months received ("YYYY-MM" in ``zone``) of the reports received or changed (any
    follow-up operation sets ``updated_at``) at or after ``since``: two index range scans."""
    dialect = session.get_bind().dialect.name
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    month = _month(dialect, zone, offset)
    received = select(month).where(Report.created_at >= since)
    changed = select(month).where(Report.updated_at >= since)
    return {_text(value) or "" for value in session.scalars(union(received, changed))}


# Counts kept at write time: the whole network's, unfiltered or filtered by the small dimensions

# What ``dashboard_counts`` keeps (storage/models.py, ``DashboardCount``; migration b8e3f1a9c2d6):
# the small dimensions with each other group, over all time, and alone by UTC month received.
SMALL = ("status", "verification", "channel", "language")
_KEPT_GROUPS = {0: ("category", "subcategory"), 1: ("province", "territory"), 2: SMALL}


def kept_counts_answer(f: InboxFilter, visibility: Visibility | None) -> bool:
    """Whether ``kept_counts`` answers this view: the whole network's (no restricted visibility),
    filtered at most by status, verification, channel and language. Any other filter or a
    restricted visibility is counted from the reports (``count_months``)."""
    if visibility is not None:
        return False
    others = {name: value for name, value in dataclasses.asdict(f).items() if name not in SMALL}
    return not any(value not in (None, "") for value in others.values())


def _utc_month(dialect: str) -> ColumnElement[str]:
    if dialect == "postgresql":
        local = func.timezone(literal_column("'UTC'"), Report.created_at)
        return func.to_char(local, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), Report.created_at)


def _local_month(dialect: str, zone: str, offset: timedelta) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(_month(dialect, zone, offset), literal_column("'YYYY-MM'"))
    return _month(dialect, zone, offset)


def _next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"


def kept_counts(
    session: Session, f: InboxFilter | None = None, *, zone: str, now: datetime
) -> Tally:
    """The dashboard's counts from ``dashboard_counts``, which the database keeps at every write:
    exact, and a read of at most some forty thousand rows rather than of a million index entries.
    Only for the views ``kept_counts_answer`` accepts (``f``: the filter, on the small dimensions
    at most).

    The table counts by UTC month; the dashboard's months are ``zone``'s. Only the reports
    received between a month's start in UTC and its start in ``zone`` (two hours a month in
    Bukavu) are in another month there: those are counted from the reports (an index range scan
    each) and moved. Everything is read in one statement, so in one snapshot: a report stored
    meanwhile is counted in both parts or in neither. ``Tally.rows`` is the kept rows read."""
    f = f or InboxFilter()
    dialect = session.get_bind().dialect.name
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    chosen = {d: getattr(f, d) for d in SMALL if getattr(f, d)}
    kept_where = [getattr(DashboardCount, d) == v for d, v in chosen.items()]
    report_where = [
        Report.duplicate_of_id.is_(None),
        *[_COLUMNS[d] == v for d, v in chosen.items()],
    ]
    first = session.scalar(select(func.min(DashboardCount.month)).where(DashboardCount.grp == 2))
    blank: list[Any] = [literal_column("''")] * 4
    n = func.sum(DashboardCount.n)
    while True:
        # Every month start from the first kept month to the one after this one: between its
        # start in UTC and in the zone, a report's month is not the same in both.
        windows: list[tuple[datetime, datetime]] = []
        month = first or _next_month(now.strftime("%Y-%m"))
        last = _next_month(max(now.strftime("%Y-%m"), month))
        while month <= last:
            utc = datetime.fromisoformat(f"{month}-01T00:00:00+00:00")
            local, _end = _month_bounds(dialect, zone, offset, month)
            if local != utc:
                windows.append((min(local, utc), max(local, utc)))
            month = _next_month(month)
        # Rows: (part, grp, four values, month, count, rows read).
        parts: list[Any] = []
        for grp, names in _KEPT_GROUPS.items():
            columns = [getattr(DashboardCount, d) for d in names]
            values = [*columns, *blank[len(columns) :]]
            parts.append(
                select(
                    literal_column("0"),
                    DashboardCount.grp,
                    *values,
                    literal_column("''"),
                    n,
                    func.count(),
                )
                .where(DashboardCount.grp == grp, *kept_where)
                .group_by(DashboardCount.grp, *columns)
            )
        parts.append(
            select(
                literal_column("1"),
                literal_column("2"),
                *blank,
                DashboardCount.month,
                n,
                literal_column("0"),
            )
            .where(DashboardCount.grp == 2, *kept_where)
            .group_by(DashboardCount.month)
        )
        if windows:
            local_month = _local_month(dialect, zone, offset)
            utc_month = _utc_month(dialect)
            parts.append(
                select(
                    literal_column("2"),
                    literal_column("0"),
                    utc_month,
                    *blank[1:],
                    local_month,
                    func.count(),
                    literal_column("0"),
                )
                .where(
                    *report_where,
                    or_(*[and_(Report.created_at >= a, Report.created_at < b) for a, b in windows]),
                )
                .group_by(utc_month, local_month)
            )
        tally = Tally()
        earliest: str | None = None
        for part, grp, *values, month_text, count, rows in session.execute(union_all(*parts)):
            count = int(count)
            tally.rows += int(rows)
            if part == 0:
                if count:
                    size = len(_KEPT_GROUPS[grp])
                    tally.pairs[
                        (int(grp), tuple(None if v == "" else v for v in values[:size]))
                    ] = count
            elif part == 1:
                earliest = month_text if earliest is None else min(earliest, month_text)
                tally.months[month_text] = tally.months.get(month_text, 0) + count
            else:  # received in UTC month values[0], in the zone's month_text
                tally.months[values[0]] = tally.months.get(values[0], 0) - count
                tally.months[month_text] = tally.months.get(month_text, 0) + count
        if earliest is None or first is None or earliest >= first:
            break
        first = earliest  # a month older than the first one read meanwhile: read again
    tally.months = {m: c for m, c in tally.months.items() if c}
    return tally


@dataclass
class Tally:
    """Counts summed over months, and each month's own, so that a month counted again replaces
    its old counts: ``pairs[(index in PAIRS, values)]`` and ``months[month]``."""

    pairs: dict[tuple[int, tuple[Any, ...]], int] = field(default_factory=dict)
    months: dict[str, int] = field(default_factory=dict)
    rows: int = 0  # kept_counts: the rows of dashboard_counts it read

    def add(self, month: str, rows: MonthRows, sign: int = 1) -> None:
        for index, values, count in rows:
            key = (index, tuple(values))
            left = self.pairs.get(key, 0) + sign * count
            if left:
                self.pairs[key] = left
            else:
                self.pairs.pop(key, None)
            if index == 0:  # every report is in exactly one row of each group
                total = self.months.get(month, 0) + sign * count
                if total:
                    self.months[month] = total
                else:
                    self.months.pop(month, None)

    def counts(self) -> Counts:
        rows = [
            (dict(zip(PAIRS[index], values, strict=True)), count)
            for (index, values), count in self.pairs.items()
        ]
        by = _sums(rows)
        by["month"] = list(self.months.items())
        return Counts(
            total=sum(self.months.values()),
            by={d: _ordered(d, pairs) for d, pairs in by.items()},
        )

    def to_json(self) -> Any:
        return {
            "pairs": [[index, list(values), n] for (index, values), n in self.pairs.items()],
            "months": self.months,
        }

    @classmethod
    def from_json(cls, data: Any) -> Tally:
        return cls(
            pairs={(int(i), tuple(values)): int(n) for i, values, n in data["pairs"]},
            months={str(m): int(n) for m, n in data["months"].items()},
        )


def tally_months(by_month: dict[str, MonthRows]) -> Tally:
    tally = Tally()
    for month, rows in by_month.items():
        tally.add(month, rows)
    return tally
