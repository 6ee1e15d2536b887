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
from typing import TypeVar

import redis
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

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
SLOW_FAILURE_SECONDS = 0.5  # a failure slower than this is a hang, not a refusal
T = TypeVar("T")


class DatabaseVersions:
    """``VersionStore`` over the database, with a copy of what it read kept in Redis.

    Every answer the database gives is copied to Redis (``<prefix>trees:last:published``, and
    ``<prefix>trees:last:<id>:<version>`` for each document read). A process that starts while the
    database is hung or unreachable serves the versions the others serve, from that copy, and sees
    a newer one once the database answers again. After a slow failure (a hang) the database is
    left alone for ``retry_after`` seconds: each question would cost a connect timeout.
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
        self._quiet_until = float("-inf")
        self._error: Exception | None = None

    def published(self) -> dict[str, int]:
        answered, found = self._ask(queries.published_versions)
        if answered and found is not None:
            self._keep("published", found)
            return found
        kept = self._kept("published")
        if not isinstance(kept, dict):
            raise self._unavailable("the published versions")
        return {str(tree_id): int(version) for tree_id, version in kept.items()}

    def document(self, tree_id: str, version: int) -> Document | None:
        name = f"{tree_id}:{version}"
        answered, found = self._ask(lambda s: queries.tree_document(s, tree_id, version))
        if answered:
            if found is not None:
                self._keep(name, found)
            return found
        kept = self._kept(name)
        if not isinstance(kept, dict):
            raise self._unavailable(f"tree '{tree_id}' version {version}")
        return kept

    def failed(self, error: Exception, took: float) -> None:
        """The database did not answer. When saying so took long (it hangs: a connect timeout),
        it is left alone for ``retry_after`` seconds; a quick refusal costs nothing to repeat."""
        if self._error is None:
            log.warning(
                "tree versions: the database did not answer (%s); serving the copy kept in Redis",
                type(error).__name__,
            )
        self._error = error
        if took >= SLOW_FAILURE_SECONDS:
            self._quiet_until = self._clock() + self.retry_after

    def _ask(self, question: Callable[[Session], T]) -> tuple[bool, T | None]:
        """(True, the answer), or (False, None) when the database did not answer."""
        if self._clock() < self._quiet_until:
            return False, None
        started = self._clock()
        try:
            with self._db.session() as session:
                answer = question(session)
        except SQLAlchemyError as exc:
            self.failed(exc, self._clock() - started)
            return False, None
        if self._error is not None:
            log.info("tree versions: the database answers again")
            self._error = None
        return True, answer

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
    started = time.monotonic()
    try:
        seed_trees(db, seeds, now)
    except SQLAlchemyError as exc:
        store.failed(exc, time.monotonic() - started)  # if it hangs, not a second wait
    try:
        registry.load()
    except (SQLAlchemyError, redis.RedisError, NoCopy) as exc:
        log.warning(
            "menu trees not read from the database (%s): run `flask --app app db upgrade`",
            type(exc).__name__,
        )
    return registry
