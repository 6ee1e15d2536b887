"""Hostile or broken input at the gateway endpoints: nothing may make a conversation impossible
to finish, lose a gateway's callback, or turn into a 5xx that the gateway retries for hours."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from services import Services
from storage.models import OutboxMessage, Report, SmsIncoming

from .phone import TO_CONFIRM_FR, URL, Phone
from .sms_support import DELIVERY, INCOMING, Conversation, incoming_form
from .test_sms_africastalking import _sentoutbox_row

FORM = "application/x-www-form-urlencoded"


def _reports(services: Services) -> list[Report]:
    with services.db.session() as session:
        return list(session.scalars(select(Report)))


def test_a_nul_in_a_typed_answer_cannot_block_the_report(
    client: FlaskClient, services: Services
) -> None:
    # On PostgreSQL a NUL in any stored text fails the commit: every confirmation, for ever.
    phone = Phone(client, "ATUid_nul")
    phone.dial()
    phone.send(*TO_CONFIRM_FR[:-1], "deux\x00blessés\x07")
    done = phone.send("1")
    (report,) = _reports(services)
    assert done.startswith("END Merci !") and report.reference in done
    assert report.details == "deuxblessés"


def test_a_nul_in_an_sms_id_or_shortcode_is_served_not_a_permanent_503(
    client: FlaskClient, services: Services
) -> None:
    form = incoming_form("RIPOTI", "ATXid_\x00nul", to="215\x0012")
    first = client.post(INCOMING, data=form)
    again = client.post(INCOMING, data=form)  # AT's retry: the same message, recognised
    assert (first.status_code, first.get_data(as_text=True)) == (200, "OK\n")
    assert (again.status_code, again.get_data(as_text=True)) == (200, "OK duplicate\n")
    with services.db.session() as session:
        (incoming,) = session.scalars(select(SmsIncoming))
    assert (incoming.message_id, incoming.shortcode) == ("ATXid_nul", "21512")


def test_a_nul_in_an_sms_answer_cannot_block_the_report(
    client: FlaskClient, services: Services
) -> None:
    talk = Conversation(client, services, phone="+243822000555")
    talk.send("ALERTE")
    for answer in ("1", "1", "1", "1", "2", "Mongbwalu", "3", "trois\x00blessés"):
        talk.send(answer)
    assert "Merci" in talk.send("1")
    (report,) = _reports(services)
    assert report.details == "troisblessés"


def test_a_latin1_body_is_read_not_lost(client: FlaskClient) -> None:
    """A gateway that writes Latin-1 rather than UTF-8: before, the whole form was lost (400
    'missing fields'); now the request is served, its text read as Latin-1."""
    phone = Phone(client, "ATUid_latin1")
    phone.dial()
    phone.send(*TO_CONFIRM_FR[:6])  # ... up to the site question
    body = (
        "sessionId=ATUid_latin1&phoneNumber=%2B243812345678&networkCode=63001&text="
        + "*".join(phone.inputs)
        + "*Mine de Kamituga \xe0 c\xf4t\xe9"
    ).encode("latin-1")
    response = client.post(URL, data=body, content_type=FORM)
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("CON Quand ")


def test_an_unreadable_retry_count_keeps_the_delivery_status(
    client: FlaskClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    row_id = _sentoutbox_row(services, "ATXid_count")
    response = client.post(
        DELIVERY, data={"id": "ATXid_count", "status": "Success", "retryCount": "abc"}
    )
    assert (response.status_code, response.get_data(as_text=True)) == (200, "OK\n")
    with services.db.session() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None and row.status == "delivered"
    assert any("retryCount" in r.getMessage() for r in caplog.records)


def test_an_alphanumeric_sender_is_acknowledged_and_nothing_is_stored(
    client: FlaskClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    response = client.post(INCOMING, data=incoming_form("Bonus!", "ATXid_mtn", phone="MTN"))
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("OK ignored")
    with services.db.session() as session:
        assert list(session.scalars(select(SmsIncoming))) == []
    assert any("not a valid phone number" in r.getMessage() for r in caplog.records)
