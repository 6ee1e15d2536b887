"""Fixtures for tests that break things: a Redis of the test's own, and PostgreSQL behind a proxy.

Redis faults run on the embedded SQLite database (so they run everywhere, servers or not); the
database faults need the real PostgreSQL of ``DATABASE_URL`` (skipped without it, failed under
CI=true, like every real-server test).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services import EXTENSION_KEY, Services
from storage.models import Base

from ..conftest import PHONE_KEY, Backend, make_app
from ..infra import redis_server
from ..infra.redis_server import RedisServer
from ..infra.tcp_proxy import TcpProxy

T = TypeVar("T")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if not redis_server.available():
        pytest.fail(
            "redis-server is not installed: the fault tests need it (apt-get install redis-server)"
        )
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "kufatilia.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _truncate(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture
def clean_postgres(postgres_url: str) -> Iterator[str]:
    """Empty before and after: a fault test's app is not the ``backend`` fixture's, so nothing
    else removes its rows (a remembered language once leaked into the next test's phone)."""
    _truncate(postgres_url)
    yield postgres_url
    _truncate(postgres_url)


@pytest.fixture
def pg_proxy(clean_postgres: str) -> Iterator[TcpProxy]:
    url = make_url(clean_postgres)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy
    proxy.close()


def proxied(database_url: str, proxy: TcpProxy) -> str:
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


def fault_app(database_url: str, redis_url: str, tmp_path: Path, **extra: Any) -> Flask:
    return make_app(Backend("fault", database_url, redis_url), tmp_path, **extra)


def close_app(app: Flask) -> None:
    services: Services = app.extensions[EXTENSION_KEY]
    services.close()


def process_environment(config: dict[str, Any], directory: Path) -> dict[str, str]:
    """The environment of a process of the service (``flask worker``, gunicorn) configured as
    the app built from ``config`` (``app_config``) is: the settings in a ``KUFATILIA_CONFIG``
    file, the secrets and servers in the environment, nothing of this shell's own."""
    settings = {
        key: value
        for key, value in config.items()
        if key not in ("database_url", "redis_url", "SECRET_KEY", "PHONE_KEY")
    }
    path = directory / "process-config.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("KUFATILIA", "AT_")) and name not in ("DATABASE_URL", "REDIS_URL")
    }
    environment.update(
        KUFATILIA_CONFIG=str(path),
        DATABASE_URL=config["database_url"],
        REDIS_URL=config["redis_url"],
        SECRET_KEY="test-secret",
        PHONE_KEY=PHONE_KEY,
    )
    return environment


def within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``, which must return within ``seconds``; a hung call fails the test instead of
    hanging it (the thread is left to finish when the fault is lifted)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # handed to the test's thread below
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise AssertionError(f"no answer within {seconds} s")
    if errors:
        raise errors[0]
    return result[0]
