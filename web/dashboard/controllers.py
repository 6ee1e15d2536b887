"""``GET /dashboard``: counts of the reports the inbox would list with the same filter, as charts
drawn on the server (``web.charts``). Every bar links to the inbox showing those reports."""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import redis
from flask import render_template, request, url_for
from flask_babel import format_date, format_number
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from services import current_services
from storage import operations, queries

from .. import charts, taxonomy
from ..charts import Chart, Item
from ..db import db
from ..filtering import filter_form, filter_query, inbox_filter, visibility_for
from ..i18n import LANGUAGE_NAMES
from ..identity import login_required
from ..labels import channel_label, status_label, verification_label
from ..permissions import can_export

log = logging.getLogger(__name__)

TOP_TERRITORIES = 15  # the rest are counted together: 178 bars would bury the ones that matter
LABEL_LENGTH = 52  # characters a label keeps in a 360-unit-wide chart


def _inbox_link(**extra: str) -> str:
    """The inbox with this page's filter and ``extra`` (a bar's own value)."""
    pairs = [(k, v) for k, v in filter_query(request.args) if k not in extra]
    return url_for("reports.inbox") + "?" + urlencode([*pairs, *extra.items()])


def _short(text: str) -> str:
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1] + "…"


def _items(
    pairs: list[tuple[str | None, int]], label: Callable[[str], str], field: str
) -> list[Item]:
    unknown = _("Not given")
    return [
        Item(
            _short(label(value)) if value is not None else unknown,
            count,
            _inbox_link(**{field: value}) if value is not None else None,
        )
        for value, count in pairs
    ]


def _subcategory(code: str) -> str:
    category = taxonomy.category_label(code.split(".")[0])
    return f"{category}: {taxonomy.category_label(code)}"


def _months(pairs: list[tuple[str | None, int]]) -> Chart:
    """Every month from the first to the last with a report, empty months included; the year
    is written under each January (and under the first month)."""
    counts = {value: count for value, count in pairs if value}
    items: list[Item] = []
    ticks: list[tuple[int, str]] = []
    if counts:
        year, month = (int(part) for part in min(counts).split("-"))
        last = max(counts)
        while f"{year:04d}-{month:02d}" <= last:
            first = date(year, month, 1)
            end = date(year, month, calendar.monthrange(year, month)[1])
            link = _inbox_link(received_from=first.isoformat(), received_to=end.isoformat())
            count = counts.get(f"{year:04d}-{month:02d}", 0)
            if month == 1 or not items:
                ticks.append((len(items), str(year)))
            items.append(Item(format_date(first, "MMMM y"), count, link))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return charts.columns("months", _("By month received"), items, ticks)


def _territories(pairs: list[tuple[str | None, int]]) -> Chart:
    shown, rest = pairs[:TOP_TERRITORIES], pairs[TOP_TERRITORIES:]
    note = ""
    if rest:
        note = _(
            "%(count)s other territoires: %(reports)s reports.",
            count=format_number(len(rest)),
            reports=format_number(sum(count for _value, count in rest)),
        )
    items = _items(shown, taxonomy.territory_name, "territory")
    return charts.bars("territories", _("By territoire"), items, note=note)


def build_charts(counts: queries.Counts) -> list[Chart]:
    by: Mapping[str, list[tuple[str | None, int]]] = counts.by
    language = lambda code: str(LANGUAGE_NAMES.get(code, code))  # noqa: E731
    return [
        charts.bars(
            "categories",
            _("By category"),
            _items(by["category"], taxonomy.category_label, "category"),
        ),
        charts.bars(
            "subcategories",
            _("By sub-category"),
            _items([p for p in by["subcategory"] if p[0]], _subcategory, "subcategory"),
        ),
        _months(by["month"]),
        charts.bars(
            "provinces",
            _("By province"),
            _items(by["province"], taxonomy.province_name, "province"),
        ),
        _territories(by["territory"]),
        charts.bars("statuses", _("By status"), _items(by["status"], status_label, "status")),
        charts.bars(
            "verifications",
            _("By verification"),
            _items(by["verification"], verification_label, "verification"),
        ),
        charts.bars("channels", _("By channel"), _items(by["channel"], channel_label, "channel")),
        charts.bars("languages", _("By language"), _items(by["language"], language, "language")),
    ]


KEEP_SECONDS = 7 * 24 * 3600  # kept counts not used for a week are dropped
# A change is stamped (``updated_at``, ``created_at``) before its transaction commits, which takes
# seconds at most (one transaction per request, statements cut at 3 s): months changed this long
# before the last count are counted again, so a late commit is never missed.
MARGIN = timedelta(minutes=2)
MAX_MONTHS_AGAIN = 48  # beyond this, one whole count costs less than month after month

