"""``/readyz`` names the part that fails, within its deadline, and recovers by itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from ..infra.redis_server import RedisServer
from ..infra.tcp_proxy import TcpProxy
from .conftest import close_app, fault_app, proxied, within

DEADLINE = 3.5  # the checks' own 2 s, and room for a busy machine


def _ready(app: Flask) -> tuple[int, dict[str, Any]]:
    response = within(DEADLINE, lambda: app.test_client().get("/readyz"))
    return response.status_code, response.get_json()


def test_redis_stopped_then_back(own_redis: RedisServer, sqlite_url: str, tmp_path: Path) -> None:
    app = fault_app(sqlite_url, own_redis.url(), tmp_path)
    try:
        assert _ready(app) == (
            200,
            {
                "status": "ready",
                "failing": [],
                "checks": {"database": "ok", "redis": "ok", "outbox_queue": "ok (0 queued)"},
            },
        )
        own_redis.stop()
        status, body = _ready(app)
        assert status == 503
        assert body["failing"] == ["redis", "outbox_queue"]
        assert body["checks"]["redis"] == "error: ConnectionError"
        own_redis.start()
        assert _ready(app)[0] == 200
    finally:
        close_app(app)


def test_redis_frozen_is_named_within_the_deadline(
    own_redis: RedisServer, sqlite_url: str, tmp_path: Path
) -> None:
    app = fault_app(sqlite_url, own_redis.url(), tmp_path)
    try:
        with own_redis.frozen_for_a_while():
            status, body = _ready(app)
        assert status == 503
        assert "redis" in body["failing"]
        assert body["checks"]["database"] == "ok"
    finally:
        close_app(app)


def test_database_cut_or_hung_is_named_and_recovers(
    pg_proxy: TcpProxy, clean_postgres: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    app = fault_app(proxied(clean_postgres, pg_proxy), own_redis.url(), tmp_path)
    try:
        assert _ready(app)[0] == 200
        pg_proxy.cut()
        status, body = _ready(app)
        assert (status, body["failing"]) == (503, ["database"])
        pg_proxy.restore()
        assert _ready(app)[0] == 200
        with pg_proxy.frozen():
            status, body = _ready(app)
            assert (status, body["failing"]) == (503, ["database"])
            assert body["checks"]["database"] == "no answer within 2 s"
        assert within(DEADLINE + 2, lambda: _ready(app))[0] == 200
    finally:
        pg_proxy.restore()
        close_app(app)
