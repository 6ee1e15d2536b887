"""Fuzz every gateway endpoint: whatever arrives, the answer is never a 5xx, nothing raises, and
every USSD screen is a ``CON``/``END`` within its limit in GSM-7.

Bodies are form-encoded field sets (the gateway's fields, unknown ones, missing and repeated
ones), raw bytes that are not UTF-8, JSON, or nothing; values are random text, control characters
and NUL, ``*``-heavy answers, huge values (100 KB), numbers in and out of range, and dates from
year 1 to 9999 in every offset. ``make test`` runs a few dozen examples per endpoint; the load
benchmark (``make loadtest``) runs ``FUZZ_EXAMPLES=10000``.
"""

from __future__ import annotations

import logging
import os
import urllib.parse
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .phone import check_reply

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # One app serves every example (a fresh one per example would measure start-up, not input).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CONTROL = "".join(chr(c) for c in range(32)) + "\x7f\u0085\u2028\ufeff"
PHONES = ["+243812345678", "0812345678", "243990000001", "+254739495441", "MTN", "", "+", "00"]
DATES = st.one_of(
    st.sampled_from(
        [
            "2026-11-24T09:30:00Z",
            "2026-11-24 09:30:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "0000-00-00 00:00:00",
            "2026-02-30 10:00:00",
            "yesterday",
        ]
    ),
    st.datetimes().map(lambda d: d.isoformat()),
    st.text(max_size=30),
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=CONTROL + "ab1*", max_size=40),
    st.text(alphabet="0123456789*#", max_size=60),  # *-heavy USSD text
    st.sampled_from(["1", "2", "0", "00", "98", "1*1*1", "*", "**", "*" * 300, "2*1*1*1*1*2"]),
    st.sampled_from(PHONES),
    DATES,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["inf", "nan", "1e400", "-0", "abc", "12s"]),
    st.just("x" * 100_000),  # huge: over the body limit once encoded
    st.text(min_size=1500, max_size=2500),
)

USSD_FIELDS = ["sessionId", "serviceCode", "phoneNumber", "networkCode", "text"]
EVENT_FIELDS = [
    *USSD_FIELDS[:4],
    "date",
    "status",
    "cost",
    "durationInMillis",
    "hopsCount",
    "input",
    "lastAppResponse",
    "errorMessage",
]
INCOMING_FIELDS = ["from", "to", "text", "date", "id", "linkId", "networkCode"]
DELIVERY_FIELDS = ["id", "status", "phoneNumber", "networkCode", "failureReason", "retryCount"]
GOOD: dict[str, str] = {
    "sessionId": "ATUid_fuzz",
    "serviceCode": "*384*44135#",
    "phoneNumber": "+243812345678",
    "networkCode": "63001",
    "text": "",
    "status": "Success",
    "from": "+243812345678",
    "to": "21512",
    "id": "ATXid_fuzz",
    "date": "2026-11-24T09:30:00Z",
}


@st.composite
def forms(draw: st.DrawFn, names: list[str]) -> list[tuple[str, str]]:
    """Pairs (a field may be missing or repeated), mostly near a real request so that the fuzz
    reaches past the first check into the conversation and the database."""
    pairs: list[tuple[str, str]] = []
    for name in names:
        choice = draw(st.sampled_from(["good", "good", "random", "missing", "twice"]))
        if choice == "missing":
            continue
        good = GOOD.get(name, "")
        value = good if choice == "good" else draw(VALUES)
        pairs.append((name, value))
        if choice == "twice":
            pairs.append((name, draw(VALUES)))
    pairs += draw(st.lists(st.tuples(st.text(max_size=10), VALUES), max_size=2))
    return draw(st.permutations(pairs))


@st.composite
def bodies(draw: st.DrawFn, names: list[str]) -> tuple[bytes, str | None]:
    kind = draw(st.sampled_from(["form", "form", "form", "latin1", "bytes", "json", "empty"]))
    form = "application/x-www-form-urlencoded"
    if kind == "form":
        return urllib.parse.urlencode(draw(forms(names))).encode(), form
    if kind == "latin1":  # a gateway that sends ISO-8859-1 rather than UTF-8
        encoded = urllib.parse.urlencode(draw(forms(names)), encoding="latin-1", errors="replace")
        return encoded.encode(), form
    if kind == "bytes":
        raw = draw(st.binary(max_size=300))
        return raw, draw(st.sampled_from([form, "multipart/form-data", None]))
    if kind == "json":
        import json

        return json.dumps(dict(draw(forms(names)))).encode(), "application/json"
    return b"", draw(st.sampled_from([form, None]))


def _post(
    client: FlaskClient, path: str, body: tuple[bytes, str | None], caplog: pytest.LogCaptureFixture
) -> Any:
    caplog.clear()
    data, content_type = body
    response = client.post(path, data=data, content_type=content_type)
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True))
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage() for r in failures]
    return response


@FUZZ
@given(body=bodies(USSD_FIELDS))
def test_ussd(client: FlaskClient, caplog: pytest.LogCaptureFixture, body: Any) -> None:
    response = _post(client, "/ussd/africastalking", body, caplog)
    if response.status_code == 200:
        check_reply(response.get_data(as_text=True))


@FUZZ
@given(body=bodies(EVENT_FIELDS))
def test_ussd_events(client: FlaskClient, caplog: pytest.LogCaptureFixture, body: Any) -> None:
    _post(client, "/ussd/africastalking/events", body, caplog)


@FUZZ
@given(body=bodies(INCOMING_FIELDS))
def test_sms_incoming(client: FlaskClient, caplog: pytest.LogCaptureFixture, body: Any) -> None:
    _post(client, "/sms/africastalking/incoming", body, caplog)


@FUZZ
@given(body=bodies(DELIVERY_FIELDS))
def test_sms_delivery(client: FlaskClient, caplog: pytest.LogCaptureFixture, body: Any) -> None:
    _post(client, "/sms/africastalking/delivery", body, caplog)


@FUZZ
@given(answers=st.lists(VALUES, min_size=1, max_size=12))
def test_a_ussd_session_of_random_answers(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, answers: list[str]
) -> None:
    """Deeper than single requests: a whole session of hostile answers, hop after hop."""
    session = f"ATUid_walk_{len(caplog.records)}_{id(answers)}"
    text = ""
    for answer in answers:
        text = answer if not text else f"{text}*{answer}"
        form = {**GOOD, "sessionId": session, "text": text}
        body = urllib.parse.urlencode(form).encode()
        response = _post(
            client, "/ussd/africastalking", (body, "application/x-www-form-urlencoded"), caplog
        )
        if response.status_code == 200:
            check_reply(response.get_data(as_text=True))
