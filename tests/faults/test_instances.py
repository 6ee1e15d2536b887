"""Several app instances on one Redis and one database, over real HTTP: a session whose hops
alternate between two instances completes as if it had one, on USSD and on SMS; and 30 copies of
one hop arriving at once (a gateway's retries, two instances racing) change the state once and
store one report."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from services import EXTENSION_KEY, Services
from storage.models import Report

from ..conftest import Backend, make_app
from ..phone import TO_CONFIRM_FR, check_reply
from ..sms_support import incoming_form, outbox_rows
from .conftest import close_app

USSD = "/ussd/africastalking"
SMS = "/sms/africastalking/incoming"


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def two_instances(backend: Backend, tmp_path: Path) -> Iterator[tuple[Services, list[str]]]:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"  # one Redis namespace for both, as in production
    apps = [make_app(backend, tmp_path / f"app{n}", redis_prefix=prefix) for n in (1, 2)]
    services: Services = apps[0].extensions[EXTENSION_KEY]
    with serving(apps[0]) as first, serving(apps[1]) as second:
        yield services, [first, second]
    # RQ's keys (not under the prefix) go with the backend fixture's clean-up.
    keys = list(services.redis.scan_iter(match=prefix + "*"))
    if keys:
        services.redis.delete(*keys)
    for app in apps:
        close_app(app)


def post(base: str, path: str, form: dict[str, str]) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(base + path, data=data, timeout=15) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _reports(services: Services) -> list[Report]:
    with services.db.session() as session:
        return list(session.scalars(select(Report)))


def _ussd_form(session_id: str, inputs: list[str]) -> dict[str, str]:
    return {
        "sessionId": session_id,
        "serviceCode": "*384*44135#",
        "phoneNumber": "+243812340001",
        "networkCode": "63001",
        "text": "*".join(inputs),
    }


def test_a_ussd_session_alternating_between_instances(
    two_instances: tuple[Services, list[str]],
) -> None:
    services, bases = two_instances
    inputs: list[str] = []
    body = ""
    for hop, answer in enumerate([None, *TO_CONFIRM_FR, "1"]):
        if answer is not None:
            inputs.append(answer)
        status, body = post(bases[hop % 2], USSD, _ussd_form("ATUid_alt", inputs))
        assert status == 200, body
        check_reply(body)
    (report,) = _reports(services)
    assert body.startswith("END Merci !") and report.reference in body
    assert (report.category, report.subcategory, report.territory, report.site) == (
        "accident",
        "accident.collapse",
        "Djugu",
        "Mongbwalu",
    )


def test_an_sms_conversation_alternating_between_instances(
    two_instances: tuple[Services, list[str]],
) -> None:
    services, bases = two_instances
    phone = "+243822000777"
    messages = ["ALERTE", "1", "1", "1", "1", "2", "Mongbwalu", "3", "Deux blesses", "1"]
    replies: list[str] = []
    seen = 0
    for n, text in enumerate(messages):
        status, body = post(bases[n % 2], SMS, incoming_form(text, f"ATXid_alt_{n}", phone))
        assert (status, body) == (200, "OK\n")
        rows = outbox_rows(services, phone, seen)
        assert len(rows) == 1, [row.text for row in rows]
        seen = rows[0].id
        replies.append(rows[0].text)
    (report,) = _reports(services)
    assert report.channel == "sms"
    assert report.reference in replies[-1]
    assert (report.category, report.territory, report.site) == ("accident", "Djugu", "Mongbwalu")


def _thirty_at_once(bases: list[str], form: dict[str, str]) -> list[tuple[int, str]]:
    barrier = threading.Barrier(30)
    answers: list[tuple[int, str]] = []

    def send(n: int) -> None:
        barrier.wait(timeout=10)
        answers.append(post(bases[n % 2], USSD, form))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert len(answers) == 30
    return answers


def test_thirty_copies_of_a_hop_and_of_the_confirmation(
    two_instances: tuple[Services, list[str]],
) -> None:
    services, bases = two_instances
    inputs = ["2", "1"]
    post(bases[0], USSD, _ussd_form("ATUid_30", []))
    post(bases[1], USSD, _ussd_form("ATUid_30", inputs[:1]))
    copies = _thirty_at_once(bases, _ussd_form("ATUid_30", inputs))
    assert {status for status, _ in copies} == {200}
    # A copy that waited past the lock timeout is told to try later; every other one gets the
    # one answer, and the state moved once: the walk goes on from the category question.
    bodies = {body for _, body in copies}
    assert any(body.startswith("CON Que s'est-il passé ?") for body in bodies), bodies
    assert all(b.startswith(("CON Que s'est-il passé ?", "END ")) for b in bodies), bodies
    for answer in TO_CONFIRM_FR[2:]:
        inputs.append(answer)
        status, body = post(bases[len(inputs) % 2], USSD, _ussd_form("ATUid_30", inputs))
        assert status == 200, body
    inputs.append("1")
    finals = _thirty_at_once(bases, _ussd_form("ATUid_30", inputs))
    assert {status for status, _ in finals} == {200}
    (report,) = _reports(services)
    assert report.territory == "Djugu"
    thanked = [body for _, body in finals if body.startswith("END Merci !")]
    assert thanked and all(report.reference in body for body in thanked)
