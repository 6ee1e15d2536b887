"""The trees a running service may use, by (id, version).

Sessions are pinned to the version they started on, so a tree keeps serving its live sessions
after a newer version becomes current.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .datasets import Datasets
from .i18n import Catalog
from .loader import read_tree
from .model import Tree
from .validate import check


class TreeRegistry:
    def __init__(self) -> None:
        self._trees: dict[tuple[str, int], Tree] = {}
        self._current: dict[str, int] = {}

    def add(self, tree: Tree, *, current: bool = True) -> None:
        self._trees[(tree.id, tree.version)] = tree
        if current or tree.id not in self._current:
            self._current[tree.id] = tree.version

    def current(self, tree_id: str) -> Tree:
        return self._trees[(tree_id, self._current[tree_id])]

    def get(self, tree_id: str, version: int) -> Tree | None:
        return self._trees.get((tree_id, version))

    def ids(self) -> list[str]:
        return sorted(self._current)


def load_registry(
    paths: Iterable[Path], datasets: Datasets, catalog: Catalog, limits: Iterable[int]
) -> TreeRegistry:
    """Load and validate every tree; the first broken one stops start-up with its problems."""
    registry = TreeRegistry()
    limits = tuple(limits)
    for path in paths:
        registry.add(check(read_tree(path), datasets, catalog, limits))
    return registry
