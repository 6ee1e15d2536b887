"""Log in and out, change one's password and language."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from services import current_services
from storage import operations, queries

from .. import passwords
from ..db import commit, db
from ..identity import Actor, login_required
from ..permissions import web_settings
from ..throttle import LoginThrottle
from .forms import LanguageForm, LoginForm, PasswordForm


def _throttle() -> LoginThrottle:
    services = current_services()
    web = web_settings()
    return LoginThrottle(
        client=services.redis,
        prefix=services.settings.redis_prefix,
        per_account=web.login_throttle.per_account,
        per_address=web.login_throttle.per_address,
        window=web.login_throttle.window_seconds,
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site: ``next=https://elsewhere`` must not turn login into a redirector."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


def login() -> Response | tuple[str, int] | str:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    email = operations.normalise_email(form.email.data or "")
    address = request.remote_addr or "unknown"
    throttle = _throttle()
    wait = throttle.retry_after(email, address)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        form.form_errors.append(
            _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes)
        )
        return render_template("auth/login.html", form=form), 429
    session_db = db()
    user = queries.user_by_email(session_db, email)
    hasher = passwords.hasher(web_settings())
    matches = passwords.verify(hasher, user.password_hash if user else None, form.password.data)
    organisation = queries.organisation_by_id(session_db, user.organisation_id) if user else None
    if not (matches and user and user.active and organisation and organisation.active):
        throttle.failed(email, address)
        # One message for every failure: which addresses have an account is nobody's business.
        form.form_errors.append(_("Wrong e-mail or password, or the account is disabled."))
        return render_template("auth/login.html", form=form), 401
    throttle.succeeded(email, address)
    if hasher.check_needs_rehash(user.password_hash):
        operations.rehash_password(session_db, user, hasher.hash(form.password.data))
    operations.record_login(session_db, user, current_services().clock.now())
    commit()
    session.clear()  # no state from before the login survives it (session fixation)
    session.permanent = True
    login_user(Actor.of(user, organisation))
    return redirect(_safe_next(request.args.get("next")))


@login_required
def logout() -> Response:
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


def _account_page(
    password_form: PasswordForm | None = None, language_form: LanguageForm | None = None
) -> str:
    if language_form is None:
        language_form = LanguageForm(language=current_user.language or "")
    return render_template(
        "auth/account.html",
        password_form=password_form or PasswordForm(formdata=None),
        language_form=language_form,
        min_length=web_settings().min_password_length,
    )


@login_required
def account() -> str:
    return _account_page()


@login_required
def password() -> Response | tuple[str, int]:
    form = PasswordForm()
    web = web_settings()
    if form.validate_on_submit():
        session_db = db()
        user = queries.user_by_id(session_db, current_user.id)
        if user is None:
            abort(404)
        hasher = passwords.hasher(web)
        new = form.new.data or ""
        if not passwords.verify(hasher, user.password_hash, form.current.data or ""):
            form.current.errors.append(_("This is not your current password."))
        elif len(new) < web.min_password_length:
            form.new.errors.append(
                _("At least %(count)d characters.", count=web.min_password_length)
            )
        else:
            operations.set_password(
                session_db, user, hasher.hash(new), current_services().clock.now()
            )
            commit()
            # The session version moved on: log in again under the new one, keeping this session.
            organisation = queries.organisation_by_id(session_db, user.organisation_id)
            assert organisation is not None
            login_user(Actor.of(user, organisation))
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(password_form=form), 400


@login_required
def language() -> Response | tuple[str, int]:
    form = LanguageForm()
    if not form.validate_on_submit():
        return _account_page(language_form=form), 400
    session_db = db()
    user = queries.user_by_id(session_db, current_user.id)
    if user is None:
        abort(404)
    operations.set_user_language(session_db, user, form.language.data or None)
    commit()
    return redirect(url_for("auth.account"))
