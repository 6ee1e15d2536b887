"""The compiled menu tree: plain, immutable data for the engine.

A tree is compiled from its source document by ``menus.compiler`` and checked by
``menus.validate`` before any session may use it. Texts are kept per language (``Text``), already
transliterated to GSM-7; the untransliterated originals stay in the source document
(``menus.document``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from .names import Names

if TYPE_CHECKING:
    from .problems import Problem

Text = dict[str, str]  # language code -> text
# ``status``: "follow my report": asks for a reference and ends with its follow-up status.
NodeKind = Literal["language", "menu", "list", "input", "confirm", "end", "status"]
InputType = Literal["text", "number", "date"]
# ``change``: from the confirmation, a screen of the questions answered, to change one of them.
Action = Literal["submit", "cancel", "language", "restart", "change"]

NODE_KINDS: tuple[str, ...] = ("language", "menu", "list", "input", "confirm", "end", "status")
INPUT_TYPES: tuple[str, ...] = ("text", "number", "date")
ACTIONS: tuple[str, ...] = ("submit", "cancel", "language", "restart", "change")


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
    # A "submit" that also sends the report's reference by SMS, for a reporter who may lose the
    # end screen; offered only where the deployment allows it (``Context.offer_sms_reference``).
    send_reference: bool = False
    # The keys a typed name is compared with (every language's label), made once per compiled
    # tree rather than on every request.
    names: Names = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", Names.of(self.label.values()))


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
    # ...and the lines shown instead where the conversation stays on the handset (SMS): no
    # category words a searched phone would give away.
    discreet_summary: tuple[str, ...] = ()
    # menu nodes: a typed text that is none of the choices answers this text input instead,
    # through the option that leads to it ("anything to add? 1 yes 2 no" takes the details
    # typed straight away).
    takes_text: str | None = None
    # The question's name on the "change" screen. A node with a title starts a question there;
    # nodes without one (a sub-category, a typed date) belong to the titled node before them.
    title: Text = field(default_factory=dict)
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

    @cached_property
    def memo(self) -> dict[Any, Any]:
        """What the engine works out once for this tree and keeps (``menus.views``: screens
        and choices). The tree never changes, so neither does anything worked out from it."""
        return {}

    @cached_property
    def after_text(self) -> dict[str, int]:
        """Nodes a typed text answer can lead to, with the longest ``max_length`` that leads
        there: such a screen may open with "your text was cut to N letters"."""
        found: dict[str, int] = {}
        for node in self.nodes.values():
            if node.kind == "input" and node.input_type == "text":
                for branch in node.next:
                    found[branch.goto] = max(found.get(branch.goto, 0), node.max_length)
        return found
