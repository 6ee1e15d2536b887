"""One rule for the fields of every gateway endpoint (channels/http.py ``read_form``)."""

from __future__ import annotations

import pytest
from flask import Flask

from channels.http import Field, read_form

FIELDS = (
    Field("id", 10, required=True),
    Field("code", 5),
    Field("text", 20, required=True, reporters_text=True),
    Field("note", 8, cut=True),
)
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"id": "A1", "text": "1 2"}, {"id": "A1", "code": "", "text": "1 2", "note": ""}),
        # Identifiers and codes are stripped; the reporter's text is kept exactly as sent.
        (
            {"id": " A1 ", "code": " 63001 ", "text": "  Mongbwalu "},
            {"id": "A1", "code": "63001", "text": "  Mongbwalu ", "note": ""},
        ),
        # A required reporter's text may be empty, but must be there.
        ({"id": "A1", "text": ""}, {"id": "A1", "code": "", "text": "", "note": ""}),
        ({"id": "A1"}, "missing field(s): text"),
        ({"id": " ", "text": "x"}, "missing field(s): id"),
        ({"text": "x"}, "missing field(s): id"),
        # Too long: refused with the field's name and limit...
        ({"id": "A" * 11, "text": "x"}, "id is too long (at most 10 characters)"),
        ({"id": "A1", "code": "630011", "text": "x"}, "code is too long (at most 5 characters)"),
        ({"id": "A1", "text": "x" * 21}, "text is too long (at most 20 characters)"),
        # ...except free text kept for the record, which is cut.
        (
            {"id": "A1", "text": "x", "note": "a long error message"},
            {"id": "A1", "code": "", "text": "x", "note": "a long e"},
        ),
    ],
)
def test_read_form(form: dict[str, str], expected: dict[str, str] | str) -> None:
    app = Flask(__name__)
    with app.test_request_context("/", method="POST", data=form, content_type=FORM):
        assert read_form(FIELDS) == expected


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_only_a_form_is_read(content_type: str) -> None:
    app = Flask(__name__)
    with app.test_request_context("/", method="POST", data="id=1", content_type=content_type):
        assert read_form(FIELDS) == f"expected a form-encoded body, got '{content_type}'"
