from __future__ import annotations


class TreeError(ValueError):
    """A tree that must not reach a live session. ``problems`` names each node and what is wrong."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"menu tree {source} is invalid ({len(problems)} problem(s)):\n{listing}")
