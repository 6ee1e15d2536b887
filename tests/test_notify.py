"""Notifications, against a real SMTP server started here on 127.0.0.1 (aiosmtpd): a report
stored by a USSD hop becomes a job (nothing is sent inside the hop), the worker sends it to the
members who asked, in their language, with a link and nothing a reporter wrote; a forward tells
the receiving organisation; the daily digest lists what arrived since the last one. Each is sent
once, however often its job runs."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from notify import send, sweep
from notify.queue import notify_queue
from outbox.worker import run
from services import EXTENSION_KEY, Services
from storage import operations, queries
from storage.models import Report, User

from .conftest import Backend
from .phone import TO_CONFIRM_FR, Phone
from .sms_support import outbox_rows
from .web_support import FAST_ARGON2, People, csrf_token, login, make_report, post_form

BASE_URL = "https://kufatilia.example.org"
REPORTER = "+243812000777"
MEMBER_PHONE = "+243997000001"


@dataclass
class Mailbox:
    """What the SMTP server received: (envelope recipients, parsed message) per message."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for rcpt, message in self.received if address in rcpt]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def app(backend: Backend, tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Flask:
    from .conftest import make_app

    return make_app(
        backend,
        tmp_path,
        web={"argon2": FAST_ARGON2},
        notify={
            "email_backend": "smtp",
            "smtp_port": mailbox[1],
            "base_url": BASE_URL,
        },
    )


def prefer(services: Services, user: User, **choice: Any) -> None:
    with services.db.transaction() as session:
        found = session.get(User, user.id)
        assert found is not None
        operations.save_preferences(
            session,
            found,
            email=choice.get("email", True),
            sms=choice.get("sms", False),
            frequency=choice.get("frequency", "immediate"),
            phone=choice.get("phone"),
            vault=services.vault,
            now=services.clock.now(),
        )


@pytest.fixture
def network(services: Services) -> dict[str, Any]:
    people = People(services)
    bunia = people.org("CSO Bunia", provinces=["CD-IT"])
    goma = people.org("CSO Goma", provinces=["CD-NK"])
    coordination = people.org("Coordination")
    found: dict[str, Any] = {"bunia": bunia, "goma": goma, "coordination": coordination}
    found["amani"] = people.user("amani@bunia.example", bunia, "analyst", language="fr")
    found["quiet"] = people.user("quiet@bunia.example", bunia, "analyst")  # asked for nothing
    found["baraka"] = people.user("baraka@goma.example", goma, "org_admin", language="en")
    found["coordinator"] = people.user("coord@network.example", coordination, "coordinator")
    prefer(services, found["amani"])
    prefer(services, found["baraka"], sms=True, phone=MEMBER_PHONE)
    return found


def work(app: Flask) -> None:
    """What `flask worker --burst` does: send everything queued, then stop."""
    run(app, burst=True)


def submit_by_ussd(client: FlaskClient) -> str:
    phone = Phone(client, "ATUid_notify", number=REPORTER)
    phone.send(*TO_CONFIRM_FR)
    end = phone.send("1")
    assert end.startswith("END Merci"), end
    return end


def test_a_report_from_a_ussd_hop_reaches_the_members_who_asked_after_the_hop(
    app: Flask,
    services: Services,
    client: FlaskClient,
    mailbox: tuple[Mailbox, int],
    network: dict[str, Any],
) -> None:
    box, _port = mailbox
    submit_by_ussd(client)
    # The hop sent nothing and queued nothing: the report waits for the worker's sweep.
    assert box.received == []
    assert notify_queue(services).count == 0
    with services.db.session() as session:
        (report,) = queries.recent_reports(session)
        assert session.get(Report, report.id).notify_pending  # type: ignore[union-attr]
    work(app)
    # Ituri: Bunia's analyst who asked for e-mail; not her colleague who asked for nothing, not
    # Goma (another province).
    assert [rcpt for rcpt, _ in box.received] == [["amani@bunia.example"]]
    (message,) = box.to("amani@bunia.example")
    body = message.get_content()
    assert message["Subject"].startswith(f"[Kufatilia] Nouveau rapport {report.reference}")
    assert "Accident : Éboulement" in message["Subject"] or "Accident" in message["Subject"]
    assert f"{BASE_URL}/reports/{report.reference}" in body
    assert "Reçue" in body or "Reçu" in body  # French, the member's language
    # Nothing the reporter typed, nothing of the reporter.
    for secret in ("Mongbwalu", "Deux blessés", REPORTER, REPORTER[4:], report.reporter_hash):
        assert secret not in body and secret not in message["Subject"]
    # The sweep again finds nothing to announce, and sending again (a second worker that
    # claimed it too, say) tells nobody twice.
    work(app)
    assert send.new_report(services, report.id) == 0
    assert len(box.received) == 1


