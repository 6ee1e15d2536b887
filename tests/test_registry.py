"""The registry alone, with a fake store, publish counter and clock: when it asks the store, what
it serves after a publish, and what it does with a version that cannot serve."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import pytest

from menus.checker import TreeChecker
from menus.datasets import load_default_datasets
from menus.document import Document
from menus.i18n import Catalog
from menus.registry import NoTree, TreeRegistry

from .trees_support import changed, default_document, relabel_report_fr

TREE = "incident"


@dataclass
class FakeStore:
    documents: dict[tuple[str, int], Document] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    asked: int = 0
    down: bool = False

    def published(self) -> dict[str, int]:
        self.asked += 1
        if self.down:
            raise ConnectionError("database down")
        return dict(self.current)

    def document(self, tree_id: str, version: int) -> Document | None:
        found = self.documents.get((tree_id, version))
        return copy.deepcopy(found) if found is not None else None


@dataclass
class FakeSignal:
    counter: int | None = None

    def read(self) -> int | None:
        return self.counter

    def bump(self) -> None:
        self.counter = (self.counter or 0) + 1


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def checker() -> TreeChecker:
    return TreeChecker(load_default_datasets(), Catalog.load(), (160,))


@dataclass
class World:
    store: FakeStore
    signal: FakeSignal
    clock: FakeClock
    registry: TreeRegistry

    def publish(self, version: int, document: Document) -> None:
        """What a publish does: commit (here: the store), then bump the counter."""
        self.store.documents[(TREE, version)] = document
        self.store.current[TREE] = version
        self.signal.bump()


@pytest.fixture
def world(checker: TreeChecker) -> World:
    store = FakeStore({(TREE, 1): default_document()}, {TREE: 1})
    signal, clock = FakeSignal(), FakeClock()
    registry = TreeRegistry(store, signal, checker.compile, clock=clock)
    registry.load()
    return World(store, signal, clock, registry)


def test_a_publish_is_seen_after_at_most_one_check_interval(world: World) -> None:
    world.publish(2, changed(relabel_report_fr))
    assert world.registry.current(TREE).version == 1  # checked less than a second ago
    world.clock.now += 1.0
    assert world.registry.current(TREE).version == 2


def test_the_store_is_asked_only_when_the_counter_moves(world: World) -> None:
    asked = world.store.asked
    for _ in range(20):
        world.clock.now += 1.0
        world.registry.current(TREE)
    assert world.store.asked == asked  # twenty checks, one Redis read each, no database
    world.publish(2, changed(relabel_report_fr))
    world.clock.now += 1.0
    world.registry.current(TREE)
    assert world.store.asked == asked + 1


def test_a_lost_bump_is_caught_by_the_periodic_store_check(world: World) -> None:
    world.store.documents[(TREE, 2)] = changed(relabel_report_fr)
    world.store.current[TREE] = 2  # committed, but the counter never moved
    world.clock.now += 1.0
    assert world.registry.current(TREE).version == 1
    world.clock.now += world.registry.recheck_store_every
    assert world.registry.current(TREE).version == 2


def test_a_pinned_version_is_still_served_after_a_publish(world: World) -> None:
    world.publish(2, changed(relabel_report_fr))
    world.clock.now += 1.0
    assert world.registry.current(TREE).version == 2
    old = world.registry.get(TREE, 1)
    assert old is not None and old.version == 1
    assert world.registry.get(TREE, 7) is None


def test_a_version_that_cannot_serve_here_never_becomes_current(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    def break_it(document: Document) -> None:
        document["start"] = "nowhere"

    world.publish(2, changed(break_it))
    world.clock.now += 1.0
    assert world.registry.current(TREE).version == 1
    assert "tree 'incident' version 2 is published but cannot serve here" in caplog.text
    assert world.registry.get(TREE, 2) is None


def test_a_store_outage_keeps_the_current_trees(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.store.down = True
    world.signal.bump()
    world.clock.now += 1.0
    assert world.registry.current(TREE).version == 1
    assert "could not check the published trees" in caplog.text


def test_start_up_refuses_a_published_version_that_fails(checker: TreeChecker) -> None:
    broken = default_document()
    broken["start"] = "nowhere"
    store = FakeStore({(TREE, 3): broken}, {TREE: 3})
    registry = TreeRegistry(store, FakeSignal(), checker.compile)
    with pytest.raises(ValueError, match="incident version 3 is invalid"):
        registry.load()


def test_no_published_version_is_a_clear_error(checker: TreeChecker) -> None:
    registry = TreeRegistry(FakeStore(), FakeSignal(), checker.compile)
    registry.load()
    with pytest.raises(NoTree, match="tree 'incident' has no published version"):
        registry.current(TREE)


def test_versions_name_what_is_current(world: World) -> None:
    assert world.registry.versions() == {TREE: 1}
    world.publish(2, changed(relabel_report_fr))
    world.clock.now += 1.0
    assert world.registry.versions() == {TREE: 2}
    assert world.registry.ids() == [TREE]


def test_old_versions_are_dropped_beyond_capacity_but_never_the_current(
    checker: TreeChecker,
) -> None:
    store = FakeStore({(TREE, v): default_document() for v in range(1, 6)}, {TREE: 1})
    registry = TreeRegistry(store, FakeSignal(), checker.compile, capacity=2)
    registry.load()
    for version in range(2, 6):
        assert registry.get(TREE, version) is not None
    assert registry.current(TREE).version == 1
    kept = registry._trees  # what stays in memory
    assert (TREE, 1) in kept and len(kept) == 2


def test_the_cost_of_the_current_version_check(world: World) -> None:
    """Between checks a hop pays a lock and two dictionary lookups; printed for the report."""
    world.registry.check_every = 3600.0
    rounds = 20000
    started = time.perf_counter()
    for _ in range(rounds):
        world.registry.current(TREE)
    per_call = (time.perf_counter() - started) / rounds
    print(f"\nregistry.current() between checks: {per_call * 1e6:.2f} µs")
    assert per_call < 1e-4  # far below a millisecond even on a loaded machine
