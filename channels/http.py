"""What every gateway adapter's HTTP handlers share: reading form fields by one rule, plain-text
answers, and the callback token check.

The rule for fields, the same on every endpoint of every channel: each field has a length limit
(the column it ends up in; a reporter's text 2000). A required field that is missing or blank is
a 400. An identifier, a code, a number or a reporter's text longer than its limit is a 400
naming the field, because cutting it would store something else than what was sent (a session id
that matches no session, a network code of another operator). Only free text kept for the record
(a gateway's error message, its echo of our last screen) is cut to its limit instead.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from flask import Response, abort, g, make_response, request

log = logging.getLogger(__name__)

TEXT_LIMIT = 2000  # a reporter's text: far beyond any USSD session or three SMS segments
# NUL and the other control characters (tab and line breaks aside) mean nothing in a report, and
# PostgreSQL refuses NUL in text: kept, one would make every later commit of that conversation
# fail, for ever. They are dropped at the edge, the same way on every retry.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Field:
    name: str
    limit: int
    required: bool = False
    # The reporter's own text: kept exactly as sent, spaces included; when required, it must be
    # present but may be empty (an empty SMS is a message like any other).
    reporters_text: bool = False
    cut: bool = False  # free text kept only for the record: cut to ``limit`` instead of refused


def plain(text: str, status: int = 200) -> Response:
    response = make_response(text, status)
    response.mimetype = "text/plain"
    return response


def bad_request(reason: str) -> Response:
    """HTTP 400 with a one-line reason a gateway operator can read in their logs."""
    return plain(reason.replace("\n", " ") + "\n", 400)


def require_token(expected: str) -> None:
    """With a callback token configured, a request without ``?token=<it>`` is refused (403)."""
    if not expected:
        return
    if not token_matches(request.args.get("token", ""), expected):
        abort(plain("missing or wrong token\n", 403))


def token_matches(given: str, expected: str) -> bool:
    """Whether ``given`` is the configured callback token (always, when none is set)."""
    return not expected or hmac.compare_digest(given.encode(), expected.encode())


FORM = "application/x-www-form-urlencoded"


def decode_form(raw: bytes, path: str) -> dict[str, str]:
    """A url-encoded body's fields (the first value of a repeated one, as Flask's form gives).
    One that is not UTF-8 (a gateway writing Latin-1) would reach us as no form at all: it is
    read as Latin-1 instead, where every byte is a letter, so the request is served with its
    text as close as we can tell to what was meant."""
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("%s: body is not UTF-8; read as Latin-1", path)
        body = raw.decode("latin-1")
    # Parsed here, once, by the rules of ``urllib.parse.parse_qsl`` (blank values kept; "+" is
    # a space; percent escapes read as UTF-8, a broken one replaced): werkzeug's parser would
    # read the same bytes again at several times the cost, and parse_qsl into a MultiDict
    # costs half as much again (12.6 against 8.0 µs for a USSD hop's body).
    # tests/test_http_fields.py holds it to parse_qsl.
    fields: dict[str, str] = {}
    for pair in body.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "+" in name or "%" in name:
            name = unquote(name.replace("+", " "))
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value)
        fields.setdefault(name, value)
    return fields


def _form() -> Mapping[str, str]:
    if request.mimetype != FORM:
        return request.form
    return decode_form(request.get_data(cache=True), request.path)


def read_form(fields: Sequence[Field]) -> dict[str, str] | str:
    """The fields' values (stripped, except a reporter's text; absent ones empty; control
    characters dropped), or the one-line reason why the request is refused."""
    if request.mimetype not in (FORM, "multipart/form-data"):
        return f"expected a form-encoded body, got '{request.mimetype or 'nothing'}'"
    return check_fields(_form(), fields)


def check_fields(form: Mapping[str, str], fields: Sequence[Field]) -> dict[str, str] | str:
    """``read_form``'s rule on a form already read (the USSD fast path reads its own)."""
    missing = [
        f.name
        for f in fields
        if f.required
        and (f.name not in form if f.reporters_text else not form.get(f.name, "").strip())
    ]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    values: dict[str, str] = {}
    for f in fields:
        value = _CONTROL.sub("", form.get(f.name, ""))
        if not f.reporters_text:
            value = value.strip()
        if len(value) > f.limit:
            if not f.cut:
                return f"{f.name} is too long (at most {f.limit} characters)"
            value = value[: f.limit]
        values[f.name] = value
    return values


def hop(channel: str, kind: str) -> None:
    """Say what this request was, for the hop metrics (``ops/metrics.py`` reads it)."""
    g.kuf_hop = (channel, kind)
