"""The Africa's Talking USSD endpoints, with the real payload shapes of protocols.md."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from channels.sessions import UssdSession
from channels.ussd import MSG_TRY_AGAIN
from services import EXTENSION_KEY, Services
from storage import operations
from storage.models import Report, Reporter, UssdSessionLog

from .conftest import Backend, make_app
from .phone import TO_CONFIRM_FR, URL, Phone, built_app, check_reply

FORM = "application/x-www-form-urlencoded"
AT_HEADERS = {"User-Agent": "at-ussd-api/1.0"}
# The captured sandbox request, byte for byte.
SANDBOX = (
    "phoneNumber=%2B254739495441&serviceCode=%2A384%2A44135%23&text="
    "&sessionId=ATUid_7c898d72eb11f723ed8ea05ef232f279&networkCode=99999"
)
CONGO = "phoneNumber=%2B243812345678&serviceCode=%2A384%2A44135%23&networkCode=63001"


def _reports(services: Services) -> list[Report]:
    with services.db.session() as session:
        return list(session.scalars(select(Report).order_by(Report.id)))


# The payload table ---------------------------------------------------------------------------

OK_PAYLOADS: list[tuple[str, str, str, str]] = [
    (
        "sandbox capture",
        SANDBOX,
        FORM,
        "CON Lugha / Langue / Language\n1 Kiswahili\n2 Francais\n3 English",
    ),
    ("congolese phone", f"{CONGO}&sessionId=S2&text=", FORM, "CON Lugha / Langue / Language\n"),
    ("no text field at all", f"{CONGO}&sessionId=S3", FORM, "CON Lugha / Langue / Language\n"),
    ("no networkCode", "phoneNumber=%2B243812345678&sessionId=S4&text=", FORM, "CON Lugha"),
    ("national number", "phoneNumber=0812345678&sessionId=S5&text=", FORM, "CON Lugha"),
    (
        "deep dial: first text is an input",
        f"{CONGO}&sessionId=S6&text=1",
        FORM,
        "CON Kufatilia: ripoti tukio",
    ),
    (
        "deep dial: two inputs",
        f"{CONGO}&sessionId=S7&text=3%2A1",
        FORM,
        "CON What happened?\n1 Accident",
    ),
    (
        "undecodable first input",
        f"{CONGO}&sessionId=S9&text=%FF",
        FORM,
        # every language: none is chosen yet
        "CON Chagua namba. / Tapez un numéro. / Type a number.\nLugha / Langue / Language",
    ),
    (
        "charset in content type",
        f"{CONGO}&sessionId=S8&text=",
        FORM + "; charset=utf-8",
        "CON Lugha",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "starts"),
    [p[1:] for p in OK_PAYLOADS],
    ids=[p[0] for p in OK_PAYLOADS],
)
def test_valid_payloads(client: FlaskClient, body: str, content_type: str, starts: str) -> None:
    response = client.post(URL, data=body, content_type=content_type, headers=AT_HEADERS)
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text
    assert response.mimetype == "text/plain"
    assert text.startswith(starts)
    check_reply(text)


def test_a_multipart_form_is_accepted(client: FlaskClient) -> None:
    form = {"sessionId": "S_multi", "phoneNumber": "+243812345678", "text": ""}
    response = client.post(URL, data=form, content_type="multipart/form-data")
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("CON ")


BAD_PAYLOADS: list[tuple[str, str | bytes, str | None, str]] = [
    ("missing sessionId", "phoneNumber=%2B243812345678&text=", FORM, "missing field(s): sessionId"),
    (
        "blank sessionId",
        "sessionId=%20&phoneNumber=%2B243812345678",
        FORM,
        "missing field(s): sessionId",
    ),
    ("missing phoneNumber", "sessionId=S&text=", FORM, "missing field(s): phoneNumber"),
    ("missing both", "text=1", FORM, "missing field(s): sessionId, phoneNumber"),
    (
        "json body",
        json.dumps({"sessionId": "S", "phoneNumber": "+243812345678"}),
        "application/json",
        "expected a form-encoded body",
    ),
    (
        "plain text body",
        "sessionId=S&phoneNumber=%2B243812345678",
        "text/plain",
        "expected a form-encoded body",
    ),
    ("no body", b"", None, "expected a form-encoded body"),
    (
        "junk phoneNumber",
        "sessionId=S&phoneNumber=hello&text=",
        FORM,
        "phoneNumber is not a valid phone number",
    ),
    (
        "too short phoneNumber",
        "sessionId=S&phoneNumber=%2B24381&text=",
        FORM,
        "phoneNumber is not a valid phone number",
    ),
    (
        # One digit short: the old check took it for a phone of its own (a second identity).
        "a DRC mobile number a digit short",
        "sessionId=S&phoneNumber=%2B24381234567&text=",
        FORM,
        "phoneNumber is not a valid phone number",
    ),
    (
        "ten digits that are no country's number",
        "sessionId=S&phoneNumber=1234567890&text=",
        FORM,
        "phoneNumber is not a valid phone number",
    ),
    (
        "over-long text",
        "sessionId=S&phoneNumber=%2B243812345678&text=" + "1" * 2001,
        FORM,
        "text is too long (at most 2000 characters)",
    ),
    (
        "over-long sessionId",
        "phoneNumber=%2B243812345678&sessionId=" + "s" * 300,
        FORM,
        "sessionId is too long",
    ),
    (
        "over-long networkCode",
        "sessionId=S&phoneNumber=%2B243812345678&networkCode=" + "6" * 40,
        FORM,
        "networkCode is too long (at most 16 characters)",
    ),
    (
        "over-long phoneNumber",
        "sessionId=S&phoneNumber=%2B243812345678" + "1" * 30,
        FORM,
        "phoneNumber is too long (at most 32 characters)",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [p[1:] for p in BAD_PAYLOADS],
    ids=[p[0] for p in BAD_PAYLOADS],
)
def test_malformed_payloads_get_400_with_a_one_line_reason(
    client: FlaskClient, body: str | bytes, content_type: str | None, reason: str
) -> None:
    response = client.post(URL, data=body, content_type=content_type, headers=AT_HEADERS)
    text = response.get_data(as_text=True)
    assert response.status_code == 400, text
    assert response.mimetype == "text/plain"
    assert text.endswith("\n") and "\n" not in text.rstrip("\n")
    assert text.startswith(reason)


def test_an_oversized_body_is_refused_in_one_plain_line(client: FlaskClient) -> None:
    body = "sessionId=S&phoneNumber=%2B243812345678&text=" + "1" * 70_000
    response = client.post(URL, data=body, content_type=FORM)
    assert response.status_code == 413
    assert response.mimetype == "text/plain"
    assert "\n" not in response.get_data(as_text=True).rstrip("\n")


def test_a_get_is_refused_in_one_plain_line(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.status_code == 405
    assert response.mimetype == "text/plain"
    assert "\n" not in response.get_data(as_text=True).rstrip("\n")


# Callback token --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [URL, URL + "/events"])
def test_a_configured_callback_token_is_required(
    backend: Backend, tmp_path: Path, path: str
) -> None:
    config = {"gateways": {"africastalking": {"callback_token": "s3cret-token"}}}
    with built_app(backend, tmp_path, **config) as app:
        _check_token(app.test_client(), path)


def _check_token(client: FlaskClient, path: str) -> None:
    form = {"sessionId": "T1", "phoneNumber": "+243812345678", "text": "", "status": "Success"}
    for query in ("", "?token=", "?token=wrong", "?token=s3cret-toke", "?tok=s3cret-token"):
        response = client.post(path + query, data=form)
        assert response.status_code == 403, query
        assert response.get_data(as_text=True) == "missing or wrong token\n"
    response = client.post(path + "?token=s3cret-token", data=form)
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("CON " if path == URL else "OK")


def test_without_a_configured_token_none_is_needed(client: FlaskClient) -> None:
    form = {"sessionId": "T2", "phoneNumber": "+243812345678", "text": ""}
    assert client.post(URL, data=form).status_code == 200
    assert client.post(URL + "?token=anything", data=form).status_code == 200


# Conversations over HTTP ---------------------------------------------------------------------


def test_a_full_report_over_http(
    client: FlaskClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    phone = Phone(client, "ATUid_full")
    phone.dial()
    phone.send(*TO_CONFIRM_FR)
    end = phone.send("1")
    (report,) = _reports(services)
    assert end == (
        f"END Merci ! Alerte enregistrée. Numéro : {report.reference}. "
        "Gardez-le en secret. Des organisations locales vont la suivre."
    )
    assert (report.category, report.subcategory, report.territory) == (
        "accident",
        "accident.collapse",
        "Djugu",
    )
    # Neither the handler nor anything under it logged the number in clear.
    for record in caplog.records:
        assert "812345678" not in record.getMessage()


def test_a_deep_dial_continues_from_its_first_inputs(client: FlaskClient) -> None:
    phone = Phone(client, "ATUid_deep")
    phone.inputs = ["3", "1"]
    assert phone.post_text(phone.text).startswith("CON What happened?\n1 Accident")
    assert phone.send("8").startswith("CON In which province?")


def test_an_exact_repeat_gets_the_same_reply_and_changes_nothing(
    client: FlaskClient, services: Services
) -> None:
    phone = Phone(client, "ATUid_repeat")
    phone.dial()
    first = phone.send("2", "1")
    stored = services.sessions.load("ussd", "africastalking:ATUid_repeat", UssdSession.from_json)
    assert stored is not None
    assert phone.post_text(phone.text) == first
    again = services.sessions.load("ussd", "africastalking:ATUid_repeat", UssdSession.from_json)
    assert again == stored


def test_a_state_at_a_removed_node_restarts_the_conversation(
    client: FlaskClient, services: Services
) -> None:
    phone = Phone(client, "ATUid_removed")
    phone.dial()
    phone.send("2", "1")
    key = "africastalking:ATUid_removed"
    stored = services.sessions.load("ussd", key, UssdSession.from_json)
    assert stored is not None
    removed = replace(stored, state=replace(stored.state, node="a_node_an_editor_removed"))
    services.sessions.save("ussd", key, removed, 60)
    reply = phone.send("1")
    assert reply.startswith("CON Kufatilia: signaler un incident dans une mine.")


# Per-network limits -------------------------------------------------------------------------


def test_a_network_limit_override_holds_for_every_screen(backend: Backend, tmp_path: Path) -> None:
    with built_app(backend, tmp_path, ussd={"network_limits": {"63902": 140}}) as app:
        _check_network_limit(app.test_client())


def _check_network_limit(client: FlaskClient) -> None:
    answers = ["2", "1", "1", "1", "1", "2", "S" * 60, "4", "12/05/2026", "1", "D" * 80]
    strict = Phone(client, "ATUid_net_140", number="+243990000140", network="63902", limit=140)
    strict.dial()
    strict.send(*answers)
    strict.send("1")
    assert strict.replies[-1].startswith("END ")
    # The same session on another network uses the default 160, and needs it somewhere.
    usual = Phone(client, "ATUid_net_160", number="+243990000160", network="63001")
    usual.dial()
    usual.send(*answers)
    assert any(len(body) - 4 > 140 for body in usual.replies)


# Failures ---------------------------------------------------------------------------------


def test_a_database_failure_at_submit_keeps_the_reporter_on_the_confirmation(
    client: FlaskClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = Phone(client, "ATUid_dbfail")
    phone.dial()
    confirm = phone.send(*TO_CONFIRM_FR)

    def unavailable(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(operations, "store_report", unavailable)
    failed = phone.send("1")
    hint = services.catalog.gettext("fr", MSG_TRY_AGAIN)
    assert failed.startswith(f"CON {hint}\n")
    options = "1 Envoyer\n2 Envoyer + numéro par SMS\n3 Modifier\n4 Ne pas envoyer\n0 Retour"
    assert failed.endswith(options)
    assert confirm.endswith(options)
    assert _reports(services) == []

    monkeypatch.undo()
    done = phone.send("1")
    (report,) = _reports(services)
    assert done.startswith("END Merci !")
    assert report.reference in done


def test_two_concurrent_final_requests_make_one_report(backend: Backend, tmp_path: Path) -> None:
    # The copies wait for the first one's lock as long as it takes (the busy answer after
    # ussd.lock_timeout is tested on its own): the outcome cannot depend on the machine's speed.
    app = make_app(backend, tmp_path, ussd={"lock_timeout": 60})
    services: Services = app.extensions[EXTENSION_KEY]
    phone = Phone(app.test_client(), "ATUid_race")
    phone.dial()
    phone.send(*TO_CONFIRM_FR)
    final = phone.form(phone.text + "*1")
    barrier = threading.Barrier(3)
    replies: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def post() -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=60)
            response = client.post(URL, data=final)
            replies.append((response.status_code, response.get_data(as_text=True)))
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert len(replies) == 3
    (report,) = _reports(services)
    assert {status for status, _ in replies} == {200}
    assert {body for _, body in replies} == {
        f"END Merci ! Alerte enregistrée. Numéro : {report.reference}. "
        "Gardez-le en secret. Des organisations locales vont la suivre."
    }


def test_a_request_that_cannot_get_the_session_lock_is_told_to_try_later(
    backend: Backend, tmp_path: Path
) -> None:
    # The test holds the session's lock throughout: the request's wait must end in the busy
    # answer, whatever the machine's speed.
    app = make_app(backend, tmp_path, ussd={"lock_timeout": 0.05})
    services: Services = app.extensions[EXTENSION_KEY]
    phone = Phone(app.test_client(), "ATUid_busy")
    phone.dial()
    with services.sessions.lock("ussd", "africastalking:ATUid_busy", timeout=5):
        busy = phone.send("2")
    assert busy == (
        "END Huduma haipatikani. Jaribu tena baadaye. / Service indisponible. Réessayez plus "
        "tard. / Service unavailable. Please try later."
    )
    # The gateway's retry of the same request, once the lock is free, goes through.
    assert phone.post_text("2").startswith("CON Kufatilia: signaler")


# End-of-session notifications ----------------------------------------------------------------


def _event(**fields: str) -> dict[str, str]:
    base = {
        "date": "2026-11-24 09:31:05",
        "sessionId": "ATUid_events",
        "serviceCode": "*384*44135#",
        "networkCode": "63001",
        "phoneNumber": "+243812345678",
        "status": "Incomplete",
        "cost": "KES 0.0000",
        "durationInMillis": "41234",
        "hopsCount": "4",
        "input": "2*1*1",
        "lastAppResponse": "CON Accident : quel type ?",
        "errorMessage": "",
    }
    base.update(fields)
    return base


def _logs(services: Services) -> list[UssdSessionLog]:
    with services.db.session() as session:
        return list(session.scalars(select(UssdSessionLog).order_by(UssdSessionLog.id)))


def test_an_end_of_session_notification_is_stored(client: FlaskClient, services: Services) -> None:
    phone = Phone(client, "ATUid_events")
    phone.dial()
    phone.send("2", "1", "1")
    response = client.post(URL + "/events", data=_event())
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "OK\n"
    (log,) = _logs(services)
    assert log.gateway == "africastalking"
    assert log.session_id == "ATUid_events"
    assert log.status == "Incomplete"
    assert (log.hops, log.duration_ms) == (4, 41234)
    assert log.ended_at == datetime(2026, 11, 24, 9, 31, 5, tzinfo=UTC)
    assert log.received_at == services.clock.now()
    assert log.last_node == "sub_accident"
    assert log.last_response == "CON Accident : quel type ?"
    assert log.network_code == "63001"
    assert log.cost == "KES 0.0000"
    assert log.reporter_hash == services.vault.hash("+243812345678")
    for column in UssdSessionLog.__table__.columns:
        assert "812345678" not in str(getattr(log, column.key)), column.key


def test_a_notification_hashes_the_number_as_the_conversation_did(
    backend: Backend, tmp_path: Path
) -> None:
    # A gateway sending national numbers, in another region.
    with built_app(backend, tmp_path, phone_region="KE") as app:
        services: Services = app.extensions[EXTENSION_KEY]
        client = app.test_client()
        Phone(client, "ATUid_cc", number="0739495441").send("2")
        event = _event(sessionId="ATUid_cc", phoneNumber="0739495441")
        assert client.post(URL + "/events", data=event).status_code == 200
        (log,) = _logs(services)
        with services.db.session() as session:
            (reporter,) = session.scalars(select(Reporter))
        assert log.reporter_hash == reporter.phone_hash == services.vault.hash("+254739495441")


@pytest.mark.parametrize("number", ["not-a-number", "+24381234567"])
def test_a_notification_with_an_invalid_number_is_kept_without_a_reporter(
    client: FlaskClient, services: Services, number: str
) -> None:
    # The drop-off figures still count the session; no hash of a number that is no phone.
    response = client.post(URL + "/events", data=_event(phoneNumber=number))
    assert (response.status_code, response.get_data(as_text=True)) == (200, "OK\n")
    (log,) = _logs(services)
    assert (log.session_id, log.status, log.reporter_hash) == ("ATUid_events", "Incomplete", None)


def test_a_notification_for_an_unknown_session_has_no_last_node(
    client: FlaskClient, services: Services
) -> None:
    minimal = {"sessionId": "ATUid_unknown", "status": "Failed"}
    assert client.post(URL + "/events", data=minimal).status_code == 200
    (log,) = _logs(services)
    assert (log.status, log.last_node, log.reporter_hash, log.hops, log.ended_at) == (
        "Failed",
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": ""}, "missing field(s): status"),
        ({"sessionId": ""}, "missing field(s): sessionId"),
        # The same rule as for the USSD requests and SMS: identifiers and codes are never cut.
        ({"sessionId": "s" * 129}, "sessionId is too long (at most 128 characters)"),
        ({"networkCode": "6" * 17}, "networkCode is too long (at most 16 characters)"),
    ],
)
def test_malformed_notifications_get_400(
    client: FlaskClient, services: Services, fields: dict[str, str], reason: str
) -> None:
    response = client.post(URL + "/events", data=_event(**fields))
    text = response.get_data(as_text=True)
    assert response.status_code == 400, text
    assert text.startswith(reason)
    assert "\n" not in text.rstrip("\n")
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(UssdSessionLog)) == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"hopsCount": "four"},
        {"durationInMillis": "12s"},
        {"durationInMillis": "inf"},
        {"hopsCount": "1e400"},
        {"hopsCount": "-3"},
        {"durationInMillis": "99999999999999"},
        {"date": "yesterday"},
        {"date": "2026-13-40 25:00:00"},
        {"date": "0001-01-01T00:00:00+01:00"},
        {"date": "9999-12-31T23:59:59-01:00"},
    ],
    ids=lambda value: str(value)[:40],
)
def test_an_unusable_optional_field_is_left_out_and_logged(
    client: FlaskClient,
    services: Services,
    caplog: pytest.LogCaptureFixture,
    fields: dict[str, str],
) -> None:
    """AT retries anything but a 2xx for hours: the notification is kept without the field."""
    caplog.set_level(logging.WARNING)
    response = client.post(URL + "/events", data=_event(**fields))
    assert (response.status_code, response.get_data(as_text=True)) == (200, "OK\n")
    (log,) = _logs(services)
    (name,) = fields
    column = {"hopsCount": "hops", "durationInMillis": "duration_ms", "date": "ended_at"}[name]
    assert getattr(log, column) is None
    assert log.status == "Incomplete"
    assert any(f"{name} " in r.getMessage() and "ignored" in r.getMessage() for r in caplog.records)


def test_a_notification_keeps_long_free_text_cut_and_reads_either_date_format(
    client: FlaskClient, services: Services
) -> None:
    event = _event(date="2026-11-24T09:31:05Z", errorMessage="E" * 900, lastAppResponse="R" * 600)
    assert client.post(URL + "/events", data=event).status_code == 200
    (log,) = _logs(services)
    assert log.ended_at == datetime(2026, 11, 24, 9, 31, 5, tzinfo=UTC)
    assert (log.error_message, log.last_response) == ("E" * 500, "R" * 500)
