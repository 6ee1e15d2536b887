"""Read a tree from YAML into ``menus.model`` objects, reporting every structural problem at once.

Semantic checks (links, reachability, languages, screen sizes) live in ``menus.validate``;
``load_tree`` runs both, so a tree that loads is a tree that may serve.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import yaml

from . import gsm
from .errors import TreeError
from .model import (
    ACTIONS,
    INPUT_TYPES,
    NODE_KINDS,
    Action,
    Branch,
    InputType,
    Node,
    NodeKind,
    Option,
    Route,
    Text,
    Tree,
)

SPEC_VERSION = 1

# Forward migrations of the YAML document: MIGRATIONS[n] turns spec n into spec n + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class _Reader:
    """Collects problems while converting, so an editor sees all of them in one go."""

    def __init__(self, languages: tuple[str, ...]) -> None:
        self.languages = languages
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, where: str, raw: Any, *, required: bool = True) -> Text:
        if raw is None:
            if required:
                self.problem(where, "text is missing")
            return {}
        if isinstance(raw, str | int | float):
            # One text for every language (a proper name, or a multilingual line).
            raw = {lang: str(raw) for lang in self.languages}
        if not isinstance(raw, dict):
            self.problem(where, "text must be a string or a mapping language -> string")
            return {}
        out: Text = {}
        for lang, value in raw.items():
            if not isinstance(value, str | int | float) or not str(value).strip():
                self.problem(where, f"text for language '{lang}' is empty")
                continue
            value = str(value).strip()
            changed = gsm.changed_characters(value)
            if changed:
                self.warnings.append(
                    f"{where} ({lang}): transliterated to GSM-7: "
                    + ", ".join(f"{c!r}->{gsm.to_gsm(c)!r}" for c in changed)
                )
            out[str(lang)] = gsm.to_gsm(value)
        return out

    def route(self, where: str, raw: Any) -> Route:
        if raw is None:
            return ()
        if isinstance(raw, str):
            return (Branch(goto=raw),)
        if not isinstance(raw, list):
            self.problem(where, "next must be a node id or a list of {when, goto}")
            return ()
        branches: list[Branch] = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or not isinstance(item.get("goto"), str):
                self.problem(where, f"next[{i}] needs a 'goto' node id")
                continue
            when = item.get("when") or {}
            if not isinstance(when, dict):
                self.problem(where, f"next[{i}].when must be a mapping answer-key -> value")
                when = {}
            branches.append(
                Branch(goto=item["goto"], when=tuple((str(k), str(v)) for k, v in when.items()))
            )
        return tuple(branches)

    def option(self, where: str, raw: Any) -> Option | None:
        if not isinstance(raw, dict):
            self.problem(where, "an option must be a mapping with a label")
            return None
        action = raw.get("action")
        if action is not None and action not in ACTIONS:
            self.problem(where, f"unknown action '{action}' (known: {', '.join(ACTIONS)})")
            action = None
        value = raw.get("value")
        return Option(
            label=self.text(f"{where} label", raw.get("label")),
            value=None if value is None else str(value),
            next=self.route(where, raw.get("next")),
            action=cast("Action | None", action),
        )

    def options(self, where: str, raw: Any) -> tuple[Option, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problem(where, "options must be a list")
            return ()
        found = (self.option(f"{where} option {i + 1}", item) for i, item in enumerate(raw))
        return tuple(o for o in found if o is not None)

    def integer(self, where: str, raw: dict[str, Any], name: str, default: int | None) -> Any:
        value = raw.get(name, default)
        if value is not None and not isinstance(value, int):
            self.problem(where, f"{name} must be a whole number")
            return default
        return value

    def node(self, raw: Any, index: int) -> Node | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            self.problem(f"node #{index + 1}", "every node needs an 'id'")
            return None
        node_id = raw["id"]
        where = f"node '{node_id}'"
        kind = raw.get("kind")
        if kind not in NODE_KINDS:
            self.problem(where, f"kind '{kind}' is not one of {', '.join(NODE_KINDS)}")
            return None
        input_type = raw.get("input")
        if kind == "input" and input_type not in INPUT_TYPES:
            self.problem(where, f"input must be one of {', '.join(INPUT_TYPES)}")
            input_type = "text"
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            self.problem(where, "params must be a mapping parameter -> answer key")
            params = {}
        summary = raw.get("summary") or []
        if not isinstance(summary, list) or not all(isinstance(s, str) for s in summary):
            self.problem(where, "summary must be a list of line templates")
            summary = []
        skip_raw = raw.get("skip")
        return Node(
            id=node_id,
            kind=cast("NodeKind", kind),
            text=self.text(where, raw.get("text"), required=kind != "language"),
            key=raw.get("key"),
            next=self.route(where, raw.get("next")),
            options=self.options(where, raw.get("options")),
            error=self.text(f"{where} error", raw.get("error"), required=False),
            input_type=cast("InputType | None", input_type if kind == "input" else None),
            min_length=self.integer(where, raw, "min_length", 1),
            max_length=self.integer(where, raw, "max_length", 140),
            minimum=self.integer(where, raw, "minimum", None),
            maximum=self.integer(where, raw, "maximum", None),
            max_age_days=self.integer(where, raw, "max_age_days", 3650),
            skip=self.option(f"{where} skip", skip_raw) if skip_raw is not None else None,
            skip_token=str(raw.get("skip_token", "1")),
            source=raw.get("source"),
            params=tuple((str(k), str(v)) for k, v in params.items()),
            summary=tuple(summary),
        )


def parse_tree(document: Any, source: str = "<memory>") -> Tree:
    """Convert a parsed YAML document into a ``Tree`` (structure only; see ``validate``)."""
    if not isinstance(document, dict):
        raise TreeError(source, ["the document must be a mapping"])
    spec = document.get("spec_version")
    if not isinstance(spec, int):
        raise TreeError(source, ["spec_version (a whole number) is missing"])
    if spec > SPEC_VERSION:
        raise TreeError(source, [f"spec_version {spec} is newer than this engine ({SPEC_VERSION})"])
    while spec < SPEC_VERSION:
        if spec not in MIGRATIONS:
            raise TreeError(source, [f"no migration from spec_version {spec}"])
        document = MIGRATIONS[spec](document)
        spec += 1

    languages = document.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(x, str) for x in languages)
    ):
        raise TreeError(source, ["languages must be a non-empty list of language codes"])
    reader = _Reader(tuple(languages))
    for name in ("id", "start"):
        if not isinstance(document.get(name), str):
            reader.problem("tree", f"'{name}' is missing")
    version = document.get("version")
    if not isinstance(version, int) or version < 1:
        reader.problem("tree", "'version' must be a whole number >= 1")
        version = 1
    names = document.get("language_names") or {}
    if not isinstance(names, dict):
        reader.problem("tree", "language_names must be a mapping")
        names = {}
    language_names = reader.text("tree language_names", names, required=False)
    for lang in languages:
        if lang not in language_names:
            reader.problem("tree", f"language_names has no name for '{lang}'")

    keywords: dict[str, tuple[str, ...]] = {}
    for lang, words in (document.get("keywords") or {}).items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            reader.problem("tree", f"keywords for '{lang}' must be a list of words")
            continue
        keywords[str(lang)] = tuple(words)

    nodes: dict[str, Node] = {}
    raw_nodes = document.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        reader.problem("tree", "nodes must be a non-empty list")
        raw_nodes = []
    for index, raw in enumerate(raw_nodes):
        node = reader.node(raw, index)
        if node is None:
            continue
        if node.id in nodes:
            reader.problem(f"node '{node.id}'", "id is used by more than one node")
            continue
        nodes[node.id] = node
    if reader.problems:
        raise TreeError(source, reader.problems)
    return Tree(
        id=document["id"],
        version=version,
        spec_version=SPEC_VERSION,
        languages=tuple(languages),
        language_names=language_names,
        start=document["start"],
        nodes=nodes,
        keywords=keywords,
        source=source,
        warnings=tuple(reader.warnings),
    )


def read_tree(path: Path) -> Tree:
    """Parse a YAML file into a tree, structure only."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TreeError(str(path), [f"not valid YAML: {exc}"]) from exc
    return parse_tree(document, source=str(path))
