"""The inbox: filtered, sorted, paginated reports, built to stay fast at a million rows.

Pagination is by keyset (``after`` = the last row's sort value and id), never OFFSET: page 200
costs what page 1 costs. Every single filter has an index that starts with its column and ends
with (created_at, id) (``Report.__table_args__``), so "newest first, status = new" reads 51 index
entries. The total is counted only up to a cap (``count_matching``): an exact COUNT(*) over a
million rows on every page view is what makes such inboxes slow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, false, func, literal, or_, select, true, tuple_
from sqlalchemy.orm import Session

from ..models import Report, ReportEvent
from ..operations.intake import WEEK_DAYS

Sort = Literal["received_desc", "received_asc", "occurred_desc", "occurred_asc"]
SORTS: tuple[Sort, ...] = ("received_desc", "received_asc", "occurred_desc", "occurred_asc")
UNASSIGNED = 0  # ``assigned`` filter value for "assigned to nobody"
MAX_WORDS = 6  # words of a search: more would only make the query slow, not better
# An incident-date range at most this long is read through its own index first (see inbox_page).
NARROW_OCCURRED_DAYS = 400


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None
    verification: str | None = None
    category: str | None = None
    subcategory: str | None = None
    province: str | None = None
    territory: str | None = None  # p-code
    site: str | None = None  # "contains", case-insensitive
    channel: str | None = None
    language: str | None = None
    assigned: int | None = None  # an organisation id, or UNASSIGNED
    occurred_from: date | None = None
    occurred_to: date | None = None
    received_from: datetime | None = None  # inclusive
    received_before: datetime | None = None  # exclusive
    search: str | None = None  # every word must appear in the details


@dataclass(frozen=True)
class Visibility:
    """Restricted visibility: the organisation's area and expertise, plus what came its way.
    ``None`` instead of a Visibility means the reader sees everything."""

    organisation_id: int
    provinces: frozenset[str] = frozenset()
    territories: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Cursor:
    value: str | None  # the last row's sort value (ISO text), None for an undated report
    id: int

    def encode(self) -> str:
        return f"{self.value or ''}~{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        if not text or "~" not in text:
            return None
        value, _, raw_id = text.rpartition("~")
        try:
            report_id = int(raw_id)
            if value:
                # Parsed to prove it is a date or a datetime, not something to put in SQL.
                (datetime if "T" in value else date).fromisoformat(value)
        except ValueError:
            return None
        return cls(value or None, report_id)


INBOX_COLUMNS = (
    Report.id,
    Report.reference,
    Report.created_at,
    Report.channel,
    Report.language,
    Report.category,
    Report.subcategory,
    Report.province_iso,
    Report.territory,
    Report.territory_pcode,
    Report.site,
    Report.occurred_on,
    Report.occurred_until,
    Report.details,
    Report.status,
    Report.verification,
    Report.assigned_org_id,
)


@dataclass(frozen=True)
class InboxPage:
    rows: Sequence[Any]
    next_cursor: Cursor | None
    duplicates: dict[int, int] = field(default_factory=dict)  # head id -> its duplicates


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    # ILIKE on PostgreSQL, which the trigram indexes serve; lower() LIKE lower() on SQLite.
    condition: ColumnElement[bool] = column.ilike(f"%{_escape_like(text)}%", escape="\\")
    return condition


def visibility_clause(
    visibility: Visibility | None, forwarded: Sequence[int] | None = None
) -> ColumnElement[bool]:
    """What ``visibility`` lets a reader see. ``forwarded``: the ids of the reports forwarded to
    the organisation, read beforehand (a pass over every report tests a list of constants, which
    PostgreSQL hashes once, faster than a subquery probed for each row)."""
    if visibility is None:
        return true()
    area: ColumnElement[bool] = true()
    if visibility.provinces or visibility.territories:
        area = or_(
            Report.province_iso.in_(sorted(visibility.provinces))
            if visibility.provinces
            else false(),
            Report.territory_pcode.in_(sorted(visibility.territories))
            if visibility.territories
            else false(),
        )
    expertise: ColumnElement[bool] = (
        Report.category.in_(sorted(visibility.categories)) if visibility.categories else true()
    )
    came: ColumnElement[bool] = (
        exists().where(
            ReportEvent.target_org_id == visibility.organisation_id,
            ReportEvent.kind == "forwarded",
            ReportEvent.report_id == Report.id,
        )
        if forwarded is None
        else Report.id.in_(forwarded)
        if forwarded
        else false()
    )
    return or_(and_(area, expertise), Report.assigned_org_id == visibility.organisation_id, came)


def forwarded_ids(session: Session, visibility: Visibility) -> list[int]:
    """The reports forwarded to the organisation (an index-only scan of its forwards)."""
    query = select(ReportEvent.report_id).where(
        ReportEvent.target_org_id == visibility.organisation_id,
        ReportEvent.kind == "forwarded",
    )
    return sorted(set(session.scalars(query)))


def filter_clauses(f: InboxFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    equal = {
        Report.status: f.status,
        Report.verification: f.verification,
        Report.category: f.category,
        Report.subcategory: f.subcategory,
        Report.province_iso: f.province,
        Report.territory_pcode: f.territory,
        Report.channel: f.channel,
        Report.language: f.language,
    }
    for column, value in equal.items():
        if value:
            clauses.append(column == value)
    if f.assigned == UNASSIGNED:
        clauses.append(Report.assigned_org_id.is_(None))
    elif f.assigned is not None:
        clauses.append(Report.assigned_org_id == f.assigned)
    if f.site:
        clauses.append(_contains(Report.site, f.site))
    if f.search:
        for word in f.search.split()[:MAX_WORDS]:
            clauses.append(_contains(Report.details, word))
    if f.occurred_from:
        # A range report ("this week") matches when the ranges overlap. A range spans at most a
        # week, so a bound on occurred_on itself lets the (occurred_on, id) index do the work.
        clauses.append(func.coalesce(Report.occurred_until, Report.occurred_on) >= f.occurred_from)
        clauses.append(Report.occurred_on >= f.occurred_from - timedelta(days=WEEK_DAYS))
    if f.occurred_to:
        clauses.append(Report.occurred_on <= f.occurred_to)
    if f.received_from:
        clauses.append(Report.created_at >= f.received_from)
    if f.received_before:
        clauses.append(Report.created_at < f.received_before)
    return clauses


def where_clauses(
    f: InboxFilter, visibility: Visibility | None, forwarded: Sequence[int] | None = None
) -> list[ColumnElement[bool]]:
    """What the inbox lists: the filter, the reader's visibility, and each duplicate group once
    (through its head). The dashboard, the exports and the API select the same way."""
    # A duplicate is listed through its group's head only.
    return [
        Report.duplicate_of_id.is_(None),
        *filter_clauses(f),
        visibility_clause(visibility, forwarded),
    ]


def _narrow_occurred(f: InboxFilter) -> bool:
    return (
        f.occurred_from is not None
        and f.occurred_to is not None
        and (f.occurred_to - f.occurred_from).days <= NARROW_OCCURRED_DAYS
    )


def _after(sort: Sort, cursor: Cursor) -> ColumnElement[bool]:
    """Rows after the cursor in the sort's order, as a row-value comparison that an index on
    (column, id) answers directly. Ids break ties."""
    if sort.startswith("received"):
        assert cursor.value is not None
        key: Any = tuple_(Report.created_at, Report.id)
        value: Any = tuple_(literal(datetime.fromisoformat(cursor.value)), literal(cursor.id))
        found: ColumnElement[bool] = key < value if sort == "received_desc" else key > value
        return found
    if cursor.value is None:  # among the undated, which come last
        return Report.id < cursor.id if sort == "occurred_desc" else Report.id > cursor.id
    key = tuple_(Report.occurred_on, Report.id)
    value = tuple_(literal(date.fromisoformat(cursor.value)), literal(cursor.id))
    after: ColumnElement[bool] = key < value if sort == "occurred_desc" else key > value
    return after


def _order(sort: Sort) -> list[Any]:
    if sort == "received_desc":
        return [Report.created_at.desc(), Report.id.desc()]
    if sort == "received_asc":
        return [Report.created_at.asc(), Report.id.asc()]
    if sort == "occurred_desc":
        return [Report.occurred_on.desc(), Report.id.desc()]
    return [Report.occurred_on.asc(), Report.id.asc()]


def _cursor_of(sort: Sort, row: Any) -> Cursor:
    if sort.startswith("received"):
        return Cursor(row.created_at.isoformat(), row.id)
    return Cursor(row.occurred_on.isoformat() if row.occurred_on else None, row.id)


def inbox_page(
    session: Session,
    f: InboxFilter,
    visibility: Visibility | None,
    *,
    sort: Sort = "received_desc",
    after: Cursor | None = None,
    limit: int = 50,
) -> InboxPage:
    base = select(*INBOX_COLUMNS).where(*where_clauses(f, visibility))
    if sort.startswith("received") and _narrow_occurred(f):
        # Incident and reception dates move together, which the planner cannot know: left alone,
        # it walks the reception index backwards through years of reports to reach an old month.
        # A materialized CTE makes it read the incident-date index first (a few thousand rows).
        if after is not None:
            base = base.where(_after(sort, after))
        matched = base.cte("matched").prefix_with("MATERIALIZED")
        newest_first = (
            [matched.c.created_at.desc(), matched.c.id.desc()]
            if sort == "received_desc"
            else [matched.c.created_at.asc(), matched.c.id.asc()]
        )
        rows: list[Any] = list(
            session.execute(select(matched).order_by(*newest_first).limit(limit + 1))
        )
    elif sort.startswith("received"):
        query = base if after is None else base.where(_after(sort, after))
        rows = list(session.execute(query.order_by(*_order(sort)).limit(limit + 1)))
    else:
        # By incident date, undated reports last, in two index-ordered reads: the dated ones
        # (the (occurred_on, id) index, either way), then, if the page is not full, the undated.
        rows = []
        if after is None or after.value is not None:
            dated = base.where(Report.occurred_on.is_not(None))
            if after is not None:
                dated = dated.where(_after(sort, after))
            rows = list(session.execute(dated.order_by(*_order(sort)).limit(limit + 1)))
        if len(rows) <= limit:
            undated = base.where(Report.occurred_on.is_(None))
            if after is not None and after.value is None:
                undated = undated.where(_after(sort, after))
            order = Report.id.desc() if sort == "occurred_desc" else Report.id.asc()
            more = limit + 1 - len(rows)
            rows += list(session.execute(undated.order_by(order).limit(more)))
    next_cursor = _cursor_of(sort, rows[limit - 1]) if len(rows) > limit else None
    rows = rows[:limit]
    return InboxPage(rows=rows, next_cursor=next_cursor, duplicates=duplicate_counts(session, rows))


def duplicate_counts(session: Session, rows: Sequence[Any]) -> dict[int, int]:
    ids = [row.id for row in rows]
    if not ids:
        return {}
    found = session.execute(
        select(Report.duplicate_of_id, func.count(Report.id))
        .where(Report.duplicate_of_id.in_(ids))
        .group_by(Report.duplicate_of_id)
    )
    return {int(head): int(count) for head, count in found if head is not None}


def count_matching(
    session: Session, f: InboxFilter, visibility: Visibility | None, cap: int = 1000
) -> tuple[int, bool]:
    """(how many match, whether there are more than ``cap``): an exact count only while small."""
    inner = select(Report.id).where(*where_clauses(f, visibility)).limit(cap + 1).subquery()
    found = session.scalar(select(func.count()).select_from(inner)) or 0
    return min(found, cap), found > cap


def visible_report_ids(
    session: Session, ids: Sequence[int], visibility: Visibility | None
) -> list[int]:
    """Which of ``ids`` this reader may see (a bulk form names ids; the server re-checks them)."""
    if not ids:
        return []
    query = select(Report.id).where(Report.id.in_(ids), visibility_clause(visibility))
    return list(session.scalars(query.order_by(Report.id)))
