"""The database fails under a conversation: hung (the proxy frozen: nothing answers, not even a
timeout) or unreachable (cut). The reporter hears "try again" in time, hops that need no
database go on, a gateway's retry after recovery stores the report, and start-up does not wait
for the database."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from services import EXTENSION_KEY, Services
from storage.models import Report

from ..infra.redis_server import RedisServer
from ..infra.tcp_proxy import TcpProxy
from ..phone import TO_CONFIRM_FR, Phone
from .conftest import close_app, fault_app, proxied, within

# Short limits, so that the test stays short; production's are in config.yaml.
TIMEOUTS = {"database": {"connect_timeout_seconds": 1, "statement_timeout_seconds": 1}}
TRY_AGAIN = "CON Désolé, nous n'avons pas pu enregistrer. Réessayez."


def _reports(services: Services) -> list[Report]:
    with services.db.session() as session:
        return list(session.scalars(select(Report)))


def _app(pg_proxy: TcpProxy, postgres: str, redis: RedisServer, tmp_path: Path) -> Flask:
    return fault_app(proxied(postgres, pg_proxy), redis.url(), tmp_path, **TIMEOUTS)


def _timed(call: Callable[[], str]) -> tuple[str, float]:
    started = time.monotonic()
    body = within(8, call)
    return body, time.monotonic() - started


def test_a_hung_database_at_the_confirmation(
    pg_proxy: TcpProxy, clean_postgres: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    app = _app(pg_proxy, clean_postgres, own_redis, tmp_path)
    try:
        client: FlaskClient = app.test_client()
        phone = Phone(client, "ATUid_hang")
        phone.dial()
        phone.send(*TO_CONFIRM_FR)
        other = Phone(client, "ATUid_hang_other", number="+243812000002")
        other.dial()
        other.send("2")  # this phone's language is now known and cached
        with pg_proxy.frozen():
            body, took = _timed(lambda: phone.send("1"))
            assert body.startswith(TRY_AGAIN), body
            assert took < 5, took  # a pooled connection found dead (2 s), then a connect (2 s)
            # A hop that needs no database does not wait for it.
            body, took = _timed(lambda: other.send("1"))
            assert body.startswith("CON Que s'est-il passé ?"), body
            assert took < 1, took
            # A new app (a replacement worker) starts without it, in bounded time: the schema
            # check and the tree versions each give up after the connect timeout (2 s at least).
            started = time.monotonic()
            spare = within(12, lambda: _app(pg_proxy, clean_postgres, own_redis, tmp_path / "b"))
            assert time.monotonic() - started < 8
            close_app(spare)
        # After the hang, the reporter's next "1" stores the report.
        done = within(8, lambda: phone.send("1"))
        services: Services = app.extensions[EXTENSION_KEY]
        (report,) = _reports(services)
        assert done.startswith("END Merci !") and report.reference in done
    finally:
        pg_proxy.restore()
        close_app(app)


def test_a_gateway_retry_after_an_outage_stores_the_report(
    pg_proxy: TcpProxy, clean_postgres: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    """The database is unreachable when the report is confirmed: the reporter is asked to try
    again; the gateway's retry of that same request, once the database is back, stores it."""
    app = _app(pg_proxy, clean_postgres, own_redis, tmp_path)
    try:
        phone = Phone(app.test_client(), "ATUid_cut")
        phone.dial()
        phone.send(*TO_CONFIRM_FR)
        pg_proxy.cut()
        assert within(8, lambda: phone.send("1")).startswith(TRY_AGAIN)
        pg_proxy.restore()
        again = within(8, lambda: phone.post_text(phone.text))  # the same request, repeated
        services: Services = app.extensions[EXTENSION_KEY]
        (report,) = _reports(services)
        assert again.startswith("END Merci !") and report.reference in again
    finally:
        pg_proxy.restore()
        close_app(app)


def test_a_commit_whose_answer_was_lost_is_one_report(
    pg_proxy: TcpProxy, clean_postgres: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    """The commit reached PostgreSQL, its answer did not: the reporter hears "try again",
    redials, continues, sends: the report stored the first time, under its reference."""
    app = _app(pg_proxy, clean_postgres, own_redis, tmp_path)
    try:
        client = app.test_client()
        phone = Phone(client, "ATUid_lost")
        phone.dial()
        phone.send(*TO_CONFIRM_FR)
        pg_proxy.lose_reply_after(b"COMMIT")
        assert within(8, lambda: phone.send("1")).startswith(TRY_AGAIN)
        pg_proxy.restore()
        services: Services = app.extensions[EXTENSION_KEY]
        (stored,) = _reports(services)  # it did reach the database
        redial = Phone(client, "ATUid_lost_2")
        assert redial.dial().startswith("CON Vous avez une alerte non terminée")
        redial.send("1")  # continue
        done = redial.send("1")  # send
        (report,) = _reports(services)
        assert report.id == stored.id
        assert done.startswith("END Merci !") and stored.reference in done
    finally:
        pg_proxy.restore()
        close_app(app)
