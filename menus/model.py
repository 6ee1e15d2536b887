"""The compiled menu tree: plain, immutable data for the engine.

A tree is compiled from its source document by ``menus.compiler`` and checked by
``menus.validate`` before any session may use it. Texts are kept per language (``Text``), already
transliterated to GSM-7; the untransliterated originals stay in the source document
(``menus.document``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .problems import Problem

Text = dict[str, str]  # language code -> text
NodeKind = Literal["language", "menu", "list", "input", "confirm", "end"]
InputType = Literal["text", "number", "date"]
Action = Literal["submit", "cancel", "language", "restart"]

NODE_KINDS: tuple[str, ...] = ("language", "menu", "list", "input", "confirm", "end")
INPUT_TYPES: tuple[str, ...] = ("text", "number", "date")
ACTIONS: tuple[str, ...] = ("submit", "cancel", "language", "restart")


@dataclass(frozen=True)
class Branch:
    """Go to ``goto`` when every answer named in ``when`` has that value (empty: always)."""

    goto: str
    when: tuple[tuple[str, str], ...] = ()

    def matches(self, values: dict[str, str]) -> bool:
        return all(values.get(key) == value for key, value in self.when)


Route = tuple[Branch, ...]


@dataclass(frozen=True)
class Option:
    label: Text
    value: str | None = None
    next: Route = ()
    action: Action | None = None
    # Stable across edits (``menus.document.option_id``): PO files, diffs and problems use it.
    id: str = ""


@dataclass(frozen=True)
class Node:
    id: str
    kind: NodeKind
    text: Text
    key: str | None = None
    next: Route = ()
    options: tuple[Option, ...] = ()
    error: Text = field(default_factory=dict)
    # input nodes
    input_type: InputType | None = None
    min_length: int = 1
    max_length: int = 140
    minimum: int | None = None
    maximum: int | None = None
    max_age_days: int = 3650
    skip: Option | None = None  # an optional input: this option answers "skipped"
    skip_token: str = "1"
    # list nodes: items from a named data source, plus fixed extra options after them
    source: str | None = None
    params: tuple[tuple[str, str], ...] = ()  # data-source parameter -> answer key
    # confirm nodes: one line template per summary line, e.g. "{category}: {subcategory}"
    summary: tuple[str, ...] = ()
    # Options retired by the editor: never offered, kept so that their codes keep their labels
    # for old reports and statistics.
    retired: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Tree:
    id: str
    version: int
    spec_version: int
    languages: tuple[str, ...]
    language_names: dict[str, str]
    start: str
    nodes: dict[str, Node]
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> SMS keywords
    source: str = "<memory>"
    # Texts that transliteration to GSM-7 changed, for editors (code "transliterated").
    warnings: tuple[Problem, ...] = ()

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]
