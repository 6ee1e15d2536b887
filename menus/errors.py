from __future__ import annotations

from collections.abc import Sequence

from .problems import Problem


class TreeError(ValueError):
    """A tree that must not reach a live session. ``problems`` says where and what, as data."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"menu tree {source} is invalid ({len(self.problems)} problem(s)):\n{listing}"
        )
