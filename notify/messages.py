"""What a notification says, in the member's language: which report, what and where (the words
of the taxonomy and the place lists), when it arrived, and the link to it. Never what a reporter
wrote (site, details) and nothing about the reporter: the page behind the link, after a login,
shows the rest to whoever may see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from menus import gsm
from web import taxonomy
from web.labels import channel_label

from .mail import Mail


@dataclass(frozen=True)
class Context:
    """Who reads it and how links are made."""

    language: str
    base_url: str
    zone: ZoneInfo

    def link(self, path: str, **query: str) -> str:
        return self.base_url.rstrip("/") + path + ("?" + urlencode(query) if query else "")


def _what(row: Any, labels: dict[str, str]) -> str:
    if not row.category:
        return str(_("Not classified yet"))
    what = labels.get(row.category, str(row.category))
    if row.subcategory:
        what += ": " + labels.get(row.subcategory, str(row.subcategory))
    return what


def _where(row: Any) -> str:
    parts = [
        taxonomy.territory_name(row.territory_pcode) if row.territory_pcode else "",
        taxonomy.province_name(row.province_iso) if row.province_iso else "",
    ]
    return ", ".join(part for part in parts if part) or str(_("Place not given"))


def _facts(row: Any, ctx: Context, labels: dict[str, str]) -> list[str]:
    received = format_datetime(row.created_at, "medium", tzinfo=ctx.zone, locale=ctx.language)
    return [
        _("Reference: %(reference)s", reference=row.reference),
        _("What: %(what)s", what=_what(row, labels)),
        _("Where: %(where)s", where=_where(row)),
        _("Received: %(when)s (%(channel)s)", when=received, channel=channel_label(row.channel)),
    ]


def _footer(ctx: Context) -> list[str]:
    return [
        "",
        "--",
        _("You get these messages because you asked for them. To change that:"),
        ctx.link("/account/notifications"),
    ]


def new_report_mail(to: str, row: Any, ctx: Context) -> Mail:
    with force_locale(ctx.language):
        labels = taxonomy.labels_in(ctx.language)
        subject = _(
            "[Kufatilia] New report %(reference)s: %(what)s, %(where)s",
            reference=row.reference,
            what=_what(row, labels),
            where=_where(row),
        )
        body = [
            _("A new report was received in your organisation's area."),
            "",
            *_facts(row, ctx, labels),
            "",
            _("Open it: %(link)s", link=ctx.link(f"/reports/{row.reference}")),
            *_footer(ctx),
        ]
        return Mail(to, subject, "\n".join(body) + "\n", "new_report")


def forwarded_mail(
    to: str, row: Any, ctx: Context, *, to_name: str, from_name: str, message: str
) -> Mail:
    with force_locale(ctx.language):
        labels = taxonomy.labels_in(ctx.language)
        subject = _(
            "[Kufatilia] Report %(reference)s forwarded to %(organisation)s",
            reference=row.reference,
            organisation=to_name,
        )
        body = [
            _(
                "%(sender)s forwarded report %(reference)s to %(organisation)s.",
                sender=from_name,
                reference=row.reference,
                organisation=to_name,
            ),
        ]
        if message:
            body += ["", _("Their message:"), message]
        body += [
            "",
            *_facts(row, ctx, labels),
            "",
            _("Open it: %(link)s", link=ctx.link(f"/reports/{row.reference}")),
            *_footer(ctx),
        ]
        return Mail(to, subject, "\n".join(body) + "\n", "forwarded")


def digest_mail(
    to: str, rows: Sequence[Any], total: int, ctx: Context, inbox_query: dict[str, str]
) -> Mail:
    with force_locale(ctx.language):
        labels = taxonomy.labels_in(ctx.language)
        subject = ngettext(
            "[Kufatilia] %(num)s new report in your area",
            "[Kufatilia] %(num)s new reports in your area",
            total,
        )
        body = [subject.removeprefix("[Kufatilia] "), ""]
        for row in rows:
            body.append(f"{row.reference} · {_what(row, labels)} · {_where(row)}")
            body.append("  " + ctx.link(f"/reports/{row.reference}"))
        if total > len(rows):
            body += ["", _("And %(count)s more.", count=total - len(rows))]
        body += ["", _("All of them: %(link)s", link=ctx.link("/reports", **inbox_query))]
        body += _footer(ctx)
        return Mail(to, subject, "\n".join(body) + "\n", "digest")


def new_report_sms(row: Any, ctx: Context) -> str:
    with force_locale(ctx.language):
        labels = taxonomy.labels_in(ctx.language)
        text = _(
            "Kufatilia: new report %(reference)s (%(what)s, %(where)s). %(link)s",
            reference=row.reference,
            what=labels.get(row.category or "", _("Not classified yet")),
            where=_where(row),
            link=ctx.link(f"/reports/{row.reference}"),
        )
    return gsm.to_gsm(text)


def forwarded_sms(row: Any, ctx: Context, to_name: str) -> str:
    with force_locale(ctx.language):
        text = _(
            "Kufatilia: report %(reference)s forwarded to %(organisation)s. %(link)s",
            reference=row.reference,
            organisation=to_name,
            link=ctx.link(f"/reports/{row.reference}"),
        )
    return gsm.to_gsm(text)


def digest_sms(total: int, ctx: Context, inbox_query: dict[str, str]) -> str:
    with force_locale(ctx.language):
        text = ngettext(
            "Kufatilia: %(num)s new report in your area. %(link)s",
            "Kufatilia: %(num)s new reports in your area. %(link)s",
            total,
            link=ctx.link("/reports", **inbox_query),
        )
    return gsm.to_gsm(text)
