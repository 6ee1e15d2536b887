"""What changed between two versions of a tree: nodes and options added, removed, moved, and
each text changed, language by language.

Compares source documents (the editor's texts, untransliterated; retired options included), and
reads them leniently, so that a draft with errors can still be compared. Options are matched by
their stable id (``menus.document.option_id``), so reordering is a move, not a remove and an add.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Literal

from .document import SKIP_OPTION_ID, Document, option_id
from .languages import NODE_TEXT_FIELDS

Kind = Literal["added", "removed", "moved", "changed"]
_SIGN = {"added": "+", "removed": "-", "moved": "~", "changed": "~"}

# Node fields compared as values; texts are compared per language instead.
TEXT_FIELDS = NODE_TEXT_FIELDS  # compared language by language
SKIPPED_FIELDS = ("id", "options", "skip", *TEXT_FIELDS)


@dataclass(frozen=True)
class Change:
    kind: Kind
    node: str | None  # None: the tree itself
    option: str | None = None
    field: str | None = None
    language: str | None = None
    old: Any = None
    new: Any = None
    note: str = ""  # what a "moved" means here

    def __str__(self) -> str:
        if self.node is None:
            place = "tree"
        elif self.option is not None:
            place = f"option '{self.option}' in node '{self.node}'"
        else:
            place = f"node '{self.node}'"
        if self.field is not None:
            place += f" {self.field}"
        if self.language is not None:
            place += f" ({self.language})"
        line = f"{_SIGN[self.kind]} {place}"
        if self.kind == "moved":
            return f"{line} moved: {self.note}"
        if self.kind == "changed":
            return f"{line}: {_show(self.old)} -> {_show(self.new)}"
        if self.note:
            return f"{line} ({self.note})"
        shown = self.new if self.kind == "added" else self.old
        return f"{line}: {_show(shown)}" if shown is not None else line


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass
class _Option:
    id: str
    node: str
    position: int
    raw: dict[str, Any]


@dataclass
class _Outline:
    """A lenient reading of a document: nodes in order, options by id, who links to whom."""

    languages: list[str]
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    options: dict[str, dict[str, _Option]] = field(default_factory=dict)  # node -> id -> option
    parents: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, document: Document) -> _Outline:
        languages = [str(x) for x in document.get("languages") or [] if isinstance(x, str)]
        outline = cls(languages)
        for raw in document.get("nodes") or []:
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                continue
            node_id = raw["id"]
            outline.nodes.setdefault(node_id, raw)
            found = outline.options.setdefault(node_id, {})
            for position, item in enumerate(raw.get("options") or [], 1):
                if isinstance(item, dict):
                    key = option_id(item) or f"#{position}"
                    found.setdefault(key, _Option(key, node_id, position, item))
            if isinstance(raw.get("skip"), dict):
                found[SKIP_OPTION_ID] = _Option(SKIP_OPTION_ID, node_id, 0, raw["skip"])
            for target in _targets(raw):
                outline.parents.setdefault(target, set()).add(node_id)
        return outline

    def texts(self, raw: Any) -> dict[str, str]:
        """A text per language; a plain string is the same text in every language."""
        if isinstance(raw, dict):
            return {str(k): str(v) for k, v in raw.items()}
        if raw is None:
            return {}
        return {lang: str(raw) for lang in self.languages}


def _targets(raw: dict[str, Any]) -> Iterable[str]:
    routes = [raw.get("next")]
    routes += [o.get("next") for o in raw.get("options") or [] if isinstance(o, dict)]
    if isinstance(raw.get("skip"), dict):
        routes.append(raw["skip"].get("next"))
    for route in routes:
        if isinstance(route, str):
            yield route
        elif isinstance(route, list):
            for branch in route:
                if isinstance(branch, dict) and isinstance(branch.get("goto"), str):
                    yield branch["goto"]


def _texts_changed(
    node: str | None, option: str | None, name: str, old: dict[str, str], new: dict[str, str]
) -> list[Change]:
    changes: list[Change] = []
    for lang in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(lang), new.get(lang)
        if before == after:
            continue
        kind: Kind = "added" if before is None else "removed" if after is None else "changed"
        changes.append(Change(kind, node, option, name, lang, before, after))
    return changes


def _fields_changed(
    node: str | None,
    option: str | None,
    old: dict[str, Any],
    new: dict[str, Any],
    skip: Iterable[str],
) -> list[Change]:
    skipped = set(skip)
    changes: list[Change] = []
    for name in [*old, *(k for k in new if k not in old)]:
        if name in skipped or old.get(name) == new.get(name):
            continue
        changes.append(Change("changed", node, option, name, None, old.get(name), new.get(name)))
    return changes


def diff_documents(old: Document, new: Document) -> list[Change]:
    """Every change from ``old`` to ``new``, tree first, then node by node in ``new``'s order."""
    a, b = _Outline.read(old), _Outline.read(new)
    changes = _fields_changed(
        None, None, old, new, ("nodes", "language_names", "version")
    ) + _texts_changed(
        None,
        None,
        "language_names",
        a.texts(old.get("language_names") or {}),
        b.texts(new.get("language_names") or {}),
    )
    for node_id in a.nodes:
        if node_id not in b.nodes:
            kind = a.nodes[node_id].get("kind")
            changes.append(Change("removed", node_id, old=kind, note=f"{kind} node"))
    moved_options = _options_between_nodes(a, b)
    for node_id, raw in b.nodes.items():
        if node_id not in a.nodes:
            kind = raw.get("kind")
            changes.append(Change("added", node_id, new=kind, note=f"{kind} node"))
            continue
        before = a.nodes[node_id]
        was, now = a.parents.get(node_id, set()), b.parents.get(node_id, set())
        if was != now:
            note = f"reached from {_names(was)} -> {_names(now)}"
            changes.append(Change("moved", node_id, note=note))
        changes += _fields_changed(node_id, None, before, raw, SKIPPED_FIELDS)
        for name in TEXT_FIELDS:
            changes += _texts_changed(
                node_id, None, name, a.texts(before.get(name)), b.texts(raw.get(name))
            )
        changes += _node_options(a, b, node_id, moved_options)
    return changes


