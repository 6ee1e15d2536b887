"""The registry's storage side: versions from the database, the publish counter in Redis.

``menus.registry.TreeRegistry`` is pure; it is given a ``DatabaseVersions`` to read versions (and
keep a copy of them in Redis, for a process that starts while the database does not answer) and
a ``RedisPublishSignal`` to learn cheaply that something was published. ``open_registry`` builds
it at start-up: seed files become version 1 of trees the database does not know yet, and every
published version is compiled and validated before the process serves anything.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import redis
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from menus.checker import TreeChecker
from menus.document import Document
from menus.registry import TreeRegistry

from . import operations, queries
from .db import Database

log = logging.getLogger(__name__)

SEEDED_BY = "seed"
# While the database does not answer, tree versions come from the copy in Redis for this long
# before the database is asked again.
RETRY_AFTER_SECONDS = 5.0


class DatabaseVersions:
    """``VersionStore`` over the database, with a copy of what it read kept in Redis.

    Every answer the database gives is copied to Redis (``<prefix>trees:last:published``, and
    ``<prefix>trees:last:<id>:<version>`` for each document read). A process that starts while the
    database is hung or unreachable serves the versions the others serve, from that copy, and sees
    a newer one once the database answers again. After a failure the database is left alone for
    ``retry_after`` seconds: while it hangs, each question would cost a connect timeout.
    """

    def __init__(
        self,
        db: Database,
        client: redis.Redis,
        prefix: str,
        *,
        retry_after: float = RETRY_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._client = client
        self._prefix = f"{prefix}trees:last:"
        self.retry_after = retry_after
        self._clock = clock
        self._down_until = float("-inf")
        self._error: Exception | None = None

    def published(self) -> dict[str, int]:
        if self._database_up():
            try:
                with self._db.session() as session:
                    found = queries.published_versions(session)
            except SQLAlchemyError as exc:
                self.failed(exc)
            else:
                self._keep("published", found)
                return found
        kept = self._kept("published")
        if not isinstance(kept, dict):
            raise self._unavailable("the published versions")
        return {str(tree_id): int(version) for tree_id, version in kept.items()}

    def document(self, tree_id: str, version: int) -> Document | None:
        name = f"{tree_id}:{version}"
        if self._database_up():
            try:
                with self._db.session() as session:
                    found = queries.tree_document(session, tree_id, version)
            except SQLAlchemyError as exc:
                self.failed(exc)
            else:
                if found is not None:
                    self._keep(name, found)
                return found
        kept = self._kept(name)
        if not isinstance(kept, dict):
            raise self._unavailable(f"tree '{tree_id}' version {version}")
        return kept

    def failed(self, error: Exception) -> None:
        """The database did not answer: use the copy for ``retry_after`` seconds."""
        if self._clock() >= self._down_until:
            log.warning(
                "tree versions: the database did not answer (%s); serving the copy kept in Redis "
                "for %g s",
                type(error).__name__,
                self.retry_after,
            )
        self._error = error
        self._down_until = self._clock() + self.retry_after

    def _database_up(self) -> bool:
        return self._clock() >= self._down_until

    def _keep(self, name: str, value: object) -> None:
        # Only a copy: if Redis fails now, the next read from the database writes it again.
        with contextlib.suppress(redis.RedisError):
            self._client.set(self._prefix + name, json.dumps(value, separators=(",", ":")))

    def _kept(self, name: str) -> object:
        try:
            raw = self._client.get(self._prefix + name)
        except redis.RedisError:
            return None
        return None if raw is None else json.loads(raw)

    def _unavailable(self, what: str) -> NoCopy:
        cause = type(self._error).__name__ if self._error else "not asked"
        return NoCopy(f"{what}: the database did not answer ({cause}) and Redis has no copy")


class NoCopy(LookupError):
    """The database cannot be read and Redis holds no copy of what was asked."""


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
        except IntegrityError:
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
    does not answer (hung, unreachable) is not needed: the versions come from the copy in Redis
    that every process keeps (``DatabaseVersions``), so hops that need no database are served.
    One that cannot be read yet (not migrated: ``flask db upgrade`` itself starts here) with no
    copy either is only a warning: the registry then reads the versions on first use.
    """
    store = DatabaseVersions(db, client, prefix)
    registry = TreeRegistry(store, RedisPublishSignal(client, prefix), checker.compile)
    try:
        seed_trees(db, seeds, now)
    except SQLAlchemyError as exc:
        store.failed(exc)  # do not wait for it a second time while loading
    try:
        registry.load()
    except (SQLAlchemyError, redis.RedisError, NoCopy) as exc:
        log.warning(
            "menu trees not read from the database (%s): run `flask --app app db upgrade`",
            type(exc).__name__,
        )
    return registry
