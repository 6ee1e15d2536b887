"""The inbox's filter, shared by everything that shows a selection of reports: the inbox, the
dashboard, the exports and the API. One form (it lives in the URL, so a filtered view can be
bookmarked, shared, charted or exported as it is), one translation into ``queries.InboxFilter``,
and one rule for what a reader may see (``visibility_for``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from services import current_services
from storage import queries

from . import taxonomy
from .fields import choices
from .i18n import LANGUAGE_NAMES
from .identity import Actor
from .labels import CHANNEL_LABELS, STATUS_LABELS, VERIFICATION_LABELS
from .permissions import COORDINATOR, web_settings

SORT_LABELS = {
    "received_desc": _l("Newest received first"),
    "received_asc": _l("Oldest received first"),
    "occurred_desc": _l("Latest incident first"),
    "occurred_asc": _l("Earliest incident first"),
}
# The query-string names that are part of the filter (anything else, e.g. a page's cursor, is not).
FILTER_FIELDS = (
    "q",
    "status",
    "verification",
    "category",
    "subcategory",
    "province",
    "territory",
    "site",
    "channel",
    "language",
    "assigned",
    "occurred_from",
    "occurred_to",
    "received_from",
    "received_to",
)


def _any_of(label: object) -> SelectField:
    """A filter's choice: empty means "any"; an unknown value is shown as an error and ignored."""
    return SelectField(label, validators=[Optional()])


class FilterForm(FlaskForm):  # type: ignore[misc]
    """Read from the query string, so a filtered inbox can be bookmarked and shared."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    q = StringField(_l("Search in details"), validators=[Optional(), Length(max=200)])
    status = _any_of(_l("Status"))
    verification = _any_of(_l("Verification"))
    category = _any_of(_l("Category"))
    subcategory = _any_of(_l("Sub-category"))
    province = _any_of(_l("Province"))
    territory = _any_of(_l("Territoire"))
    site = StringField(_l("Site contains"), validators=[Optional(), Length(max=100)])
    channel = _any_of(_l("Channel"))
    language = _any_of(_l("Language"))
    assigned = _any_of(_l("Assigned to"))
    occurred_from = DateField(_l("Happened from"), validators=[Optional()])
    occurred_to = DateField(_l("Happened until"), validators=[Optional()])
    received_from = DateField(_l("Received from"), validators=[Optional()])
    received_to = DateField(_l("Received until"), validators=[Optional()])
    sort = _any_of(_l("Sort"))


def any_choice(label: str | None = None) -> list[SelectChoice]:
    return [SelectChoice("", label or _("Any"))]


def visibility_for(actor: Actor) -> queries.Visibility | None:
    """What ``actor`` may see, as the queries apply it (None: everything)."""
    if actor.role == COORDINATOR:
        return None
    return organisation_visibility(
        actor.organisation_id, actor.provinces, actor.territories, actor.categories
    )


def organisation_visibility(
    organisation_id: int,
    provinces: frozenset[str] | list[str],
    territories: frozenset[str] | list[str],
    categories: frozenset[str] | list[str],
) -> queries.Visibility | None:
    """An organisation's visibility under ``web.visibility`` (an API token reads as its
    organisation does)."""
    if web_settings().visibility == "pooled":
        return None
    return queries.Visibility(
        organisation_id=organisation_id,
        provinces=frozenset(provinces),
        territories=frozenset(territories),
        categories=frozenset(categories),
    )


def territory_choices() -> list[SelectChoice]:
    names = {p.code: p.name for p in taxonomy.provinces()}
    return [
        SelectChoice(t.code, t.name, optgroup=names.get(t.province, t.province))
        for t in taxonomy.territories()
    ]


def subcategory_choices() -> list[SelectChoice]:
    labels = taxonomy.labels()
    return [
        SelectChoice(code, labels[code], optgroup=labels.get(code.split(".")[0], ""))
        for code, _label in taxonomy.subcategories()
    ]


def filter_form(organisations: Mapping[int, str], args: MultiDict[str, str]) -> FilterForm:
    """The filter as the query string ``args`` gives it, with every field's choices."""
    form = FilterForm(args)
    form.status.choices = any_choice() + choices(STATUS_LABELS.items())
    form.verification.choices = any_choice() + choices(VERIFICATION_LABELS.items())
    form.category.choices = any_choice() + choices(taxonomy.categories())
    form.subcategory.choices = any_choice() + subcategory_choices()
    form.province.choices = any_choice() + choices((p.code, p.name) for p in taxonomy.provinces())
    form.territory.choices = any_choice() + territory_choices()
    form.channel.choices = any_choice() + choices(CHANNEL_LABELS.items())
    form.language.choices = any_choice() + choices(
        (c, LANGUAGE_NAMES[c]) for c in ("sw", "fr", "en")
    )
    by_name = sorted(organisations.items(), key=lambda item: item[1])
    form.assigned.choices = [
        *any_choice(),
        SelectChoice(str(queries.UNASSIGNED), _("Nobody")),
        *choices((str(i), name) for i, name in by_name),
    ]
    form.sort.choices = choices(SORT_LABELS.items())
    return form


def _local_midnight(day: date) -> datetime:
    zone = current_services().clock.timezone
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def inbox_filter(form: FilterForm) -> queries.InboxFilter:
    """The filter from the fields that are valid; an invalid one is shown as such and ignored
    (the API refuses it instead: see ``invalid_fields``)."""
    form.validate()

    def ok(name: str) -> Any:
        field = form[name]
        return None if field.errors or field.data in ("", None) else field.data

    assigned = ok("assigned")
    received_to = ok("received_to")
    received_from = ok("received_from")
    return queries.InboxFilter(
        status=ok("status"),
        verification=ok("verification"),
        category=ok("category"),
        subcategory=ok("subcategory"),
        province=ok("province"),
        territory=ok("territory"),
        site=(ok("site") or "").strip() or None,
        channel=ok("channel"),
        language=ok("language"),
        assigned=int(assigned) if assigned is not None else None,
        occurred_from=ok("occurred_from"),
        occurred_to=ok("occurred_to"),
        received_from=_local_midnight(received_from) if received_from else None,
        received_before=_local_midnight(received_to + timedelta(days=1)) if received_to else None,
        search=(ok("q") or "").strip() or None,
    )


def invalid_fields(form: FilterForm) -> dict[str, list[str]]:
    """Each field the query string got wrong, with why (after ``inbox_filter`` validated it)."""
    return {field.name: [str(e) for e in field.errors] for field in form if field.errors}


def sort_of(form: FilterForm) -> queries.Sort:
    value = form.sort.data
    return value if value in queries.SORTS and not form.sort.errors else "received_desc"


def filter_query(args: MultiDict[str, str]) -> list[tuple[str, str]]:
    """The filter's part of a query string (to carry it from one view to another)."""
    return [(k, v) for k, v in args.items(multi=True) if k in FILTER_FIELDS and v]
