"""``/account/notifications``: what a member wants to hear of new reports in their organisation's
area and expertise, and of reports forwarded to it (the ``notify`` package sends it)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from services import current_services
from storage import operations, phones, queries

from ..db import commit, db
from ..fields import choices
from ..identity import login_required
from .forms import PreferencesForm

FREQUENCY_LABELS = {
    "immediate": _l("At once, one message per report"),
    "daily": _l("Once a day, a digest (flask notify digest)"),
}


@login_required
def preferences() -> Response | tuple[str, int] | str:
    session = db()
    services = current_services()
    stored = queries.preference_of(session, current_user.id)
    form = PreferencesForm(obj=stored)
    form.frequency.choices = choices(FREQUENCY_LABELS.items())
    has_phone = stored is not None and stored.phone_encrypted is not None
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template(
            "notifications/preferences.html", form=form, has_phone=has_phone
        ), status
    phone = None
    raw = (form.phone.data or "").strip()
    if raw:
        try:
            phone = phones.normalise(raw, services.settings.phone_region)
        except phones.InvalidPhoneNumber:
            form.phone.errors.append(_("This is not a phone number we can send SMS to."))
    elif form.sms.data and not has_phone:
        form.phone.errors.append(_("SMS needs a phone number."))
    if form.phone.errors:
        return render_template(
            "notifications/preferences.html", form=form, has_phone=has_phone
        ), 400
    user = queries.user_by_id(session, current_user.id)
    assert user is not None  # the logged-in user's own row
    operations.save_preferences(
        session,
        user,
        email=bool(form.email.data),
        sms=bool(form.sms.data),
        frequency=form.frequency.data,
        phone=phone,
        vault=services.vault,
        now=services.clock.now(),
    )
    commit()
    flash(_("Notification preferences saved."), "success")
    return redirect(url_for("notifications.preferences"))
