"""Problems of a judged document placed where the editor shows them: next to the node, the
option, the text and the language each concerns (``menus.problems.Problem`` says which)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from menus.problems import Problem

Place = tuple[str | None, str | None, str | None, str | None]  # node, option, field, language


class Placed:
    def __init__(self, problems: Iterable[Problem]) -> None:
        self.all = list(problems)
        self._at: dict[Place, list[Problem]] = defaultdict(list)
        self._node: dict[str | None, list[Problem]] = defaultdict(list)
        for problem in self.all:
            self._at[(problem.node, problem.option, problem.field, problem.language)].append(
                problem
            )
            self._node[problem.node].append(problem)

    def at(
        self,
        node: str | None,
        option: str | None = None,
        field: str | None = None,
        language: str | None = None,
    ) -> list[Problem]:
        return self._at.get((node, option, field, language), [])

    def option(self, node: str, option: str | None) -> list[Problem]:
        """Every problem of one option, whatever its field or language."""
        return [p for p in self._node.get(node, []) if option is not None and p.option == option]

    def node(self, node: str | None) -> list[Problem]:
        return self._node.get(node, [])

    def errors(self, node: str | None) -> int:
        return sum(1 for p in self._node.get(node, []) if p.severity == "error")

    def elsewhere(self, known: set[str]) -> list[Problem]:
        """Problems of the tree itself, and of nodes the outline does not list."""
        return [p for p in self.all if p.node is None or p.node not in known]
