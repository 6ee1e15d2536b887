"""Rate limits per phone (``rate_limits``): new USSD sessions per hour, reports per day, SMS per
hour. Over a limit the reporter hears why in their language, nothing is stored, the refusal is
counted in ``kufatilia_rate_limited_total`` and logged once per phone and window, never with the
number. (The over-limit screens and SMS in each language:
``tests/transcripts/{ussd,sms}/limits_*.yaml``.)"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func, select

from channels.ussd import MSG_TRY_AGAIN
from ops.metrics import collected
from services import EXTENSION_KEY, Services
from storage import operations
from storage.models import Report, SmsIncoming

from .conftest import Backend, make_app
from .phone import TO_CONFIRM_FR, Phone
from .sms_support import INCOMING, Conversation, incoming_form, outbox_rows

NUMBER = "+243812000777"
SESSIONS_FR = "END Désolé, trop de sessions depuis ce téléphone. Réessayez plus tard."
REPORTS_FR = (
    "END Merci. Ce téléphone a envoyé autant d'alertes que nous pouvons en recevoir en un jour. "
    "Réessayez demain."
)


def _services(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


def _reports(services: Services) -> int:
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Report)) or 0)


def _limited(app: Flask) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for family in collected(app):
        for sample in family.samples:
            if sample.name == "kufatilia_rate_limited_total":
                found[(sample.labels["channel"], sample.labels["limit"])] = sample.value
    return found


def _app(backend: Backend, tmp_path: Path, **limits: int) -> Flask:
    settings = {"ussd_sessions_per_hour": 0, "reports_per_day": 0, "sms_per_hour": 0, **limits}
    return make_app(backend, tmp_path, rate_limits=settings)


def _session_keys(services: Services) -> list[bytes]:
    return list(services.redis.scan_iter(match=services.settings.redis_prefix + "ussd:s:*"))


def test_new_sessions_past_the_hourly_limit_hear_why_in_their_language(
    backend: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(backend, tmp_path, ussd_sessions_per_hour=3)
    services, client = _services(app), app.test_client()
    first = Phone(client, "ATUid_lim_0", NUMBER)
    first.dial()
    first.send("2")  # French, remembered
    for n in (1, 2):
        assert Phone(client, f"ATUid_lim_{n}", NUMBER).dial().startswith("CON ")
    kept = _session_keys(services)
    caplog.set_level(logging.WARNING)
    for n in (3, 4, 5):
        assert Phone(client, f"ATUid_lim_{n}", NUMBER).dial() == SESSIONS_FR
    # Nothing stored for the refused sessions, nothing locked: their ids can never continue.
    assert _session_keys(services) == kept
    assert Phone(client, "ATUid_lim_3", NUMBER).send("1") == SESSIONS_FR
    # Another phone is not touched by this one's limit.
    assert Phone(client, "ATUid_other", "+243812000778").dial().startswith("CON Lugha")
    refusals = [r for r in caplog.records if "over its limit" in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in refusals]
    line = refusals[0].getMessage()
    assert "ussd_sessions_per_hour" in line
    assert "812000777" not in caplog.text and "812 000 777" not in caplog.text
    assert _limited(app) == {("ussd", "sessions"): 4.0}
    # The next clock hour opens again.
    assert services.clock.fixed is not None
    services.clock.fixed += timedelta(hours=1)
    assert Phone(client, "ATUid_lim_6", NUMBER).dial().startswith("CON Kufatilia")


def test_a_phone_of_unknown_language_hears_the_limit_in_every_language_on_one_screen(
    backend: Backend, tmp_path: Path
) -> None:
    app = _app(backend, tmp_path, ussd_sessions_per_hour=1)
    client = app.test_client()
    assert Phone(client, "ATUid_any_1", NUMBER).dial().startswith("CON Lugha")
    # Phone.dial checks the screen limit (160 GSM-7 characters): the whole message, not cut.
    assert Phone(client, "ATUid_any_2", NUMBER).dial() == (
        "END Vikao vingi mno kutoka simu hii. Jaribu tena baadaye. / "
        "Trop de sessions de ce téléphone. Réessayez plus tard. / "
        "Too many sessions from this phone. Try later."
    )


def test_the_dial_1_1_loop_through_the_resume_offer_stops_at_the_daily_reports(
    backend: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 10: a loop that dialled and pressed 1, 1, chaining through the resume offer and the
    # received notice, stored 132 junk reports. With reports_per_day 3 it stores three.
    app = _app(backend, tmp_path, reports_per_day=3)
    services, client = _services(app), app.test_client()
    phone = Phone(client, "ATUid_junk_0", NUMBER)
    phone.dial()
    assert phone.send(*TO_CONFIRM_FR).startswith("CON ")
    assert phone.send("1").startswith("END ")  # the first report, sent
    caplog.set_level(logging.WARNING)
    screens: list[str] = []
    for n in range(1, 60):
        looping = Phone(client, f"ATUid_junk_{n}", NUMBER)
        screens.append(looping.dial())
        for answer in ("1", "1"):
            if not screens[-1].startswith("END "):
                screens.append(looping.send(answer))
    assert _reports(services) == 3
    assert screens[-1] == REPORTS_FR
    # Once the limit is reached, the next dial says so at once: no walk through a report first.
    assert Phone(client, "ATUid_junk_99", NUMBER).dial() == REPORTS_FR
    refusals = [r for r in caplog.records if "over its limit" in r.getMessage()]
    assert len(refusals) == 1 and "reports_per_day" in refusals[0].getMessage()
    assert _limited(app)[("ussd", "reports")] >= 30
    # A new local day (Africa/Lubumbashi) opens again.
    assert services.clock.fixed is not None
    services.clock.fixed += timedelta(days=1)
    assert Phone(client, "ATUid_junk_100", NUMBER).dial().startswith("CON ")


def test_a_report_confirmed_past_the_limit_is_not_stored_nor_offered_again(
    backend: Backend, tmp_path: Path
) -> None:
    # Two sessions walk at once; the first stores the last report the day allows, and the
    # second, confirmed after it, hears the limit: nothing stored, nothing left to resume.
    app = _app(backend, tmp_path, reports_per_day=1)
    services, client = _services(app), app.test_client()
    first, second = Phone(client, "ATUid_a", NUMBER), Phone(client, "ATUid_b", NUMBER)
    first.dial()
    first.send("2")  # French: both sessions open on the main menu
    second.dial()
    assert second.send(*TO_CONFIRM_FR[1:]).startswith("CON ")
    assert first.send(*TO_CONFIRM_FR[1:]).startswith("CON ")
    assert first.send("1").startswith("END ")
    assert second.send("1") == REPORTS_FR
    assert second.post_text(second.text) == REPORTS_FR  # a gateway's repeat: the same answer
    assert _reports(services) == 1
    # Nothing to resume: the next dial (a new day) opens on the main menu.
    assert services.clock.fixed is not None
    services.clock.fixed += timedelta(days=1)
    again = Phone(client, "ATUid_c", NUMBER).dial()
    assert again.startswith("CON Kufatilia") and "Continuer" not in again, again


def test_sms_past_the_hourly_limit_are_dropped_with_one_reply(
    backend: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(backend, tmp_path, sms_per_hour=3)
    services = _services(app)
    talk = Conversation(app.test_client(), services, NUMBER)
    assert "1 Signaler un incident" in talk.send("ALERTE")
    assert "Que s'est-il passé" in talk.send("1")
    assert "Accident" in talk.send("1")
    caplog.set_level(logging.WARNING)
    status, body, rows = talk.post("1")
    assert (status, body) == (200, "OK limited\n")
    assert [row.text for row in rows] == [
        "Désolé, ce téléphone a envoyé trop de messages. Ceux envoyés dans l'heure qui vient ne "
        "seront pas lus. Réessayez plus tard."
    ]
    for _ in range(5):
        assert talk.post("1") == (200, "OK limited\n", [])  # dropped: no reply, nothing stored
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(SmsIncoming)) == 3
    refusals = [r for r in caplog.records if "over its limit" in r.getMessage()]
    assert len(refusals) == 1 and "sms_per_hour" in refusals[0].getMessage()
    assert _limited(app) == {("sms", "sms"): 6.0}
    assert services.clock.fixed is not None
    services.clock.fixed += timedelta(hours=1)
    assert talk.send("AIDE")  # the conversation goes on where it was


def test_sms_reports_count_against_the_same_daily_limit_as_ussd(
    backend: Backend, tmp_path: Path
) -> None:
    app = _app(backend, tmp_path, reports_per_day=1)
    services, client = _services(app), app.test_client()
    phone = Phone(client, "ATUid_mixed", NUMBER)
    phone.dial()
    phone.send(*TO_CONFIRM_FR)
    assert phone.send("1").startswith("END ")
    talk = Conversation(client, services, NUMBER)
    reply = talk.send("ALERTE des soldats taxent le puits de Nyabibwe chaque jour")
    assert reply == (
        "Merci. Ce téléphone a envoyé autant d'alertes que nous pouvons en recevoir en un jour. "
        "Réessayez demain."
    )
    assert _reports(services) == 1
    assert outbox_rows(services, NUMBER)[-1].text == reply


# The daily limit under concurrency ---------------------------------------------------------

SESSIONS_AT_ONCE = 30
WAIT = 120  # seconds: a generous deadline for the threads to meet, never a timing


def _two_instances(backend: Backend, tmp_path: Path, **limits: int) -> list[Flask]:
    """Two apps on the same database and Redis (two gunicorn workers, say), each with its own
    clients and pools; their references drawn from different seeds, as in production."""
    prefix = f"test:{random.Random().getrandbits(48):012x}:"
    settings = {"ussd_sessions_per_hour": 0, "reports_per_day": 0, "sms_per_hour": 0, **limits}
    apps = []
    for seed in (1, 2):
        app = make_app(
            backend,
            tmp_path,
            rate_limits=settings,
            redis_prefix=prefix,
            ussd={"lock_timeout": WAIT},
        )
        _services(app).rng = random.Random(seed)
        apps.append(app)
    return apps


def _at_once(count: int, work: Callable[[int, threading.Barrier], str]) -> list[str]:
    barrier = threading.Barrier(count, timeout=WAIT)
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(work, n, barrier) for n in range(count)]
        return [future.result(timeout=WAIT * 3) for future in futures]


def test_sessions_submitting_at_once_store_no_more_than_the_daily_limit(
    backend: Backend, tmp_path: Path
) -> None:
    # Forged requests: 30 sessions of one phone walk to the confirmation together and all
    # confirm at once, on two app instances. The day's count is reserved before each commit,
    # in one Redis script, so exactly the limit is stored; the rest hear why, politely.
    apps = _two_instances(backend, tmp_path, reports_per_day=5)
    services = _services(apps[0])
    setup = Phone(apps[0].test_client(), "ATUid_many_lang", NUMBER)
    setup.dial()
    assert setup.send("2").startswith("CON Kufatilia")  # French, remembered; nothing unfinished

    def walk(n: int, barrier: threading.Barrier) -> str:
        phone = Phone(apps[n % 2].test_client(), f"ATUid_many_{n}", NUMBER)
        assert phone.dial().startswith("CON Kufatilia")
        barrier.wait()  # every session opened before any is unfinished: no resume offer
        assert phone.send(*TO_CONFIRM_FR[1:]).startswith("CON ")
        barrier.wait()  # every session on its confirmation
        return phone.send("1")

    finals = _at_once(SESSIONS_AT_ONCE, walk)
    refused = [final for final in finals if final == REPORTS_FR]
    stored = [final for final in finals if final != REPORTS_FR]
    assert len(stored) == 5 and len(refused) == SESSIONS_AT_ONCE - 5, finals
    with services.db.session() as session:
        references = session.scalars(select(Report.reference)).all()
    assert len(references) == 5
    assert sorted(r for r in references if any(r in final for final in stored)) == sorted(
        references
    )
    assert all(final.startswith("END Merci !") for final in stored), stored
    # The count is the reports stored (no slot kept by a refusal): the next dial is refused.
    assert Phone(apps[1].test_client(), "ATUid_many_next", NUMBER).dial() == REPORTS_FR


def test_sms_reports_at_once_on_every_shortcode_store_no_more_than_the_daily_limit(
    backend: Backend, tmp_path: Path
) -> None:
    # One phone's conversations on different shortcodes do not share a lock: 30 reports in the
    # reporter's own words, sent at once, each to its own shortcode.
    apps = _two_instances(backend, tmp_path, reports_per_day=4)
    services = _services(apps[0])
    words = "ALERTE des soldats taxent le puits de Nyabibwe chaque jour"

    def send(n: int, barrier: threading.Barrier) -> str:
        client = apps[n % 2].test_client()
        form = incoming_form(words, f"ATXid_many_{n}", NUMBER, to=f"215{n:02d}")
        barrier.wait()
        response = client.post(INCOMING, data=form)
        assert (response.status_code, response.get_data(as_text=True)) == (200, "OK\n")
        return form["to"]

    _at_once(SESSIONS_AT_ONCE, send)
    assert _reports(services) == 4
    replies = [row.text for row in outbox_rows(services, NUMBER)]
    assert len(replies) == SESSIONS_AT_ONCE
    limit = (
        "Merci. Ce téléphone a envoyé autant d'alertes que nous pouvons en recevoir en un jour. "
        "Réessayez demain."
    )
    assert replies.count(limit) == SESSIONS_AT_ONCE - 4, replies


def _break_once(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, error: BaseException
) -> None:
    real = getattr(owner, name)
    calls = {"n": 0}

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, broken)


def test_a_report_not_stored_gives_its_slot_back(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(backend, tmp_path, reports_per_day=2)
    services, client = _services(app), app.test_client()
    # The database fails at the submit: "try again", and the gateway's retry stores it.
    first = Phone(client, "ATUid_slot_1", NUMBER)
    first.dial()
    first.send(*TO_CONFIRM_FR)
    _break_once(monkeypatch, operations, "store_report", RuntimeError("database unavailable"))
    assert first.send("1").startswith("CON " + services.catalog.gettext("fr", MSG_TRY_AGAIN))
    assert first.post_text(first.text).startswith("END Merci !")
    # Redis fails after the report is committed: the gateway's retry of that request finds it
    # stored already, and hears the same reference.
    second = Phone(client, "ATUid_slot_2", NUMBER)
    second.dial()
    second.send(*TO_CONFIRM_FR[1:])
    _break_once(monkeypatch, services.sessions, "close_turn", RedisConnectionError("down"))
    assert second.send("1").startswith("END Service indisponible")
    again = second.post_text(second.text)
    assert again.startswith("END Merci !")
    assert _reports(services) == 2
    with services.db.session() as session:
        latest = session.scalar(select(Report.reference).order_by(Report.id.desc()))
    assert latest is not None and latest in again
    # Two reports stored, two slots counted: neither failure kept one.
    third = Phone(client, "ATUid_slot_3", NUMBER)
    assert third.dial() == REPORTS_FR
    assert _reports(services) == 2