def _options_between_nodes(a: _Outline, b: _Outline) -> dict[str, tuple[str, str]]:
    """Option ids that left one node for another: id -> (old node, new node)."""
    removed = {
        oid: node
        for node, options in a.options.items()
        for oid in options
        if oid not in b.options.get(node, {})
    }
    added = {
        oid: node
        for node, options in b.options.items()
        for oid in options
        if oid not in a.options.get(node, {})
    }
    ambiguous = {oid for oid in added if sum(oid in o for o in b.options.values()) > 1}
    return {
        oid: (removed[oid], node)
        for oid, node in added.items()
        if oid in removed and oid not in ambiguous and oid != SKIP_OPTION_ID
    }


def _node_options(
    a: _Outline, b: _Outline, node_id: str, between: dict[str, tuple[str, str]]
) -> list[Change]:
    changes: list[Change] = []
    old, new = a.options.get(node_id, {}), b.options.get(node_id, {})
    for oid in old:
        if oid not in new and between.get(oid, (None,))[0] != node_id:
            changes.append(Change("removed", node_id, oid, old=_label(a, old[oid])))
    common_old = [o for o in old if o in new]
    common_new = [o for o in new if o in old]
    kept: set[str] = set()
    for block in SequenceMatcher(
        None, common_old, common_new, autojunk=False
    ).get_matching_blocks():
        kept.update(common_old[block.a : block.a + block.size])
    for oid, option in new.items():
        if oid in between and between[oid][1] == node_id:
            source = a.options[between[oid][0]][oid]
            note = f"from node '{source.node}'"
            changes.append(Change("moved", node_id, oid, note=note))
            changes += _option_changes(a, b, node_id, oid, source, option)
        elif oid not in old:
            changes.append(Change("added", node_id, oid, new=_label(b, option)))
        else:
            if oid not in kept:
                note = f"position {old[oid].position} -> {option.position}"
                changes.append(Change("moved", node_id, oid, note=note))
            changes += _option_changes(a, b, node_id, oid, old[oid], option)
    return changes


def _option_changes(
    a: _Outline, b: _Outline, node_id: str, oid: str, before: _Option, after: _Option
) -> list[Change]:
    return _fields_changed(node_id, oid, before.raw, after.raw, ("label",)) + _texts_changed(
        node_id, oid, "label", a.texts(before.raw.get("label")), b.texts(after.raw.get("label"))
    )


def _label(outline: _Outline, option: _Option) -> str | None:
    texts = outline.texts(option.raw.get("label"))
    return next(iter(texts.values()), None)


def _names(node_ids: set[str]) -> str:
    return ", ".join(f"'{n}'" for n in sorted(node_ids)) or "nowhere"
