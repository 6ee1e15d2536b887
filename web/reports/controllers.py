"""The inbox and the report page, and every follow-up action taken from them.

Each handler: parse the request, find the report (a report the reader may not see is a 404, so
references cannot be probed), ask ``web.permissions``, call one operation, commit once, redirect.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from menus import gsm
from menus.follow import message_for
from menus.messages import MSG_DELETE
from outbox.dispatch import enqueue, queue_message
from services import current_services
from storage import operations, queries
from storage.models import Report
from storage.operations import SealedPhone

from .. import signals, taxonomy
from ..db import after_commit, commit, db
from ..fields import choices
from ..filtering import (
    any_choice,
    filter_form,
    inbox_filter,
    sort_of,
    subcategory_choices,
    territory_choices,
    visibility_for,
)
from ..identity import login_required
from ..labels import (
    ACTION_LABELS,
    CLOSE_REASON_LABELS,
    STATUS_LABELS,
    VERIFICATION_LABELS,
)
from ..permissions import (
    ReportScope,
    can_bulk_edit,
    can_change_status,
    can_correct,
    can_forward,
    can_merge,
    can_message_reporter,
    can_record_action,
    can_verify,
    can_view_report,
    web_settings,
)
from .forms import (
    ActionForm,
    BulkForm,
    CorrectForm,
    ForwardForm,
    MergeForm,
    MessageForm,
    StatusForm,
    VerifyForm,
)

MAX_SEGMENTS = 3  # as for the replies a reporter gets (sms.max_length)


def _query_without(*names: str, **extra: str) -> str:
    args = MultiDict(request.args)
    for name in names:
        args.pop(name, None)
    for key, value in extra.items():
        args[key] = value
    return urlencode(list(args.items(multi=True)))


@login_required
def inbox() -> str:
    session = db()
    organisations = queries.organisation_names(session)
    form = filter_form(organisations, request.args)
    selection = inbox_filter(form)
    visibility = visibility_for(current_user)
    sort = sort_of(form)
    after = queries.Cursor.decode(request.args.get("after"))
    page = queries.inbox_page(
        session,
        selection,
        visibility,
        sort=sort,
        after=after,
        limit=web_settings().page_size,
    )
    total, more = queries.count_matching(session, selection, visibility)
    next_url = None
    if page.next_cursor is not None:
        next_url = (
            url_for("reports.inbox")
            + "?"
            + _query_without("after", after=page.next_cursor.encode())
        )
    first_url = url_for("reports.inbox") + ("?" + _query_without("after") if after else "")
    bulk = None
    if can_bulk_edit(current_user):
        bulk = _bulk_form(organisations)
        bulk.back.data = request.full_path
    return render_template(
        "reports/inbox.html",
        form=form,
        page=page,
        total=total,
        more=more,
        next_url=next_url,
        first_url=first_url if after else None,
        organisations=organisations,
        bulk=bulk,
        filtered=bool(request.args.to_dict(flat=True).keys() - {"after", "sort"}),
    )


def _bulk_form(organisations: dict[int, str]) -> BulkForm:
    form = BulkForm()
    form.operation.choices = choices(
        [("forward", _("Forward to an organisation")), ("status", _("Change the status"))]
    )
    by_name: list[tuple[int, str]] = sorted(organisations.items(), key=lambda item: item[1])
    form.organisation.choices = choices(by_name)
    form.status.choices = choices(STATUS_LABELS.items())
    form.close_reason.choices = any_choice("—") + choices(
        (k, v) for k, v in CLOSE_REASON_LABELS.items() if k != "duplicate"
    )
    return form


def _back_to_inbox(target: str | None) -> Response:
    if target and target.startswith("/reports") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("reports.inbox"))


@login_required
def bulk() -> Response:
    session = db()
    organisations = queries.organisation_names(session)
    form = _bulk_form(organisations)
    if not can_bulk_edit(current_user):
        abort(403)
    if not form.validate_on_submit():
        abort(400)
    ids = [i for i in (form.ids.data or []) if isinstance(i, int)][:500]
    if not ids:
        flash(_("Select at least one report."), "error")
        return _back_to_inbox(form.back.data)
    reports = queries.reports_by_ids(session, ids)
    forwarded = queries.forwarded_to(session, [r.id for r in reports])
    author = _author()
    now = current_services().clock.now()
    done = skipped = 0
    for report in reports:
        scope = queries.scope_of(report, forwarded[report.id])
        try:
            if form.operation.data == "forward":
                target = form.organisation.data
                if target not in organisations or not can_forward(current_user, scope):
                    skipped += 1
                    continue
                _forward(report, author, target, "", now)
            elif form.operation.data == "status":
                if not can_change_status(current_user, scope):
                    skipped += 1
                    continue
                _change_status(
                    report, author, form.status.data, form.close_reason.data or None, "", now
                )
            else:
                abort(400)
        except operations.FollowUpError:
            skipped += 1
            continue
        done += 1
    skipped += len(ids) - len(reports)
    commit()
    if done:
        flash(_("%(count)d report(s) changed.", count=done), "success")
    if skipped:
        flash(
            _(
                "%(count)d report(s) left as they were (not allowed, or not possible from their status).",
                count=skipped,
            ),
            "error",
        )
    return _back_to_inbox(form.back.data)


def _author() -> operations.Author:
    return operations.Author(user_id=current_user.id, organisation_id=current_user.organisation_id)


def _report(reference: str) -> tuple[Report, ReportScope]:
    """The report, if this reader may see it; otherwise 404, the same as for no such report."""
    session = db()
    report = queries.report_by_reference(session, reference)
    if report is None:
        abort(404)
    scope = queries.report_scope(session, report)
    if not can_view_report(current_user, scope):
        abort(404)
    return report, scope


def _correct_form(report: Report | None = None) -> CorrectForm:
    form = CorrectForm(obj=report)
    form.category.choices = any_choice("—") + choices(taxonomy.categories())
    form.subcategory.choices = any_choice("—") + subcategory_choices()
    form.province_iso.choices = any_choice("—") + choices(
        (p.code, p.name) for p in taxonomy.provinces()
    )
    form.territory_pcode.choices = any_choice("—") + territory_choices()
    return form


def _status_form(report: Report) -> StatusForm:
    form = StatusForm()
    form.status.choices = choices(
        (s, STATUS_LABELS[s]) for s in operations.TRANSITIONS.get(report.status, ())
    )
    form.close_reason.choices = any_choice("—") + choices(
        (k, v) for k, v in CLOSE_REASON_LABELS.items() if k != "duplicate"
    )
    return form


def _verify_form(report: Report) -> VerifyForm:
    form = VerifyForm()
    form.verification.choices = choices(
        (v, VERIFICATION_LABELS[v]) for v in operations.VERIFICATIONS if v != report.verification
    )
    return form


def _action_form() -> ActionForm:
    form = ActionForm()
    form.action_type.choices = choices(ACTION_LABELS.items())
    if not form.is_submitted():
        form.action_date.data = current_services().clock.local_today()
    return form


def _forward_form(report: Report) -> ForwardForm:
    form = ForwardForm()
    organisations = [o for o in queries.organisations(db(), active_only=True)]
    form.organisation.choices = choices(
        (o.id, o.name) for o in organisations if o.id != report.assigned_org_id
    )
    return form


def _message_form() -> MessageForm:
    form = MessageForm()
    if not form.is_submitted():
        form.nonce.data = secrets.token_hex(16)
    return form


def _page(report: Report, scope: ReportScope, status: int = 200, **forms: Any) -> tuple[str, int]:
    session = db()
    entries = queries.timeline(session, report.id)
    user_ids = {e.event.user_id for e in entries if e.event.user_id is not None}
    head = queries.report_by_id(session, report.duplicate_of_id) if report.duplicate_of_id else None
    defaults: dict[str, Callable[[], Any]] = {
        "correct_form": lambda: _correct_form(report),
        "verify_form": lambda: _verify_form(report),
        "status_form": lambda: _status_form(report),
        "action_form": _action_form,
        "forward_form": lambda: _forward_form(report),
        "merge_form": MergeForm,
        "message_form": _message_form,
    }
    for name, build in defaults.items():
        if name not in forms:
            forms[name] = build()
    return render_template(
        "reports/report.html",
        report=report,
        scope=scope,
        entries=entries,
        original=queries.original_values(report, entries),
        current=queries.current_values(report),
        fields=queries.CORRECTABLE_FIELDS,
        organisations=queries.organisation_names(session),
        people=queries.user_names(session, user_ids),
        head=head,
        duplicates=queries.duplicates_of(session, report.id),
        **forms,
    ), status


@login_required
def show(reference: str) -> tuple[str, int]:
    report, scope = _report(reference)
    return _page(report, scope)


def _done(report: Report, message: str) -> Response:
    commit()
    flash(message, "success")
    return redirect(url_for("reports.show", reference=report.reference))


def _place_columns(province: str | None, territory: str | None) -> dict[str, Any]:
    """The columns that follow a corrected place: names and p-codes, as the intake stores them."""
    derived: dict[str, Any] = {}
    if province is not None:
        derived["province_name"] = taxonomy.province_name(province) if province else None
        derived["province_pcode"] = next(
            (p for p in _province_pcodes().get(province, []) if p), None
        )
    if territory is not None:
        derived["territory"] = taxonomy.territory_name(territory) if territory else None
    return derived


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _province_pcodes() -> dict[str, list[str]]:
    sources = current_services().datasets.get("provinces").items({})
    return {item.code: [item.extra.get("pcode", "")] for item in sources}


@login_required
def correct(reference: str) -> Response | tuple[str, int]:
    report, scope = _report(reference)
    if not can_correct(current_user, scope):
        abort(403)
    form = _correct_form()
    if not form.validate_on_submit():
        return _page(report, scope, 400, correct_form=form)
    values = {
        name: _clean(form[name].data) for name in queries.CORRECTABLE_FIELDS if name in request.form
    }
    derived = _place_columns(
        values.get("province_iso") or "" if "province_iso" in values else None,
        values.get("territory_pcode") or "" if "territory_pcode" in values else None,
    )
    event = operations.correct_report(
        db(),
        report,
        _author(),
        values=values,
        reason=form.reason.data or "",
        now=current_services().clock.now(),
        derived=derived,
    )
    if event is None:
        flash(_("Nothing was changed."), "info")
        return redirect(url_for("reports.show", reference=report.reference))
    return _done(report, _("Correction saved."))


@login_required
def verify(reference: str) -> Response | tuple[str, int]:
    report, scope = _report(reference)
    if not can_verify(current_user, scope):
        abort(403)
    form = _verify_form(report)
    if not form.validate_on_submit():
        return _page(report, scope, 400, verify_form=form)
    operations.verify_report(
        db(),
        report,
        _author(),
        verification=form.verification.data,
        note=form.note.data or "",
        now=current_services().clock.now(),
    )
    return _done(report, _("Verification saved."))


def _change_status(
    report: Report,
    author: operations.Author,
    status: str,
    close_reason: str | None,
    note: str,
    now: datetime,
) -> None:
    previous = report.status
    event = operations.change_status(
        db(), report, author, status=status, close_reason=close_reason, note=note, now=now
    )
    if status == "resolved" and current_services().settings.follow.sms_when_resolved:
        _tell_reporters_resolved(report)
    report_id, event_id = report.id, event.id
    after_commit(
        lambda: signals.report_status_changed.send(
            _app(),
            report_id=report_id,
            event_id=event_id,
            status=status,
            previous=previous,
            by_user_id=author.user_id,
        )
    )


def _tell_reporters_resolved(report: Report) -> None:
    """``follow.sms_when_resolved``: one SMS to each phone of the group ("report X: resolved",
    as "follow my report" says it, then "delete these messages"), written in this transaction.
    At most one per phone and group, ever: a report resolved again after reopening sends none."""
    if report.duplicate_of_id is not None:
        return  # its reporters hear the group's status, which this change does not touch
    session = db()
    services = current_services()
    tree = services.trees.current(services.settings.default_tree)
    sent: set[str] = set()
    ids: list[int] = []
    for member in [report, *queries.duplicates_of(session, report.id)]:
        key = f"reporter-resolved:{report.id}:{member.reporter_hash[:32]}"
        if member.reporter_hash in sent or queries.outbox_key_used(session, key):
            continue
        sent.add(member.reporter_hash)
        language = member.language
        if language not in tree.languages:  # a report in the reporter's own words ("und")
            language = queries.language_for(session, member.reporter_hash) or tree.languages[0]
        catalog = services.catalog
        text = catalog.gettext(language, message_for("resolved")).replace(
            "{reference}", member.reference
        )
        row = queue_message(
            session,
            services,
            idempotency_key=key,
            phone=SealedPhone(member.reporter_hash, member.reporter_encrypted),
            text=f"{text}\n{catalog.gettext(language, MSG_DELETE)}",
        )
        ids.append(row.id)
    if ids:
        after_commit(lambda: enqueue(services, ids))


def _forward(
    report: Report, author: operations.Author, to_org: int, message: str, now: datetime
) -> None:
    previous = report.assigned_org_id
    event = operations.forward_report(
        db(), report, author, to_organisation_id=to_org, message=message, now=now
    )
    report_id, event_id = report.id, event.id
    # The hook for notifications: sent once the forward is committed.
    after_commit(
        lambda: signals.report_forwarded.send(
            _app(),
            report_id=report_id,
            event_id=event_id,
            to_organisation_id=to_org,
            from_organisation_id=previous,
            by_user_id=author.user_id,
        )
    )


def _app() -> Any:
    from flask import current_app

    return current_app._get_current_object()  # type: ignore[attr-defined]


@login_required
def status(reference: str) -> Response | tuple[str, int]:
    report, scope = _report(reference)
    if not can_change_status(current_user, scope):
        abort(403)
    form = _status_form(report)
    if not form.validate_on_submit():
        return _page(report, scope, 400, status_form=form)
    if form.status.data == "closed" and not form.close_reason.data:
        form.close_reason.errors.append(_("Say why the report is closed."))
        return _page(report, scope, 400, status_form=form)
    try:
        _change_status(
            report,
            _author(),
            form.status.data,
            form.close_reason.data or None,
            form.note.data or "",
            current_services().clock.now(),
        )
    except operations.FollowUpError:
        form.status.errors.append(_("This status cannot follow the current one."))
        return _page(report, scope, 400, status_form=form)
    return _done(report, _("Status changed."))


@login_required
def action(reference: str) -> Response | tuple[str, int]:
    report, scope = _report(reference)
    if not can_record_action(current_user, scope):
        abort(403)
    form = _action_form()
    if not form.validate_on_submit():
        return _page(report, scope, 400, action_form=form)
    operations.record_action(
        db(),
        report,
        _author(),
        action_type=form.action_type.data,
        action_date=form.action_date.data,
        notes=form.notes.data or "",
        now=current_services().clock.now(),
    )
    return _done(report, _("Action recorded."))


@login_required
def forward(reference: str) -> Response | tuple[str, int]:
    report, scope = _report(reference)
    if not can_forward(current_user, scope):
        abort(403)
    form = _forward_form(report)
    if not form.validate_on_submit():
        return _page(report, scope, 400, forward_form=form)
    _forward(
        report,
        _author(),
        form.organisation.data,
        form.message.data or "",
        current_services().clock.now(),
    )
    return _done(report, _("Report forwarded."))


@login_required
def merge(reference: str) -> Response | tuple[str, int]:
    report, scope = _report(reference)
    if not can_merge(current_user, scope):
        abort(403)
    form = MergeForm()
    if not form.validate_on_submit():
        return _page(report, scope, 400, merge_form=form)
    session = db()
    original = queries.report_by_reference(session, form.original.data or "")
    if original is None or not can_merge(current_user, queries.report_scope(session, original)):
        form.original.errors.append(_("No report you can see has this reference."))
        return _page(report, scope, 400, merge_form=form)
    try:
        operations.mark_duplicate(
            session,
            report,
            original,
            _author(),
            note=form.note.data or "",
            now=current_services().clock.now(),
        )
    except operations.FollowUpError:
        form.original.errors.append(_("These reports cannot be merged this way."))
        return _page(report, scope, 400, merge_form=form)
    return _done(report, _("Marked as a duplicate."))


@login_required
def message(reference: str) -> Response | tuple[str, int]:
    report, scope = _report(reference)
    if not can_message_reporter(current_user, scope):
        abort(403)
    form = _message_form()
    if not form.validate_on_submit():
        return _page(report, scope, 400, message_form=form)
    text = (form.text.data or "").strip()
    if gsm.sms_encoding(text).segments > MAX_SEGMENTS:
        form.text.errors.append(_("Too long for 3 SMS: shorten it."))
        return _page(report, scope, 400, message_form=form)
    session = db()
    services = current_services()
    try:
        # The number is copied sealed from the report to the outbox: nobody here decrypts it.
        row = queue_message(
            session,
            services,
            idempotency_key=f"web-message:{report.id}:{form.nonce.data}",
            phone=SealedPhone(report.reporter_hash, report.reporter_encrypted),
            text=text,
        )
    except IntegrityError:
        # The same form a second time (a double click): its SMS is queued already.
        session.rollback()
        flash(_("This message was already sent."), "info")
        return redirect(url_for("reports.show", reference=report.reference))
    operations.record_reporter_message(
        session, report, _author(), text=text, now=services.clock.now()
    )
    row_id = row.id
    after_commit(lambda: enqueue(services, [row_id]))
    return _done(report, _("The SMS is on its way to the reporter."))
