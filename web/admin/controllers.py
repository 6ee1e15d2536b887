"""Organisations (the coordinator) and users (the coordinator, or an organisation's admin)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from services import current_services
from storage import operations, queries
from storage.models import Organisation, User

from .. import passwords, taxonomy
from ..db import commit, db
from ..fields import choices
from ..identity import login_required
from ..permissions import (
    can_edit_user,
    can_give_role,
    can_manage_organisations,
    can_manage_users,
    can_see_admin,
    web_settings,
)
from .forms import ConfirmForm, OrganisationForm, UserCreateForm, UserEditForm


def _organisation(organisation_id: int) -> Organisation:
    organisation = queries.organisation_by_id(db(), organisation_id)
    if organisation is None:
        abort(404)
    return organisation


def _organisation_form(organisation: Organisation | None = None) -> OrganisationForm:
    form = OrganisationForm(obj=organisation)
    form.provinces.choices = choices((p.code, p.name) for p in taxonomy.provinces())
    names = {p.code: p.name for p in taxonomy.provinces()}
    form.territories.choices = [
        SelectChoice(t.code, t.name, optgroup=names.get(t.province, t.province))
        for t in taxonomy.territories()
    ]
    form.categories.choices = choices(taxonomy.categories())
    return form


@login_required
def index() -> Response:
    if can_manage_organisations(current_user):
        return redirect(url_for("admin.organisations"))
    if can_see_admin(current_user):
        return redirect(url_for("admin.members", organisation_id=current_user.organisation_id))
    abort(403)


@login_required
def organisations() -> str:
    if not can_manage_organisations(current_user):
        abort(403)
    return render_template("admin/organisations.html", organisations=queries.organisations(db()))


@login_required
def new_organisation() -> Response | str | tuple[str, int]:
    if not can_manage_organisations(current_user):
        abort(403)
    form = _organisation_form()
    if form.validate_on_submit():
        try:
            organisation = operations.create_organisation(
                db(),
                name=form.name.data or "",
                provinces=form.provinces.data or [],
                territories=form.territories.data or [],
                categories=form.categories.data or [],
                now=current_services().clock.now(),
            )
        except operations.PeopleError:
            form.name.errors.append(_("This name is taken."))
        else:
            commit()
            flash(_("Organisation created."), "success")
            return redirect(url_for("admin.members", organisation_id=organisation.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/organisation.html", form=form, organisation=None), status


@login_required
def edit_organisation(organisation_id: int) -> Response | str | tuple[str, int]:
    if not can_manage_organisations(current_user):
        abort(403)
    organisation = _organisation(organisation_id)
    form = _organisation_form(organisation)
    if form.validate_on_submit():
        try:
            operations.update_organisation(
                db(),
                organisation,
                name=form.name.data or "",
                provinces=form.provinces.data or [],
                territories=form.territories.data or [],
                categories=form.categories.data or [],
                active=bool(form.active.data),
            )
        except operations.PeopleError:
            form.name.errors.append(_("This name is taken."))
        else:
            commit()
            flash(_("Organisation saved."), "success")
            return redirect(url_for("admin.organisations"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/organisation.html", form=form, organisation=organisation), status


def _roles() -> list[str]:
    return [role for role in operations.ROLES if can_give_role(current_user, role)]


def _members_page(
    organisation: Organisation,
    form: UserCreateForm | None = None,
    new_password: str | None = None,
    new_user: User | None = None,
) -> str:
    if form is None:
        form = UserCreateForm(formdata=None, role="analyst")  # the most common, not the mightiest
        form.set_choices(_roles())
    return render_template(
        "admin/members.html",
        organisation=organisation,
        members=queries.users(db(), organisation.id),
        form=form,
        confirm=ConfirmForm(),
        new_password=new_password,
        new_user=new_user,
    )


@login_required
def members(organisation_id: int) -> str:
    organisation = _organisation(organisation_id)
    if not can_manage_users(current_user, organisation.id):
        abort(403)
    return _members_page(organisation)


@login_required
def create_member(organisation_id: int) -> str | tuple[str, int]:
    organisation = _organisation(organisation_id)
    if not can_manage_users(current_user, organisation.id):
        abort(403)
    form = UserCreateForm()
    form.set_choices(_roles())
    if not form.validate_on_submit():
        return _members_page(organisation, form), 400
    password = passwords.generate_password()
    try:
        user = operations.create_user(
            db(),
            email=form.email.data or "",
            password_hash=passwords.hasher(web_settings()).hash(password),
            organisation=organisation,
            role=form.role.data,
            name=form.name.data or "",
            language=form.language.data or None,
            now=current_services().clock.now(),
        )
    except operations.PeopleError:
        form.email.errors.append(_("A user with this e-mail exists already."))
        return _members_page(organisation, form), 400
    commit()
    # Shown in this response only (never flashed: the session cookie is signed, not secret).
    return _members_page(organisation, new_password=password, new_user=user)


def _user_to_edit(user_id: int) -> User:
    user = queries.user_by_id(db(), user_id)
    if user is None:
        abort(404)
    if not can_edit_user(current_user, user.id, user.organisation_id, user.role):
        abort(403)
    return user


@login_required
def edit_member(user_id: int) -> Response | str | tuple[str, int]:
    user = _user_to_edit(user_id)
    form = UserEditForm(obj=user, language=user.language or "")
    form.set_choices(_roles())
    if form.validate_on_submit():
        operations.update_user(
            db(),
            user,
            name=form.name.data or "",
            role=form.role.data,
            language=form.language.data or None,
        )
        commit()
        flash(_("User saved."), "success")
        return redirect(url_for("admin.members", organisation_id=user.organisation_id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/member.html",
        form=form,
        member=user,
        organisation=_organisation(user.organisation_id),
        confirm=ConfirmForm(),
    ), status


def set_member_active(user_id: int, active: bool) -> Response:
    user = _user_to_edit(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operations.set_user_active(db(), user, active)
    commit()
    flash(_("User enabled.") if active else _("User disabled."), "success")
    return redirect(url_for("admin.members", organisation_id=user.organisation_id))


@login_required
def disable_member(user_id: int) -> Response:
    return set_member_active(user_id, False)


@login_required
def enable_member(user_id: int) -> Response:
    return set_member_active(user_id, True)


@login_required
def reset_password(user_id: int) -> str:
    user = _user_to_edit(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    password = passwords.generate_password()
    hashed = passwords.hasher(web_settings()).hash(password)
    operations.set_password(db(), user, hashed, current_services().clock.now())
    commit()
    return _members_page(_organisation(user.organisation_id), new_password=password, new_user=user)
