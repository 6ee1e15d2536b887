"""The forms of the report page and the inbox's bulk form (the inbox's filter is
``web.filtering.FilterForm``, shared with the dashboard, the exports and the API)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

REFERENCE = Regexp(r"^\d{7}$", message=_l("A reference has 7 digits."))


class CorrectForm(FlaskForm):  # type: ignore[misc]
    """Only the fields the request carries are corrected (a field left out stays as it is)."""

    category = SelectField(_l("Category"), validators=[Optional()])
    subcategory = SelectField(_l("Sub-category"), validators=[Optional()])
    province_iso = SelectField(_l("Province"), validators=[Optional()])
    territory_pcode = SelectField(_l("Territoire"), validators=[Optional()])
    site = StringField(_l("Site or village"), validators=[Length(max=200)])
    occurred_on = DateField(_l("Date"), validators=[Optional()])
    details = TextAreaField(_l("Details"), validators=[Length(max=2000)])
    reason = TextAreaField(
        _l("Reason for the correction"), validators=[DataRequired(), Length(max=1000)]
    )


class VerifyForm(FlaskForm):  # type: ignore[misc]
    verification = SelectField(_l("Verification"))
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])


class StatusForm(FlaskForm):  # type: ignore[misc]
    status = SelectField(_l("New status"))
    close_reason = SelectField(_l("Reason for closing"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])


class ActionForm(FlaskForm):  # type: ignore[misc]
    action_type = SelectField(_l("Action"))
    action_date = DateField(_l("Date of the action"), validators=[DataRequired()])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=4000)])


class ForwardForm(FlaskForm):  # type: ignore[misc]
    organisation = SelectField(_l("Forward to"), coerce=int)
    message = TextAreaField(_l("Message to them"), validators=[Length(max=2000)])


class MergeForm(FlaskForm):  # type: ignore[misc]
    original = StringField(
        _l("Duplicate of report (reference)"), validators=[DataRequired(), REFERENCE]
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=1000)])


class MessageForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField(
        _l("SMS to the reporter"),
        description=_l("At most 3 SMS. The reporter's number stays hidden from everyone."),
        validators=[DataRequired(), Length(max=459)],
    )
    # The same form sent twice (a double click, a retry) queues one SMS: see the controller.
    nonce = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])


class BulkForm(FlaskForm):  # type: ignore[misc]
    ids = SelectMultipleField(coerce=int, validate_choice=False)
    operation = SelectField(_l("With the selected reports"))
    organisation = SelectField(_l("Forward to"), coerce=int, validate_choice=False)
    status = SelectField(_l("New status"), validate_choice=False)
    close_reason = SelectField(_l("Reason for closing"), validate_choice=False)
    back = HiddenField()  # the inbox URL (with its filter) to return to
