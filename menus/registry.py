"""The trees a running process serves: a read-through cache of compiled trees by (id, version).

Versions live in the database (``storage.tree_versions``); this cache compiles and validates a
version the first time a process needs it and keeps it. Which version is *current* (published)
is asked cheaply: a publish counter (in Redis) read at most once per ``check_every`` seconds per
process; only when it moves is the store asked which versions are published. So every web worker
and the RQ worker see a publish within about a second, without a restart, and a hop in between
costs one dictionary lookup.

Sessions are pinned to the (id, version) they started on, so a tree keeps serving its live
sessions after a newer version becomes current: ``get`` loads any version on demand.

A version that fails validation *in this process* (its configured screen limits may be stricter
than where it was published) never becomes current here: the previous one keeps serving, and the
failure is logged. Pure: the store, the signal and the compiler come from outside.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from .document import Document
from .errors import TreeError
from .model import Tree

log = logging.getLogger(__name__)

Compiler = Callable[[str, int, Document], Tree]  # compile and validate; raises TreeError

CHECK_EVERY_SECONDS = 1.0  # how stale "which version is current" may be in one process
# Safety net: ask the store even when the counter did not move (a bump lost between the commit
# and Redis, or Redis flushed) at least this often.
RECHECK_STORE_SECONDS = 30.0
CAPACITY = 32  # compiled versions kept per process (the current ones are never dropped)


class VersionStore(Protocol):
    def published(self) -> dict[str, int]:
        """Tree id -> its published version number."""

    def document(self, tree_id: str, version: int) -> Document | None: ...


class PublishSignal(Protocol):
    def read(self) -> int | None:
        """The publish counter (None when it was never set)."""

    def bump(self) -> None: ...


class NoTree(LookupError):
    """No version of this tree can serve (none published, or none that passes validation)."""


class TreeRegistry:
    def __init__(
        self,
        store: VersionStore,
        signal: PublishSignal,
        compile_version: Compiler,
        *,
        check_every: float = CHECK_EVERY_SECONDS,
        recheck_store_every: float = RECHECK_STORE_SECONDS,
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._signal = signal
        self._compile = compile_version
        self.check_every = check_every
        self.recheck_store_every = recheck_store_every
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.RLock()  # Flask's dev server and the worker's sweep use threads
        self._trees: OrderedDict[tuple[str, int], Tree] = OrderedDict()
        self._current: dict[str, int] = {}
        self._counter: int | None = None
        self._checked = float("-inf")
        self._store_checked = float("-inf")

    # What sessions use ----------------------------------------------------------------------

    def current(self, tree_id: str) -> Tree:
        """The published version of ``tree_id`` (as this process last saw it)."""
        self.refresh()
        with self._lock:
            version = self._current.get(tree_id)
            tree = None if version is None else self._trees.get((tree_id, version))
        if tree is None:
            raise NoTree(f"tree '{tree_id}' has no published version that can serve")
        return tree

    def get(self, tree_id: str, version: int) -> Tree | None:
        """A given version (a live session's pinned one), loaded on demand; None if it cannot."""
        with self._lock:
            tree = self._trees.get((tree_id, version))
            if tree is not None:
                self._trees.move_to_end((tree_id, version))
                return tree
        return self._load(tree_id, version)

    def ids(self) -> list[str]:
        self.refresh()
        with self._lock:
            return sorted(self._current)

    def versions(self) -> dict[str, int]:
        """Tree id -> current version: the key of anything built from the current trees (e.g. the
        SMS keywords), to rebuild it after a publish."""
        self.refresh()
        with self._lock:
            return dict(self._current)

    # Keeping up with publications ---------------------------------------------------------

    def refresh(self, *, force: bool = False) -> None:
        """Follow the published versions: cheap unless the publish counter moved."""
        now = self._clock()
        with self._lock:
            if not force and now - self._checked < self.check_every:
                return
            self._checked = now
            try:
                # Counter first, then the store: a publish commits before it bumps, so a counter
                # read before the bump is followed by a store read that may already be newer
                # (harmless), never the reverse.
                counter = self._signal.read()
                stale = now - self._store_checked >= self.recheck_store_every
                if not force and counter == self._counter and not stale:
                    return
                published = self._store.published()
            except Exception:
                # Availability first: keep serving what we have and try again next time.
                log.warning("could not check the published trees; keeping the current ones")
                return
            self._counter = counter
            self._store_checked = now
            for tree_id, version in published.items():
                if self._current.get(tree_id) != version:
                    self._make_current(tree_id, version)

    def announce(self) -> None:
        """After a publish or rollback is committed: every process re-reads within a second."""
        self._signal.bump()
        self.refresh(force=True)

    def load(self) -> None:
        """Start-up: compile every published version now; a broken one stops the process."""
        published = self._store.published()
        with self._lock:
            self._counter = self._signal.read()
            self._checked = self._store_checked = self._clock()
        for tree_id, version in sorted(published.items()):
            document = self._store.document(tree_id, version)
            if document is None:
                raise NoTree(f"tree '{tree_id}' version {version} vanished while loading")
            tree = self._compile(tree_id, version, document)  # TreeError stops start-up
            with self._lock:
                self._keep(tree)
                self._current[tree_id] = version

    # Inside --------------------------------------------------------------------------------

    def _make_current(self, tree_id: str, version: int) -> None:
        tree = self.get(tree_id, version)
        if tree is None:
            log.error(
                "tree '%s' version %s is published but cannot serve here; still serving %s",
                tree_id,
                version,
                self._current.get(tree_id, "nothing"),
            )
            return
        self._current[tree_id] = version
        log.info("tree '%s': version %s is now current", tree_id, version)

    def _load(self, tree_id: str, version: int) -> Tree | None:
        try:
            document = self._store.document(tree_id, version)
        except Exception:
            log.exception("could not read tree '%s' version %s", tree_id, version)
            return None
        if document is None:
            return None
        try:
            tree = self._compile(tree_id, version, document)
        except TreeError as exc:
            log.error("tree '%s' version %s cannot serve: %s", tree_id, version, exc)
            return None
        with self._lock:
            return self._keep(tree)

    def _keep(self, tree: Tree) -> Tree:
        key = (tree.id, tree.version)
        kept = self._trees.setdefault(key, tree)  # a concurrent load may have won: use one copy
        self._trees.move_to_end(key)
        current = set(self._current.items())
        for old in list(self._trees):
            if len(self._trees) <= self._capacity:
                break
            if old not in current and old != key:
                del self._trees[old]
        return kept
