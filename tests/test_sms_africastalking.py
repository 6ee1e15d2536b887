"""The Africa's Talking SMS adapter, payload by payload: the real shapes from protocols.md first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.africastalking.gateway import parse_date
from channels.africastalking.sms import STATUSES
from services import Services
from storage import operations
from storage.models import OutboxMessage, OutboxStatus, SmsIncoming

from .conftest import Backend, make_app
from .sms_support import DELIVERY, INCOMING, incoming_form, outbox_row, outbox_rows

# The captured incoming payload (no networkCode: AT leaves it out for some routes).
REAL_INCOMING = (
    "linkId=03090445075804249226&text=Msg&to=21512&id=ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3"
    "&date=2017-05-03T06%3A04%3A45Z&from=%2B254791541111"
)
REAL_DELIVERY = "id=ATXid_dda018a640edfcc5d2ce455de3e4a6e7&status=Success"
FORM = "application/x-www-form-urlencoded"


def _count(services: Services, model: type[SmsIncoming] | type[OutboxMessage]) -> int:
    from sqlalchemy import func, select

    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_captured_incoming_payload_is_answered_through_the_outbox(
    client: FlaskClient, services: Services
) -> None:
    response = client.post(INCOMING, data=REAL_INCOMING, content_type=FORM)
    assert (response.status_code, response.get_data(as_text=True)) == (200, "OK\n")
    (row,) = outbox_rows(services, "+254791541111")
    assert row.status == OutboxStatus.QUEUED and row.sender == "21512"
    assert row.text.startswith("Tuma RIPOTI")  # "Msg" is no keyword: the trilingual help
    assert (row.encoding, row.segments) == ("GSM-7", 1)
    with services.db.session() as session:
        seen = session.query(SmsIncoming).one()
    assert seen.message_id == "ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3"
    assert seen.sent_at == datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC)
    assert seen.network_code is None
    assert "254791541111" not in row.phone_encrypted and len(row.phone_hash) == 64


def test_a_retried_incoming_id_changes_nothing(client: FlaskClient, services: Services) -> None:
    first = client.post(INCOMING, data=incoming_form("RIPOTI", "ATXid_retry"))
    again = client.post(INCOMING, data=incoming_form("RIPOTI", "ATXid_retry"))
    other_text = client.post(INCOMING, data=incoming_form("1", "ATXid_retry"))
    assert first.get_data(as_text=True) == "OK\n"
    assert again.get_data(as_text=True) == other_text.get_data(as_text=True) == "OK duplicate\n"
    assert _count(services, OutboxMessage) == 1 and _count(services, SmsIncoming) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"from": ""}, "missing field(s): from"),
        ({"to": None}, "missing field(s): to"),
        ({"id": " "}, "missing field(s): id"),
        ({"date": None}, "missing field(s): date"),
        ({"text": None}, "missing field(s): text"),
        ({"date": "yesterday"}, "date must be"),
        ({"date": "03/05/2017 06:04"}, "date must be"),
        # Dates whose UTC time does not exist were an OverflowError, a 500.
        ({"date": "0001-01-01T00:00:00+01:00"}, "date must be"),
        ({"date": "9999-12-31T23:59:59-01:00"}, "date must be"),
        ({"id": "x" * 101}, "id is too long (at most 100 characters)"),
        ({"to": "9" * 40}, "to is too long (at most 32 characters)"),
        # The same rule as on USSD: an over-long code is refused, never silently cut.
        ({"networkCode": "6" * 17}, "networkCode is too long (at most 16 characters)"),
        ({"from": "+243" + "8" * 40}, "from is too long (at most 32 characters)"),
        ({"text": "1" * 2001}, "text is too long (at most 2000 characters)"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_a_malformed_incoming_request_is_a_400_with_its_reason(
    client: FlaskClient, services: Services, change: dict[str, str | None], reason: str
) -> None:
    form: dict[str, str] = {}
    for key, value in {**incoming_form("RIPOTI", "ATXid_bad"), **change}.items():
        if value is not None:
            form[key] = value
    response = client.post(INCOMING, data=form)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert body.startswith(reason) and body.count("\n") == 1
    assert _count(services, SmsIncoming) == 0


@pytest.mark.parametrize("sender", ["Vodacom", "hello", "+24381234567", "1234567890"])
def test_a_sender_that_is_no_phone_is_ignored_with_a_200(
    client: FlaskClient, services: Services, sender: str, caplog: pytest.LogCaptureFixture
) -> None:
    # AT retries anything but a 200 for 12 hours; no retry can make this sender answerable.
    form = incoming_form("RIPOTI", "ATXid_nophone", phone=sender)
    with caplog.at_level("WARNING"):
        response = client.post(INCOMING, data=form)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "OK ignored: from is not a valid phone number\n"
    assert _count(services, SmsIncoming) == 0 and _count(services, OutboxMessage) == 0
    assert "ignored" in caplog.text and sender not in caplog.text.replace("Vodacom", "")


def test_an_empty_sms_is_welcome_not_an_error(client: FlaskClient, services: Services) -> None:
    response = client.post(INCOMING, data=incoming_form("", "ATXid_empty"))
    assert response.status_code == 200
    assert outbox_rows(services)[0].text.startswith("Tuma RIPOTI")


def test_json_is_not_what_at_sends(client: FlaskClient) -> None:
    response = client.post(INCOMING, json=incoming_form("RIPOTI", "ATXid_json"))
    assert response.status_code == 400
    assert "form-encoded" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2017-05-03T06:04:45Z", datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC)),
        ("2017-05-03 06:04:45", datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC)),
        ("2017-05-03T08:04:45+02:00", datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC)),
    ],
)
def test_both_date_formats(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == expected


def _sentoutbox_row(services: Services, gateway_id: str) -> int:
    """A message as the worker leaves it after AT accepted it."""
    now = services.clock.now()
    with services.db.transaction() as session:
        row = operations.queue_outbox_message(
            session,
            operations.NewOutboxMessage(
                idempotency_key=f"test:{gateway_id}",
                channel="sms",
                phone="+243812345678",
                text="hello",
                encoding="GSM-7",
                segments=1,
            ),
            vault=services.vault,
            now=now,
        )
        claim = operations.claim_outbox_message(session, row.id, now)
        assert claim is not None
        operations.mark_outbox_sent(
            session,
            claim,
            now=now,
            backend="africastalking",
            gateway_message_id=gateway_id,
            gateway_status="Success",
            cost="CDF 50",
        )
        return row.id


def test_the_captured_delivery_report_marks_the_message_delivered(
    client: FlaskClient, services: Services
) -> None:
    row_id = _sentoutbox_row(services, "ATXid_dda018a640edfcc5d2ce455de3e4a6e7")
    response = client.post(DELIVERY, data=REAL_DELIVERY, content_type=FORM)
    assert (response.status_code, response.get_data(as_text=True)) == (200, "OK\n")
    row = outbox_row(services, row_id)
    assert (row.status, row.gateway_status) == (OutboxStatus.DELIVERED, "Success")
    assert row.delivered_at is not None


@pytest.mark.parametrize(("status", "ours"), sorted(STATUSES.items()))
def test_every_at_status_maps_to_ours(
    client: FlaskClient, services: Services, status: str, ours: str
) -> None:
    row_id = _sentoutbox_row(services, "ATXid_map")
    form = {
        "id": "ATXid_map",
        "status": status,
        "phoneNumber": "+243812345678",
        "networkCode": "63001",
        "retryCount": "0",
    }
    if ours == OutboxStatus.FAILED:
        form["failureReason"] = "UserInBlackList"
    response = client.post(DELIVERY, data=form)
    assert response.status_code == 200
    row = outbox_row(services, row_id)
    assert (row.status, row.gateway_status) == (ours, status)
    assert row.failure_reason == ("UserInBlackList" if ours == OutboxStatus.FAILED else None)


def test_delivery_reports_out_of_order_never_undo_delivered(
    client: FlaskClient, services: Services
) -> None:
    row_id = _sentoutbox_row(services, "ATXid_order")
    for status in ("Buffered", "Success", "Sent", "Failed"):
        assert (
            client.post(DELIVERY, data={"id": "ATXid_order", "status": status}).status_code == 200
        )
    assert outbox_row(services, row_id).status == OutboxStatus.DELIVERED


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"id": "ATXid_1", "status": "Delivered"}, "unknown status 'Delivered'"),
        ({"id": "ATXid_1", "status": "success"}, "unknown status 'success'"),
        ({"status": "Success"}, "missing field(s): id"),
        ({"id": "ATXid_1"}, "missing field(s): status"),
    ],
)
def test_a_malformed_delivery_report_is_a_400(
    client: FlaskClient, form: dict[str, str], reason: str
) -> None:
    response = client.post(DELIVERY, data=form)
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith(reason)


def test_a_report_for_someone_elses_message_is_acknowledged(client: FlaskClient) -> None:
    response = client.post(DELIVERY, data={"id": "ATXid_not_ours", "status": "Success"})
    assert (response.status_code, response.get_data(as_text=True)) == (200, "OK unknown id\n")


@pytest.fixture
def guarded(backend: Backend, tmp_path: Path) -> Flask:
    return make_app(backend, tmp_path, gateways={"africastalking": {"callback_token": "s3cret"}})


@pytest.mark.parametrize("path", [INCOMING, DELIVERY])
def test_a_callback_token_guards_both_urls(guarded: Flask, path: str) -> None:
    client = guarded.test_client()
    form = (
        incoming_form("RIPOTI", "ATXid_tok") if path == INCOMING else {"id": "x", "status": "Sent"}
    )
    assert client.post(path, data=form).status_code == 403
    assert client.post(path + "?token=wrong", data=form).status_code == 403
    assert client.post(path + "?token=s3cret", data=form).status_code == 200


def test_a_database_failure_is_a_503_so_that_at_retries(
    client: FlaskClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import operations

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(operations, "record_sms_incoming", broken)
    response = client.post(INCOMING, data=incoming_form("RIPOTI", "ATXid_down"))
    assert response.status_code == 503
    monkeypatch.undo()
    # Nothing was stored, so AT's retry is handled as the first copy.
    assert client.post(INCOMING, data=incoming_form("RIPOTI", "ATXid_down")).status_code == 200
    assert len(outbox_rows(services)) == 1
