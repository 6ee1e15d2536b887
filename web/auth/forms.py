"""Log in, change one's password, choose one's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from ..config import LANGUAGES
from ..fields import choices
from ..i18n import LANGUAGE_NAMES


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


class LanguageForm(FlaskForm):  # type: ignore[misc]
    language = SelectField(
        _l("Language of the pages"),
        choices=lambda: choices(
            [("", _l("The browser's")), *((code, LANGUAGE_NAMES[code]) for code in LANGUAGES)]
        ),
    )
