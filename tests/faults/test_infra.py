"""The fault tools themselves: each fault really happens, and lifting it really restores."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from ..infra.redis_server import RedisServer
from ..infra.tcp_proxy import TcpProxy
from .conftest import within


def _connect(
    proxy: TcpProxy, postgres_url: str, timeout: int = 2
) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(postgres_url)
    return psycopg.connect(
        host="127.0.0.1",
        port=proxy.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        connect_timeout=timeout,
    )


def test_a_restart_loses_every_key_and_an_aof_keeps_them(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "plain") as plain:
        plain.client().set("k", "v")
        plain.restart()
        assert plain.client().get("k") is None
    with RedisServer(tmp_path / "aof", appendonly=True) as durable:
        durable.client().set("k", "v")
        durable.restart()
        assert durable.client().get("k") == b"v"


def test_a_frozen_redis_answers_nothing_until_thawed(own_redis: RedisServer) -> None:
    client = own_redis.client(timeout=0.3)
    client.set("k", "v")
    own_redis.freeze()
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        client.get("k")
    assert time.monotonic() - started < 2
    own_redis.thaw()
    assert own_redis.client().get("k") == b"v"


def test_a_stopped_redis_refuses_connections(own_redis: RedisServer) -> None:
    own_redis.stop()
    with pytest.raises(redis.ConnectionError):
        own_redis.client().ping()


def test_the_proxy_passes_cuts_freezes_and_restores(
    pg_proxy: TcpProxy, clean_postgres: str
) -> None:
    with _connect(pg_proxy, clean_postgres) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        pg_proxy.cut()
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError):
        _connect(pg_proxy, clean_postgres)  # refused while cut, at once
    pg_proxy.restore()
    with _connect(pg_proxy, clean_postgres) as conn:
        pg_proxy.freeze()
        with pytest.raises(AssertionError, match="no answer within"):
            within(1.0, lambda: conn.execute("SELECT 1").fetchone())
        pg_proxy.restore()  # the held query goes through now
        time.sleep(0.2)
    with _connect(pg_proxy, clean_postgres) as conn:
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_a_lost_commit_reply_commits_and_the_client_cannot_know(
    pg_proxy: TcpProxy, clean_postgres: str
) -> None:
    with _connect(pg_proxy, clean_postgres) as conn:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS probe (n int)")  # proves the link works
    with _connect(pg_proxy, clean_postgres) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS fault_probe (n int)")
        setup.execute("DELETE FROM fault_probe")
        setup.commit()
    conn = _connect(pg_proxy, clean_postgres)
    conn.execute("INSERT INTO fault_probe VALUES (7)")
    pg_proxy.lose_reply_after(b"COMMIT")
    with pytest.raises(psycopg.OperationalError):
        within(5.0, conn.commit)
    conn.close()
    with psycopg.connect(clean_postgres.replace("+psycopg", "")) as direct:
        assert direct.execute("SELECT n FROM fault_probe").fetchall() == [(7,)]
        direct.execute("DROP TABLE fault_probe")
