"""Compile a source document into an immutable ``Tree``, reporting every structural problem at once.

The document keeps the editor's texts; the compiled tree holds them transliterated to GSM-7 (what
the engine measures and sends), and lists each text that changed as a warning with its
characters. Retired options are left out of the menus here and kept aside on their node.
Semantic checks (links, reachability, languages, screen sizes, the report's keys) live in
``menus.validate``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from . import gsm
from . import problems as codes
from .document import SKIP_OPTION_ID, Document, normalise, option_id
from .errors import TreeError
from .languages import tree_languages
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
from .problems import Problem

SPEC_VERSION = 1

# Forward migrations of the document: MIGRATIONS[n] turns spec n into spec n + 1.
MIGRATIONS: dict[int, Callable[[Document], Document]] = {}


class _Place:
    """Where in the document a value sits, to name it in a problem."""

    def __init__(
        self, node: str | None = None, option: str | None = None, field: str | None = None
    ) -> None:
        self.node, self.option, self.field = node, option, field

    def with_field(self, field: str | None) -> _Place:
        return _Place(self.node, self.option, field)


class _Reader:
    """Collects problems while converting, so an editor sees all of them in one go."""

    def __init__(self, languages: tuple[str, ...]) -> None:
        self.languages = languages
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, code: str, at: _Place, message: str, language: str | None = None) -> None:
        self.problems.append(Problem(code, message, at.node, at.option, language, at.field))

    def text(self, at: _Place, raw: Any, *, required: bool = True) -> Text:
        if raw is None:
            if required:
                self.problem(codes.MISSING_TEXT, at, "text is missing")
            return {}
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            # One text for every language (a proper name, or a multilingual line).
            raw = {lang: str(raw) for lang in self.languages}
        if not isinstance(raw, dict):
            self.problem(
                codes.BAD_FIELD, at, "text must be a string or a mapping language -> string"
            )
            return {}
        out: Text = {}
        for lang, value in raw.items():
            if not isinstance(value, str | int | float) or not str(value).strip():
                self.problem(codes.MISSING_TEXT, at, f"text for language '{lang}' is empty", lang)
                continue
            value = str(value).strip()
            changed = gsm.changed_characters(value)
            if changed:
                pairs = tuple((c, gsm.to_gsm(c)) for c in changed)
                self.warnings.append(
                    Problem(
                        codes.TRANSLITERATED,
                        # The whole text, as written and as sent: a changed letter can change
                        # a meaning ("forêts" sent as "forets", drill bits).
                        "transliterated to GSM-7: "
                        + ", ".join(f"{c!r}->{r!r}" for c, r in pairs)
                        + f" ({value!r} is sent as {gsm.to_gsm(value)!r})",
                        at.node,
                        at.option,
                        str(lang),
                        at.field,
                        severity="warning",
                        characters=pairs,
                    )
                )
            out[str(lang)] = gsm.to_gsm(value)
        return out

    def route(self, at: _Place, raw: Any) -> Route:
        at = at.with_field("next")
        if raw is None:
            return ()
        if isinstance(raw, str):
            return (Branch(goto=raw),)
        if not isinstance(raw, list):
            self.problem(codes.BAD_FIELD, at, "next must be a node id or a list of {when, goto}")
            return ()
        branches: list[Branch] = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or not isinstance(item.get("goto"), str):
                self.problem(codes.BAD_FIELD, at, f"next[{i}] needs a 'goto' node id")
                continue
            when = item.get("when") or {}
            if not isinstance(when, dict):
                self.problem(
                    codes.BAD_FIELD, at, f"next[{i}].when must be a mapping answer-key -> value"
                )
                when = {}
            branches.append(
                Branch(goto=item["goto"], when=tuple((str(k), str(v)) for k, v in when.items()))
            )
        return tuple(branches)

    def option(self, node_id: str, raw: Any, position: int | None) -> tuple[Option | None, bool]:
        """(option, retired); ``position`` None reads the node's skip option."""
        label = f"option #{position}" if position is not None else "skip"
        if not isinstance(raw, dict):
            self.problem(
                codes.BAD_FIELD, _Place(node_id, field=label), "an option must be a mapping"
            )
            return None, False
        found_id = SKIP_OPTION_ID if position is None else option_id(raw)
        if found_id is None:
            self.problem(
                codes.MISSING_OPTION_ID,
                _Place(node_id, field=label),
                "an option without a 'value' or an 'action' needs an 'id' (stable across edits)",
            )
            found_id = label
        at = _Place(node_id, found_id)
        if "id" in raw and not isinstance(raw["id"], str):
            self.problem(codes.BAD_FIELD, at.with_field("id"), "id must be a string")
        action = raw.get("action")
        if action is not None and action not in ACTIONS:
            self.problem(
                codes.UNKNOWN_ACTION, at, f"unknown action '{action}' (known: {', '.join(ACTIONS)})"
            )
            action = None
        retired = raw.get("retired", False)
        if not isinstance(retired, bool):
            self.problem(codes.BAD_FIELD, at.with_field("retired"), "retired must be true or false")
            retired = False
        send_reference = raw.get("send_reference", False)
        if not isinstance(send_reference, bool):
            self.problem(
                codes.BAD_FIELD,
                at.with_field("send_reference"),
                "send_reference must be true or false",
            )
            send_reference = False
        value = raw.get("value")
        option = Option(
            label=self.text(at.with_field("label"), raw.get("label")),
            value=None if value is None else str(value),
            next=self.route(at, raw.get("next")),
            action=cast("Action | None", action),
            id=found_id,
            send_reference=send_reference,
        )
        return option, retired

    def options(self, node_id: str, raw: Any) -> tuple[tuple[Option, ...], tuple[Option, ...]]:
        """(offered, retired) options of a node."""
        if raw is None:
            return (), ()
        if not isinstance(raw, list):
            self.problem(
                codes.BAD_FIELD, _Place(node_id, field="options"), "options must be a list"
            )
            return (), ()
        offered: list[Option] = []
        retired: list[Option] = []
        seen: set[str] = set()
        for i, item in enumerate(raw, 1):
            option, is_retired = self.option(node_id, item, i)
            if option is None:
                continue
            if option.id in seen:
                self.problem(
                    codes.DUPLICATE_ID,
                    _Place(node_id, option.id),
                    "id is used by more than one option of this node",
                )
            seen.add(option.id)
            (retired if is_retired else offered).append(option)
        return tuple(offered), tuple(retired)

    def integer(self, node_id: str, raw: dict[str, Any], name: str, default: int | None) -> Any:
        value = raw.get(name, default)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            self.problem(
                codes.BAD_FIELD, _Place(node_id, field=name), f"{name} must be a whole number"
            )
            return default
        return value

    def node_id(self, at: _Place, raw: dict[str, Any], name: str) -> str | None:
        found = raw.get(name)
        if found is not None and not isinstance(found, str):
            self.problem(codes.BAD_FIELD, at.with_field(name), f"{name} must be a node id")
            return None
        return found

    def templates(self, at: _Place, raw: dict[str, Any], name: str) -> tuple[str, ...]:
        found = raw.get(name) or []
        if not isinstance(found, list) or not all(isinstance(s, str) for s in found):
            self.problem(
                codes.BAD_FIELD, at.with_field(name), f"{name} must be a list of line templates"
            )
            return ()
        return tuple(found)

    def node(self, raw: Any, index: int) -> Node | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            self.problem(
                codes.MISSING_FIELD, _Place(field=f"node #{index + 1}"), "every node needs an 'id'"
            )
            return None
        node_id = raw["id"]
        at = _Place(node_id)
        kind = raw.get("kind")
        if kind not in NODE_KINDS:
            self.problem(
                codes.UNKNOWN_KIND, at, f"kind '{kind}' is not one of {', '.join(NODE_KINDS)}"
            )
            return None
        input_type = raw.get("input")
        if kind == "input" and input_type not in INPUT_TYPES:
            self.problem(codes.UNKNOWN_INPUT, at, f"input must be one of {', '.join(INPUT_TYPES)}")
            input_type = "text"
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            self.problem(
                codes.BAD_FIELD,
                at.with_field("params"),
                "params must be a mapping parameter -> answer key",
            )
            params = {}
        summary = self.templates(at, raw, "summary")
        discreet_summary = self.templates(at, raw, "discreet_summary")
        skip_raw = raw.get("skip")
        skip = self.option(node_id, skip_raw, None)[0] if skip_raw is not None else None
        offered, retired = self.options(node_id, raw.get("options"))
        return Node(
            id=node_id,
            kind=cast("NodeKind", kind),
            text=self.text(at.with_field("text"), raw.get("text"), required=kind != "language"),
            key=raw.get("key"),
            next=self.route(at, raw.get("next")),
            options=offered,
            error=self.text(at.with_field("error"), raw.get("error"), required=False),
            input_type=cast("InputType | None", input_type if kind == "input" else None),
            min_length=self.integer(node_id, raw, "min_length", 1),
            max_length=self.integer(node_id, raw, "max_length", 140),
            minimum=self.integer(node_id, raw, "minimum", None),
            maximum=self.integer(node_id, raw, "maximum", None),
            max_age_days=self.integer(node_id, raw, "max_age_days", 3650),
            skip=skip,
            skip_token=str(raw.get("skip_token", "1")),
            source=raw.get("source"),
            params=tuple((str(k), str(v)) for k, v in params.items()),
            summary=summary,
            discreet_summary=discreet_summary,
            title=self.text(at.with_field("title"), raw.get("title"), required=False),
            takes_text=self.node_id(at, raw, "takes_text"),
            retired=retired,
        )