# Stores the counts only if nobody stored others since they were read (ARGV[1], '' = none):
# the kept total and the kept months always agree with each other.
_STORE = """
local current = redis.call('HGET', KEYS[1], 'at')
if ARGV[1] == '' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
if ARGV[3] == '1' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""


def _rows(raw: bytes | str | None) -> queries.MonthRows:
    return [(int(i), tuple(values), int(n)) for i, values, n in json.loads(raw or "[]")]


def _store(
    key: str,
    base: str,
    at: datetime,
    tally: queries.Tally,
    months: dict[str, queries.MonthRows],
    *,
    whole: bool,
) -> None:
    """Keep ``tally`` and the ``months`` counted for it, as of ``at``. ``whole``: every month was
    counted (``months`` holds them all) and replaces what was kept."""
    services = current_services()
    fields: list[str] = ["at", at.isoformat(), "tally", json.dumps(tally.to_json())]
    for month, rows in months.items():
        fields += [f"m:{month}", json.dumps([[i, list(v), n] for i, v, n in rows])]
    with contextlib.suppress(redis.RedisError):
        services.redis.eval(_STORE, 1, key, base, KEEP_SECONDS, "1" if whole else "0", *fields)


def counts_for(
    selection: queries.InboxFilter, visibility: queries.Visibility | None
) -> queries.Counts:
    """The counts. The whole network's view, unfiltered or filtered by status, verification,
    channel or language, reads the counts the database keeps at every write
    (``queries.kept_counts``). Any other is kept in Redis by month received and
    brought up to date at each view: only the months with a report received or changed since
    the last count are counted again (a month is a few thousand index entries; the whole, at a
    million reports, a million)."""
    services = current_services()
    zone = services.settings.timezone.key
    now = services.clock.now()
    if queries.kept_counts_answer(selection, visibility):
        with services.db.reading() as reading:
            tally = queries.kept_counts(reading, selection, zone=zone, now=now)
        if selection == queries.InboxFilter() and tally.rows > KEPT_ROWS:
            compact()
        return tally.counts()
    described = json.dumps(
        [dataclasses.asdict(selection), dataclasses.asdict(visibility) if visibility else None],
        default=sorted_text,
        sort_keys=True,
    )
    # The groups' layout is part of the key: counts kept by another version are never read.
    layout = json.dumps(queries.PAIRS)
    digest = hashlib.sha256(f"{described}|{zone}|{layout}".encode()).hexdigest()[:32]
    key = f"{services.settings.redis_prefix}dashboard:{digest}"
    try:
        base, kept = services.redis.hmget(key, "at", "tally")
    except redis.RedisError:
        base = kept = None  # the dashboard works without its cache
    base_text = base.decode() if isinstance(base, bytes) else (base or "")
    with services.db.reading() as reading:
        if base_text and kept is not None:
            since = datetime.fromisoformat(base_text) - MARGIN
            months = sorted(queries.changed_months(reading, since, zone=zone, now=now))
            if not months:
                return queries.Tally.from_json(json.loads(kept)).counts()
            if len(months) <= MAX_MONTHS_AGAIN:
                try:
                    again, kept, *old = services.redis.hmget(
                        key, "at", "tally", *[f"m:{m}" for m in months]
                    )
                except redis.RedisError:
                    again = None
                if again is not None and kept is not None and again == base:
                    tally = queries.Tally.from_json(json.loads(kept))
                    fresh = queries.count_months(
                        reading, selection, visibility, zone=zone, now=now, months=months
                    )
                    counted = {m: fresh.get(m, []) for m in months}
                    for month, raw in zip(months, old, strict=True):
                        tally.add(month, _rows(raw), -1)
                        tally.add(month, counted[month])
                    _store(key, base_text, now, tally, counted, whole=False)
                    return tally.counts()
        by_month = queries.count_months(reading, selection, visibility, zone=zone, now=now)
    tally = queries.tally_months(by_month)
    _store(key, base_text, now, tally, by_month, whole=True)
    return tally.counts()


# Rows of dashboard_counts (each write adds its own) past which a view merges them: some 40,000
# once merged at a million reports; a few milliseconds more per view for each 10,000.
KEPT_ROWS = 100_000


def compact() -> int:
    """Merge the kept counts' rows (``flask dashboard warm`` does too). Returns the rows merged."""
    services = current_services()
    try:
        with services.db.transaction() as session:
            return operations.compact_dashboard_counts(session)
    except SQLAlchemyError:
        log.warning("dashboard: the kept counts could not be compacted", exc_info=True)
        return 0


def sorted_text(value: object) -> object:
    """JSON for what a filter holds besides text: dates, and the visibility's sets."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    return str(value)


@login_required
def dashboard() -> str:
    session = db()
    form = filter_form(queries.organisation_names(session), request.args)
    selection = inbox_filter(form)
    counts = counts_for(selection, visibility_for(current_user))
    query = urlencode(filter_query(request.args))
    return render_template(
        "dashboard/dashboard.html",
        form=form,
        counts=counts,
        charts=build_charts(counts),
        query=query,
        filtered=bool(query),
        may_export_all=can_export(current_user, public=False),
    )
