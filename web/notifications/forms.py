"""A member's notification preferences."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional


class PreferencesForm(FlaskForm):  # type: ignore[misc]
    email = BooleanField(_l("By e-mail"))
    sms = BooleanField(_l("By SMS"))
    phone = StringField(
        _l("Phone number for SMS"),
        description=_l("Kept encrypted and never shown again. Leave empty to keep the one stored."),
        validators=[Optional(), Length(max=32)],
    )
    frequency = SelectField(_l("When"))
