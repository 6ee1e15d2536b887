"""The registry's storage side: versions from the database, the publish counter in Redis.

``menus.registry.TreeRegistry`` is pure; it is given a ``DatabaseVersions`` to read versions and
a ``RedisPublishSignal`` to learn cheaply that something was published. ``open_registry`` builds
it at start-up: seed files become version 1 of trees the database does not know yet, and every
published version is compiled and validated before the process serves anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import redis
from sqlalchemy.exc import SQLAlchemyError

from menus.checker import TreeChecker
from menus.document import Document
from menus.registry import TreeRegistry

from . import operations, queries
from .db import Database

log = logging.getLogger(__name__)

SEEDED_BY = "seed"


class DatabaseVersions:
    """``VersionStore`` over the database: one short read-only session per question."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def published(self) -> dict[str, int]:
        with self._db.session() as session:
            return queries.published_versions(session)

    def document(self, tree_id: str, version: int) -> Document | None:
        with self._db.session() as session:
            return queries.tree_document(session, tree_id, version)


class RedisPublishSignal:
    """``PublishSignal`` as one Redis counter: a GET per process per second is the whole cost."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self.key = f"{prefix}trees:published"

    def read(self) -> int | None:
        value = self._client.get(self.key)
        return None if value is None else int(value)

    def bump(self) -> None:
        self._client.incr(self.key)


def seed_trees(
    db: Database, seeds: Sequence[tuple[str, Document]], now: datetime
) -> list[tuple[str, int]]:
    """Publish each seed (path, document) as version 1 of a tree that has no version yet.

    Safe to run from several processes at once: a second insert of version 1 fails on the unique
    (tree_id, version) and is ignored. Returns the (tree id, version) pairs it created.
    """
    created: list[tuple[str, int]] = []
    for path, document in seeds:
        try:
            with db.transaction() as session:
                row = operations.seed_tree(
                    session, document, by=SEEDED_BY, now=now, note=f"seeded from {path}"
                )
                if row is not None:
                    created.append((row.tree_id, row.version))
        except SQLAlchemyError:
            with db.session() as session:  # another process seeded it first: fine
                if not queries.latest_version(session, str(document.get("id"))):
                    raise
    for tree_id, version in created:
        log.info("tree '%s' version %s seeded", tree_id, version)
    return created


def open_registry(
    db: Database,
    client: redis.Redis,
    prefix: str,
    checker: TreeChecker,
    seeds: Sequence[tuple[str, Document]],
    now: datetime,
) -> TreeRegistry:
    """The registry of a starting process: seeds stored, published versions compiled.

    A published version that fails validation stops start-up (``TreeError``). A database that
    cannot be read yet (not migrated: ``flask db upgrade`` itself starts here) is only a warning:
    the registry then reads the versions on first use.
    """
    registry = TreeRegistry(
        DatabaseVersions(db), RedisPublishSignal(client, prefix), checker.compile
    )
    try:
        seed_trees(db, seeds, now)
        registry.load()
    except (SQLAlchemyError, redis.RedisError) as exc:
        log.warning(
            "menu trees not read from the database (%s): run `flask --app app db upgrade`",
            type(exc).__name__,
        )
    return registry