def test_a_forward_tells_the_receiving_organisation(
    app: Flask,
    services: Services,
    mailbox: tuple[Mailbox, int],
    network: dict[str, Any],
) -> None:
    box, _port = mailbox
    report = make_report(services, province="CD-IT", territory="CD5405", site="Secret site")
    coordinator = app.test_client()
    assert login(coordinator, "coord@network.example").status_code == 302
    page = f"/reports/{report.reference}"
    data = {"organisation": network["goma"].id, "message": "Dans votre zone, merci."}
    assert post_form(coordinator, page, page + "/forward", data).status_code == 302
    work(app)
    (message,) = box.to("baraka@goma.example")
    assert message["Subject"] == f"[Kufatilia] Report {report.reference} forwarded to CSO Goma"
    body = message.get_content()
    assert "Coordination forwarded report" in body and "Dans votre zone, merci." in body
    assert f"{BASE_URL}/reports/{report.reference}" in body and "Secret site" not in body
    # Baraka asked for SMS too: one through the outbox, to the number he gave, with the link.
    (sms,) = outbox_rows(services, MEMBER_PHONE)
    assert sms.text.startswith(f"Kufatilia: report {report.reference} forwarded to CSO Goma.")
    assert f"{BASE_URL}/reports/{report.reference}" in sms.text
    # Bunia's analyst hears of the new report (her area), not of a forward to Goma.
    assert all("forwarded" not in m["Subject"] for m in box.to("amani@bunia.example"))


def test_the_daily_digest_lists_what_arrived_since_the_last(
    app: Flask,
    services: Services,
    mailbox: tuple[Mailbox, int],
    network: dict[str, Any],
) -> None:
    box, _port = mailbox
    prefer(services, network["amani"], frequency="daily")
    clock = services.clock
    assert clock.fixed is not None
    from datetime import timedelta

    clock.fixed += timedelta(hours=1)
    first = make_report(services, province="CD-IT", territory="CD5405")
    second = make_report(services, province="CD-IT", territory="CD5405")
    make_report(services, province="CD-SK")  # not Bunia's area
    clock.fixed += timedelta(hours=1)
    result = app.test_cli_runner().invoke(args=["notify", "digest"])
    assert result.exit_code == 0, result.output
    assert "1 member(s) got a digest" in result.output
    (digest,) = box.to("amani@bunia.example")
    assert digest["Subject"] == "[Kufatilia] 2 nouveaux rapports dans votre zone"
    body = digest.get_content()
    assert first.reference in body and second.reference in body
    assert f"{BASE_URL}/reports?received_from=" in body
    # Run again (cron twice, or the next day with nothing new): nothing more.
    clock.fixed += timedelta(hours=1)
    app.test_cli_runner().invoke(args=["notify", "digest"])
    assert len(box.to("amani@bunia.example")) == 1
    # Immediate notifications are not for digest readers.
    work(app)
    assert len(box.to("amani@bunia.example")) == 1


def test_preferences_are_chosen_on_the_account_page(
    app: Flask, services: Services, network: dict[str, Any]
) -> None:
    client = app.test_client()
    assert login(client, "quiet@bunia.example").status_code == 302
    url = "/account/notifications"
    assert client.get("/account").get_data(as_text=True).count(url) == 1
    refused = post_form(client, url, url, {"sms": "y", "frequency": "immediate"})
    assert refused.status_code == 400 and "SMS needs a phone number" in refused.get_data(
        as_text=True
    )
    refused = post_form(client, url, url, {"sms": "y", "phone": "12", "frequency": "daily"})
    assert refused.status_code == 400
    saved = post_form(
        client, url, url, {"email": "y", "sms": "y", "phone": "0997 000 002", "frequency": "daily"}
    )
    assert saved.status_code == 302
    with services.db.session() as session:
        preference = queries.preference_of(session, network["quiet"].id)
        assert preference is not None
        assert (preference.email, preference.sms, preference.frequency) == (True, True, "daily")
        assert preference.phone_hash == services.vault.hash("+243997000002")
        assert "997000002" not in (preference.phone_encrypted or "")
    page = client.get(url).get_data(as_text=True)
    assert "997000002" not in page and 'id="phone-stored"' in page
    # Without a new number, the stored one stays.
    kept = post_form(client, url, url, {"sms": "y", "frequency": "immediate"})
    assert kept.status_code == 302
    assert csrf_token(client.get(url))


