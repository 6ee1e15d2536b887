"""The node editor's form applied to a tree's source document (refusals in the editor's language).

The form names its fields by position (``opt-2-label-fr``); positions are safe because every save
carries the draft's revision: a form built from another revision is refused before it is read.
Whatever the form does not show (an option's ``id``, ``action``, ``send_reference``; a node's
``source``, ``params``, ``summary``...) is kept as it was. A text the document held as one plain
string for every language stays one string while every language keeps it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from menus.document import Document, option_id
from menus.model import INPUT_TYPES, NODE_KINDS

# Texts a node may carry, per language, and for which kinds the editor shows them.
NODE_TEXTS = ("title", "text", "error")
# Whole-number settings of an input node, by input type.
NUMBERS = {
    "text": ("min_length", "max_length"),
    "number": ("minimum", "maximum"),
    "date": ("max_age_days",),
}
ALL_NUMBERS = ("min_length", "max_length", "minimum", "maximum", "max_age_days")


class EditError(ValueError):
    """An edit the editor refuses; the message names what and why (shown to the editor)."""


class Refused(EditError):
    """Why an edit was refused, in the editor's language (a lazy Babel string)."""

    def __init__(self, message: Any) -> None:
        self.message = message
        super().__init__(str(message))


def languages(document: Document) -> list[str]:
    return [str(x) for x in document.get("languages") or [] if isinstance(x, str)]


def find_node(document: Document, node_id: str) -> dict[str, Any] | None:
    for raw in document.get("nodes") or []:
        if isinstance(raw, dict) and raw.get("id") == node_id:
            return raw
    return None


def node_ids(document: Document) -> list[str]:
    return [
        raw["id"]
        for raw in document.get("nodes") or []
        if isinstance(raw, dict) and isinstance(raw.get("id"), str)
    ]


def text_of(raw: Any, lang: str) -> str:
    """One language's text of a document text (a plain string serves every language)."""
    if isinstance(raw, dict):
        value = raw.get(lang)
        return "" if value is None else str(value)
    return "" if raw is None else str(raw)


def merged_text(old: Any, given: Mapping[str, str], langs: list[str]) -> Any:
    """The document value for texts typed per language; None when every one is empty."""
    values = {lang: given.get(lang, "").strip() for lang in langs}
    if isinstance(old, str) and all(v == old for v in values.values()):
        return old
    kept = {lang: v for lang, v in values.items() if v}
    if isinstance(old, dict):  # languages the tree no longer lists are kept, not lost
        kept.update({k: v for k, v in old.items() if k not in langs})
    return kept or None


def _set(raw: dict[str, Any], name: str, value: Any) -> None:
    if value is None or value == "":
        raw.pop(name, None)
    else:
        raw[name] = value


def _whole(form: Mapping[str, str], name: str) -> int | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise Refused(_l("%(field)s must be a whole number.", field=name)) from None


def _route(form: Mapping[str, str], name: str, old: Any) -> Any:
    """A ``next`` from a select; a list of branches (edited in YAML) is kept as it is."""
    if form.get(name) == "@branches":
        return old if isinstance(old, list) else None
    value = form.get(name, "").strip()
    return value or None


def apply_node_form(
    document: Document,
    node_id: str,
    form: Mapping[str, str],
    op: str,
    codes_in_use: Mapping[str, str] | None = None,
    langs: list[str] | None = None,
) -> tuple[Document, str]:
    """The document after the node form and its button ``op``; and what was done (for the audit).

    ``op``: ``save``, ``add``, ``up:N``, ``down:N``, ``remove:N``, ``retire:N``, ``unretire:N``,
    ``move:N`` (to the node named by ``opt-N-moveto``). A code that has reports is never removed,
    moved or changed (``Refused``): it can be retired.
    """
    used = dict(codes_in_use or {})
    document = copy.deepcopy(document)
    node = find_node(document, node_id)
    if node is None:
        raise Refused(_l("There is no node %(node)s.", node=node_id))
    langs = langs or languages(document)  # the declared ones, and those being added
    _apply_fields(node, form, langs, used)
    action, _, index_text = op.partition(":")
    options: list[Any] = node.setdefault("options", [])
    index = -1
    if index_text:
        try:
            index = int(index_text)
        except ValueError:
            raise Refused(_l("Unknown action.")) from None
        if not 0 <= index < len(options) or not isinstance(options[index], dict):
            raise Refused(_l("Unknown action."))
    done = f"node {node_id}"
    if action == "save":
        pass
    elif action == "add":
        value = form.get("new-value", "").strip()
        label = {lang: form.get(f"new-label-{lang}", "").strip() for lang in langs}
        if not value and not any(label.values()):
            raise Refused(_l("Give the new option a code or a label."))
        if value and value in _values(options):
            raise Refused(_l("Another option of this node has the code %(code)s.", code=value))
        added: dict[str, Any] = {}
        if value:
            added["value"] = value
        else:
            added["id"] = _fresh_id(options)
        added["label"] = {k: v for k, v in label.items() if v}
        target = form.get("new-next", "").strip()
        if target:
            added["next"] = target
        options.append(added)
        done += f": option {option_id(added)} added"
    elif action in ("up", "down"):
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(options):
            options[index], options[other] = options[other], options[index]
        done += f": option {option_id(options[other if 0 <= other < len(options) else index])} moved {action}"
    elif action == "remove":
        removed = options[index]
        code = removed.get("value")
        if in_use(node, removed, used):
            raise Refused(
                _l(
                    "The code %(code)s has reports: it cannot be removed. Retire it instead.",
                    code=str(code),
                )
            )
        del options[index]
        done += f": option {option_id(removed)} removed"
    elif action in ("retire", "unretire"):
        chosen = options[index]
        if action == "retire":
            chosen["retired"] = True
        else:
            chosen.pop("retired", None)
        done += f": option {option_id(chosen)} {action}d"
    elif action == "move":
        target_id = form.get(f"opt-{index}-moveto", "").strip()
        destination = find_node(document, target_id) if target_id else None
        if destination is None or target_id == node_id:
            raise Refused(_l("Choose the node to move the option to."))
        moved = options[index]
        code = moved.get("value")
        if in_use(node, moved, used):
            raise Refused(
                _l(
                    "The code %(code)s has reports: it cannot move to another question. "
                    "Retire it and add a new option there.",
                    code=str(code),
                )
            )
        del options[index]
        destination.setdefault("options", []).append(moved)
        done += f": option {option_id(moved)} moved to node {target_id}"
    else:
        raise Refused(_l("Unknown action."))
    if not options:
        node.pop("options", None)
    return document, done


