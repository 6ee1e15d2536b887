"""One rule for the fields of every gateway endpoint (channels/http.py ``read_form``)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from channels.http import Field, decode_form, read_form

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


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.sampled_from("ab=&+%2AE9éz \x00"), max_size=6),
            st.text(st.sampled_from("ab=&+%2AE9C3A9éz*#\x00"), max_size=12),
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_a_body_is_read_as_parse_qsl_reads_it(pairs: list[tuple[str, str]], escape: bool) -> None:
    # Raw bodies (stray "%", "=", "&", "+", broken escapes) and url-encoded ones alike; the
    # first value of a repeated field, as the MultiDict the handlers used to get.
    body = urlencode(pairs) if escape else "&".join(f"{n}={v}" for n, v in pairs)
    expected = MultiDict(parse_qsl(body, keep_blank_values=True))
    assert decode_form(body.encode(), "/test") == {name: expected[name] for name in expected}


def test_a_body_that_is_not_utf8_is_read_as_latin1() -> None:
    assert decode_form("id=A1&text=Kamituga é".encode("latin-1"), "/test") == {
        "id": "A1",
        "text": "Kamituga é",
    }
