"""A tree's source document: the YAML/JSON an editor writes, kept exactly as written.

The document is the editor's source of truth and what the database stores for each version; the
engine never reads it, only the ``Tree`` compiled from it (``menus.compiler``). Texts stay as the
editor typed them (``Français``, not ``Francais``): transliteration to GSM-7 happens when
compiling, so nothing is lost and every change can be shown as a warning.

A document is plain JSON data. Its ``version`` is not part of it: the database numbers versions
(a file's ``version`` field, from before versions lived in the database, is dropped on import).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from . import problems as codes
from .errors import TreeError
from .problems import Problem

Document = dict[str, Any]

# libyaml's loader when PyYAML has it: a tree file parses several times faster.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Fields a document may carry but that belong to the version record, not to the document.
VERSION_FIELDS = ("version",)


def parse_text(text: str, source: str = "<memory>") -> Document:
    """A document from YAML (or JSON, which YAML reads too)."""
    try:
        raw = yaml.load(text, Loader=_Loader)  # a safe loader, C or Python
    except yaml.YAMLError as exc:
        raise TreeError(source, [Problem(codes.INVALID_YAML, f"not valid YAML: {exc}")]) from exc
    return normalise(raw, source)


def normalise(raw: Any, source: str = "<memory>") -> Document:
    """Check the document is JSON data (the database stores it as JSON) and drop version fields.

    YAML reads more than JSON can hold: an unquoted date, a ``no:`` key that YAML 1.1 reads as
    false. Such values are refused here, by path, rather than changed behind the editor's back.
    """
    if not isinstance(raw, dict):
        raise TreeError(source, [Problem(codes.NOT_A_MAPPING, "the document must be a mapping")])
    found: list[Problem] = []
    _check_json(raw, "", found)
    if found:
        raise TreeError(source, found)
    document = copy.deepcopy(raw)
    for name in VERSION_FIELDS:
        document.pop(name, None)
    return document


def _check_json(value: Any, path: str, found: list[Problem]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                found.append(
                    Problem(
                        codes.NOT_JSON,
                        f"key {key!r} at '{path or '/'}' is not a string (quote it in YAML)",
                    )
                )
                continue
            _check_json(item, f"{path}/{key}", found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}/{index}", found)
    elif not (value is None or isinstance(value, str | int | float | bool)):
        found.append(
            Problem(
                codes.NOT_JSON,
                f"value at '{path}' is a {type(value).__name__}, not text or a number "
                "(quote it in YAML)",
            )
        )


def to_yaml(document: Document, header: str = "") -> str:
    """YAML that ``parse_text`` reads back into an identical document.

    Keys keep the document's order and texts their characters; ``header`` becomes comment lines.
    """
    body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    comments = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comments + body


def to_json(document: Document) -> str:
    """A canonical JSON text: equal documents give equal texts (to compare versions)."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def option_id(raw: dict[str, Any]) -> str | None:
    """An option's stable id: its ``id``, else its ``value`` (the code), else its ``action``.

    PO files and diffs name options by this id, so it must not depend on the option's position.
    Two options of one node with the same action need explicit ids (the validator says so).
    """
    for name in ("id", "value", "action"):
        value = raw.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value) != "":
            return str(value)
    return None


SKIP_OPTION_ID = "skip"  # an input node has at most one skip option