def in_use(node: dict[str, Any], option: Any, used: Mapping[str, str]) -> bool:
    """The option's code has reports under this node's answer key (``category``, ...)."""
    if not isinstance(option, dict):
        return False
    code = option.get("value")
    return isinstance(code, str) and used.get(code) == node.get("key")


def _values(options: list[Any]) -> set[str]:
    return {str(o.get("value")) for o in options if isinstance(o, dict) and "value" in o}


def _fresh_id(options: list[Any]) -> str:
    taken = {option_id(o) for o in options if isinstance(o, dict)}
    n = len(options) + 1
    while f"option{n}" in taken:
        n += 1
    return f"option{n}"


def _apply_fields(
    node: dict[str, Any], form: Mapping[str, str], langs: list[str], codes_in_use: Mapping[str, str]
) -> None:
    kind = form.get("kind", node.get("kind", ""))
    if kind not in NODE_KINDS:
        raise Refused(_l("Unknown node kind %(kind)s.", kind=kind))
    node["kind"] = kind
    if "key" in form:
        _set(node, "key", form["key"].strip() or None)
    for name in NODE_TEXTS:
        given = {lang: form.get(f"{name}-{lang}", "") for lang in langs}
        if any(f"{name}-{lang}" in form for lang in langs):
            _set(node, name, merged_text(node.get(name), given, langs))
    if "next" in form:
        _set(node, "next", _route(form, "next", node.get("next")))
    if kind == "input":
        input_type = form.get("input", node.get("input") or "text")
        if input_type not in INPUT_TYPES:
            raise Refused(_l("Unknown input type %(input)s.", input=input_type))
        node["input"] = input_type
        for name in ALL_NUMBERS:
            if name in NUMBERS[input_type]:
                if name in form:
                    _set(node, name, _whole(form, name))
            else:
                node.pop(name, None)
        if form.get("skip-on"):
            skip = node.get("skip") if isinstance(node.get("skip"), dict) else {}
            assert isinstance(skip, dict)
            given = {lang: form.get(f"skip-label-{lang}", "") for lang in langs}
            _set(skip, "label", merged_text(skip.get("label"), given, langs))
            _set(skip, "next", _route(form, "skip-next", skip.get("next")))
            node["skip"] = skip
        else:
            node.pop("skip", None)
    else:
        node.pop("input", None)
    for index, option in enumerate(node.get("options") or []):
        if not isinstance(option, dict):
            continue
        prefix = f"opt-{index}-"
        if prefix + "value" in form and "action" not in option:
            value = form[prefix + "value"].strip()
            old = option.get("value")
            if in_use(node, option, codes_in_use) and value != old:
                raise Refused(
                    _l(
                        "The code %(code)s has reports: it cannot change. Retire it and add a new "
                        "option.",
                        code=str(old),
                    )
                )
            _set(option, "value", value or None)
        given = {lang: form.get(f"{prefix}label-{lang}", "") for lang in langs}
        if any(f"{prefix}label-{lang}" in form for lang in langs):
            _set(option, "label", merged_text(option.get("label"), given, langs))
        if prefix + "next" in form:
            _set(option, "next", _route(form, prefix + "next", option.get("next")))


def add_node(document: Document, node_id: str, kind: str) -> Document:
    node_id = node_id.strip()
    if not node_id or not node_id.replace("_", "").isalnum() or not node_id.isascii():
        raise Refused(_l("A node id is letters, digits and _ only."))
    if kind not in NODE_KINDS:
        raise Refused(_l("Unknown node kind %(kind)s.", kind=kind))
    if find_node(document, node_id) is not None:
        raise Refused(_l("There is a node %(node)s already.", node=node_id))
    document = copy.deepcopy(document)
    raw: dict[str, Any] = {"id": node_id, "kind": kind}
    if kind == "input":
        raw["input"] = "text"
    document.setdefault("nodes", []).append(raw)
    return document


def remove_node(document: Document, node_id: str, codes_in_use: Mapping[str, str]) -> Document:
    node = find_node(document, node_id)
    if node is None:
        raise Refused(_l("There is no node %(node)s.", node=node_id))
    for option in node.get("options") or []:
        code = option.get("value") if isinstance(option, dict) else None
        if in_use(node, option, codes_in_use):
            raise Refused(
                _l(
                    "The code %(code)s has reports: its node cannot be removed. Retire the option.",
                    code=str(code),
                )
            )
    document = copy.deepcopy(document)
    document["nodes"] = [
        raw
        for raw in document.get("nodes") or []
        if not (isinstance(raw, dict) and raw.get("id") == node_id)
    ]
    return document
