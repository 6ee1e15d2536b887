"""``GET /dashboard``: counts of the reports the inbox would list with the same filter, as charts
drawn on the server (``web.charts``). Every bar links to the inbox showing those reports."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import date
from urllib.parse import urlencode

from flask import render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from services import current_services
from storage import queries

from .. import charts, taxonomy
from ..charts import Chart, Item
from ..db import db
from ..filtering import filter_form, filter_query, inbox_filter, visibility_for
from ..i18n import LANGUAGE_NAMES
from ..identity import login_required
from ..labels import channel_label, status_label, verification_label
from ..permissions import can_export

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
            count=len(rest),
            reports=sum(count for _value, count in rest),
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


@login_required
def dashboard() -> str:
    session = db()
    form = filter_form(queries.organisation_names(session), request.args)
    selection = inbox_filter(form)
    services = current_services()
    counts = queries.dashboard_counts(
        session,
        selection,
        visibility_for(current_user),
        zone=services.settings.timezone.key,
        now=services.clock.now(),
    )
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
