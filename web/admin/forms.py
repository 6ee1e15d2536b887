"""Organisations and users, as the coordinator and organisation admins edit them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from ..config import LANGUAGES
from ..fields import choices
from ..i18n import LANGUAGE_NAMES
from ..labels import ROLE_LABELS


class OrganisationForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    provinces = SelectMultipleField(
        _l("Area: provinces"), description=_l("None selected: everywhere.")
    )
    territories = SelectMultipleField(_l("Area: territoires"))
    categories = SelectMultipleField(
        _l("Expertise: categories"), description=_l("None selected: every category.")
    )
    active = BooleanField(_l("Active"), default=True)


def _language_choices() -> list[SelectChoice]:
    return choices([("", _l("The browser's")), *((c, LANGUAGE_NAMES[c]) for c in LANGUAGES)])


class UserEditForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[Length(max=120)])
    role = SelectField(_l("Role"))
    language = SelectField(_l("Language of the pages"))

    def set_choices(self, roles: list[str]) -> None:
        self.role.choices = choices((role, ROLE_LABELS[role]) for role in roles)
        self.language.choices = _language_choices()


class UserCreateForm(UserEditForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(),
            Length(max=254),
            # The shape only: whether mail reaches it is for the person to confirm.
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Not an e-mail address.")),
        ],
    )


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token travels."""