def _tree_problem(code: str, message: str, field: str | None = None) -> Problem:
    return Problem(code, message, field=field)


def _migrate(document: Document, source: str) -> Document:
    spec = document.get("spec_version")
    if not isinstance(spec, int) or isinstance(spec, bool):
        raise TreeError(
            source,
            [_tree_problem(codes.BAD_SPEC_VERSION, "spec_version (a whole number) is missing")],
        )
    if spec > SPEC_VERSION:
        message = f"spec_version {spec} is newer than this engine ({SPEC_VERSION})"
        raise TreeError(source, [_tree_problem(codes.BAD_SPEC_VERSION, message)])
    while spec < SPEC_VERSION:
        if spec not in MIGRATIONS:
            message = f"no migration from spec_version {spec}"
            raise TreeError(source, [_tree_problem(codes.BAD_SPEC_VERSION, message)])
        document = MIGRATIONS[spec](document)
        spec += 1
    return document


def compile_tree(raw: Any, *, version: int = 1, source: str = "<memory>") -> Tree:
    """Compile a source document into a ``Tree`` numbered ``version`` (structure only).

    Raises ``TreeError`` with every structural problem found. ``raw`` is not modified.
    """
    document = _migrate(normalise(raw, source), source)
    languages = document.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(x, str) for x in languages)
    ):
        message = "languages must be a non-empty list of language codes"
        raise TreeError(source, [_tree_problem(codes.MISSING_FIELD, message, "languages")])
    # A plain-string text is the same in every language of the document, those being added
    # (``menus.languages``) included.
    reader = _Reader(tuple(tree_languages(document)))
    for name in ("id", "start"):
        if not isinstance(document.get(name), str) or not document[name]:
            reader.problems.append(_tree_problem(codes.MISSING_FIELD, f"'{name}' is missing"))
    names = document.get("language_names") or {}
    if not isinstance(names, dict):
        reader.problems.append(
            _tree_problem(codes.BAD_FIELD, "language_names must be a mapping", "language_names")
        )
        names = {}
    language_names = reader.text(_Place(field="language_names"), names, required=False)
    for lang in languages:
        if lang not in language_names:
            reader.problems.append(
                Problem(
                    codes.MISSING_TEXT,
                    f"language_names has no name for '{lang}'",
                    language=lang,
                    field="language_names",
                )
            )

    keywords: dict[str, tuple[str, ...]] = {}
    raw_keywords = document.get("keywords") or {}
    if not isinstance(raw_keywords, dict):
        reader.problems.append(
            _tree_problem(codes.BAD_FIELD, "keywords must be a mapping", "keywords")
        )
        raw_keywords = {}
    for lang, words in raw_keywords.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            reader.problems.append(
                _tree_problem(
                    codes.BAD_FIELD, f"keywords for '{lang}' must be a list of words", "keywords"
                )
            )
            continue
        keywords[str(lang)] = tuple(words)

    nodes: dict[str, Node] = {}
    raw_nodes = document.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        reader.problems.append(
            _tree_problem(codes.MISSING_FIELD, "nodes must be a non-empty list", "nodes")
        )
        raw_nodes = []
    for index, raw_node in enumerate(raw_nodes):
        node = reader.node(raw_node, index)
        if node is None:
            continue
        if node.id in nodes:
            reader.problems.append(
                Problem(codes.DUPLICATE_ID, "id is used by more than one node", node.id)
            )
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