def test_a_member_outside_the_area_or_expertise_hears_nothing(
    app: Flask, services: Services, mailbox: tuple[Mailbox, int], network: dict[str, Any]
) -> None:
    box, _port = mailbox
    people = People(services)
    labour = people.org("CSO Enfants", provinces=["CD-IT"], categories=["labour"])
    specialist = people.user("labour@enfants.example", labour, "analyst")
    prefer(services, specialist)
    accident = make_report(services, province="CD-IT", territory="CD5405")
    child = make_report(
        services,
        province="CD-IT",
        territory="CD5405",
        category="labour",
        subcategory="labour.child_under_15",
    )
    with app.app_context():  # what the jobs do (make_report stores without a channel's signal)
        for report in (accident, child):
            send.new_report(services, report.id)
    # The child-labour CSO hears of the child, not of the accident; Bunia (no expertise listed:
    # every category) of both.
    (only,) = box.to("labour@enfants.example")
    assert child.reference in only["Subject"]
    assert len(box.to("amani@bunia.example")) == 2
    assert accident.reference in box.to("amani@bunia.example")[0]["Subject"]


def mail_away(backend: Backend, tmp_path: Path, port: int) -> tuple[Flask, Services]:
    """An app whose SMTP server is ``port`` (nothing listening there yet), and two Bunia
    analysts who want new reports at once: one by e-mail, one by SMS."""
    from .conftest import make_app

    app = make_app(
        backend,
        tmp_path,
        web={"argon2": FAST_ARGON2},
        notify={"email_backend": "smtp", "smtp_port": port, "smtp_timeout": 2},
    )
    services: Services = app.extensions[EXTENSION_KEY]
    people = People(services)
    bunia = people.org("CSO Bunia", provinces=["CD-IT"])
    prefer(services, people.user("mail@bunia.example", bunia, "analyst"))
    prefer(
        services,
        people.user("sms@bunia.example", bunia, "analyst"),
        email=False,
        sms=True,
        phone=MEMBER_PHONE,
    )
    return app, services


def test_an_smtp_server_away_fails_the_job_and_spares_the_others(
    backend: Backend, tmp_path: Path
) -> None:
    app, services = mail_away(backend, tmp_path, free_port())
    report = make_report(services, province="CD-IT", territory="CD5405")
    with app.app_context(), pytest.raises(send.NotSent, match="1 member"):
        send.new_report(services, report.id)
    assert len(outbox_rows(services, MEMBER_PHONE)) == 1  # the SMS member was told all the same
    with services.db.session() as session:
        mail_user = queries.user_by_email(session, "mail@bunia.example")
        assert mail_user is not None
        assert not queries.was_notified(
            session, mail_user.id, "new_report", f"report:{report.id}", "email"
        )


def test_the_sweep_tries_a_failed_member_again_and_never_announces_an_old_report(
    backend: Backend, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there yet: the mail server is away
    app, services = mail_away(backend, tmp_path, port)
    report = make_report(services, province="CD-IT", territory="CD5405")
    old = make_report(services, province="CD-IT", territory="CD5405")
    with services.db.transaction() as session:
        stale = session.get(Report, old.id)
        assert stale is not None
        stale.created_at = services.clock.now() - sweep.LATE - timedelta(minutes=1)

    def pending(report_id: int) -> bool:
        with services.db.session() as session:
            row = session.get(Report, report_id)
            assert row is not None
            return row.notify_pending

    with app.app_context():
        assert sweep.announce_new_reports(services) == 1  # the SMS queued; the e-mail failed
    assert pending(report.id)  # put back for the e-mail member
    assert not pending(old.id)  # claimed, and not announced: a day late is not news
    assert len(outbox_rows(services, MEMBER_PHONE)) == 1

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()  # the mail server is back
    try:
        with app.app_context():
            assert sweep.announce_new_reports(services) == 1  # the e-mail, and only that
            assert sweep.announce_new_reports(services) == 0  # nothing left
    finally:
        controller.stop()
    assert [rcpt for rcpt, _ in box.received] == [["mail@bunia.example"]]
    assert report.reference in box.received[0][1]["Subject"]
    assert not pending(report.id)
    assert len(outbox_rows(services, MEMBER_PHONE)) == 1  # the SMS member was not told twice
