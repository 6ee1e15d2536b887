"""The service's parts, built once from the settings and shared by web handlers, commands and the worker.

Flask keeps them in ``app.extensions["kufatilia"]``; ``current_services()`` reaches them inside an
application context. Nothing here holds a reference to the app itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
from flask import current_app

from menus.checker import TreeChecker
from menus.datasets import Datasets, load_default_datasets
from menus.document import Document
from menus.i18n import Catalog
from menus.registry import TreeRegistry
from settings import PROJECT_DIR, Settings
from storage.db import Database, Timeouts
from storage.phones import PhoneVault
from storage.redis_store import EmbeddedRedis, connect
from storage.references import generate
from storage.sessions import SessionStore
from storage.tree_versions import open_registry

EXTENSION_KEY = "kufatilia"


@dataclass
class Clock:
    """The time, in one place, so that tests can fix it."""

    timezone: ZoneInfo
    fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed if self.fixed is not None else datetime.now(UTC)

    def local_today(self) -> date:
        return self.now().astimezone(self.timezone).date()


@dataclass
class Services:
    settings: Settings
    db: Database
    redis: redis.Redis
    redis_url: str  # how another process reaches the same server (the embedded one too)
    sessions: SessionStore
    vault: PhoneVault
    catalog: Catalog
    datasets: Datasets
    trees: TreeRegistry
    checker: TreeChecker  # how this service judges a tree (data lists, translations, limits)
    clock: Clock
    embedded: EmbeddedRedis | None  # the embedded Redis server, when there is no REDIS_URL
    rng: random.Random | None = None  # None: references from the system's secure randomness
    extras: dict[str, object] = field(default_factory=dict)

    def new_reference(self) -> str:
        return generate(self.rng)

    def close(self) -> None:
        self.db.dispose()
        self.redis.close()


def tree_paths(settings: Settings) -> list[Path]:
    return list(settings.trees)


def tree_seeds(settings: Settings, checker: TreeChecker) -> list[tuple[str, Document]]:
    """(where from, document) of each configured seed file; a broken one raises ``TreeError``."""
    seeds = []
    for path in tree_paths(settings):
        shown = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
        seeds.append((str(shown), checker.read_file(path)[0]))
    return seeds


def screen_limits(settings: Settings) -> list[int]:
    """Every screen limit a tree must fit: USSD's, each network's override, and SMS's segment."""
    return settings.screen_limits()


def build_services(settings: Settings) -> Services:
    catalog = Catalog.load()
    datasets = load_default_datasets()
    checker = TreeChecker(
        datasets,
        catalog,
        tuple(screen_limits(settings)),
        sms_max_length=settings.sms.max_length,
        sms_contact=settings.sms.help_contact,
    )
    seeds = tree_seeds(settings, checker)  # a broken one stops start-up before any connection
    connection = connect(settings.redis_url, settings.instance_path)
    db = Database(
        settings.database_url,
        Timeouts(
            settings.database.connect_timeout_seconds,
            settings.database.statement_timeout_seconds,
            settings.database.reading_timeout_seconds,
        ),
    )
    clock = Clock(settings.timezone)
    try:
        trees = open_registry(
            db, connection.client, settings.redis_prefix, checker, seeds, clock.now()
        )
    except Exception:
        db.dispose()  # a published version that cannot serve: this process stops here
        connection.client.close()
        raise
    return Services(
        settings=settings,
        db=db,
        redis=connection.client,
        redis_url=connection.url,
        embedded=connection.embedded,
        sessions=SessionStore(connection.client, settings.redis_prefix),
        vault=PhoneVault(settings.phone_key),
        catalog=catalog,
        datasets=datasets,
        trees=trees,
        checker=checker,
        clock=clock,
    )


def current_services() -> Services:
    services: Services = current_app.extensions[EXTENSION_KEY]
    return services
