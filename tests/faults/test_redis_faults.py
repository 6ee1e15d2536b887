"""Redis fails under live conversations: it loses every session (a restart without persistence,
an eviction, a failover), it is down, it is frozen. A reporter never walks a different path than
the one they took, always hears an answer in their language within 2 s, the log says it in one
line, and service comes back by itself."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from services import EXTENSION_KEY, Services
from storage.models import Report, Reporter

from ..infra.redis_server import RedisServer
from ..phone import TO_CONFIRM_FR, Phone
from .conftest import close_app, fault_app, within

INTERRUPTED_FR = "END Désolé, la session a été interrompue. Composez à nouveau le code."
UNAVAILABLE_FR = "END Service indisponible. Réessayez plus tard."


@pytest.fixture
def app(own_redis: RedisServer, sqlite_url: str, tmp_path: Path) -> Iterator[Flask]:
    built = fault_app(sqlite_url, own_redis.url(), tmp_path)
    yield built
    close_app(built)


def _services(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


def _language(services: Services) -> list[str]:
    with services.db.session() as session:
        return list(session.scalars(select(Reporter.language)))


def _reports(services: Services) -> list[Report]:
    with services.db.session() as session:
        return list(session.scalars(select(Report)))


def test_state_lost_mid_report_ends_cleanly_and_changes_nothing(
    app: Flask, own_redis: RedisServer
) -> None:
    phone = Phone(app.test_client(), "ATUid_lost_state")
    phone.dial()
    phone.send("2", "1", "1", "1")  # French, report, accident, collapse: at the province list
    own_redis.restart()  # every key gone
    reply = within(5, lambda: phone.send("4"))  # Sud-Kivu, meant for the province question
    assert reply == INTERRUPTED_FR
    services = _services(app)
    assert _language(services) == ["fr"]  # never changed by a replay
    assert _reports(services) == []
    # Dialling again starts a clean session in French.
    again = Phone(app.test_client(), "ATUid_lost_state_2")
    assert again.dial().startswith("CON Kufatilia: signaler un incident")


def test_state_lost_before_any_language_replays_exactly(app: Flask, own_redis: RedisServer) -> None:
    phone = Phone(app.test_client(), "ATUid_lost_early", number="+243812000003")
    phone.dial()
    own_redis.restart()
    # The language question was the first screen and still is: the replay is the same walk.
    assert phone.send("2").startswith("CON Kufatilia: signaler un incident")
    assert phone.send("1").startswith("CON Que s'est-il passé ?")


def test_redis_down_answers_in_the_reporters_language_in_one_line_then_recovers(
    app: Flask, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    phone = Phone(app.test_client(), "ATUid_down")
    phone.dial()
    phone.send("2", "1")
    own_redis.stop()
    caplog.clear()
    started = time.monotonic()
    reply = within(5, lambda: phone.send("1"))
    assert time.monotonic() - started < 2
    assert reply == UNAVAILABLE_FR
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    assert failures[0].exc_info is None  # one line, no traceback
    assert "Redis unavailable" in failures[0].getMessage()
    own_redis.start()
    fresh = Phone(app.test_client(), "ATUid_down_2")
    assert fresh.dial().startswith("CON Kufatilia: signaler un incident")
    fresh.send("1", *TO_CONFIRM_FR[2:], "1")
    assert fresh.replies[-1].startswith("END Merci !")


def test_redis_frozen_answers_within_two_seconds_then_recovers(
    app: Flask, own_redis: RedisServer
) -> None:
    phone = Phone(app.test_client(), "ATUid_frozen")
    phone.dial()
    phone.send("2")
    with own_redis.frozen_for_a_while():
        for answer in ("1", "1"):  # every request while it lasts, not just the first
            started = time.monotonic()
            reply = within(5, lambda a=answer: phone.send(a))  # type: ignore[misc]
            assert time.monotonic() - started < 2
            assert reply == UNAVAILABLE_FR
    again = Phone(app.test_client(), "ATUid_frozen_2")
    assert within(5, again.dial).startswith("CON Kufatilia: signaler un incident")
