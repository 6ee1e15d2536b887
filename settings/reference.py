"""The README's table of settings, generated from ``config.yaml`` and the typed sections.

Each setting's default is its value in ``config.yaml``, its meaning the comment on its line (and
on comment lines continuing it at the same column), its type the dataclass field's. Generated so
that it cannot drift: ``tests/test_settings.py`` fails when the README's copy differs.

``python -m settings.reference README.md`` rewrites the table in place (``make settings-table``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo

from .loading import DEFAULT_CONFIG, read_yaml
from .sections import AtLeast, Settings

START = "<!-- settings-table: generated from config.yaml by `make settings-table`; do not edit -->"
END = "<!-- settings-table: end -->"
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_]\w*):(?P<rest>.*)$")


def _comment_start(text: str) -> int | None:
    """Where a ``#`` comment starts in ``text``, outside quotes; None without one."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1].isspace()):
            return index
    return None


def comments(text: str) -> dict[str, str]:
    """Dotted key -> the comment that explains it, read from config.yaml's text."""
    found: dict[str, str] = {}
    stack: list[tuple[int, str]] = []  # (indent, key) of the enclosing mappings
    last: tuple[str, int] | None = None  # the key whose comment may continue, and its column
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if last is not None and line.index("#") == last[1]:
                found[last[0]] += " " + stripped[1:].strip()
                continue
            last = None
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            last = None
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key = ".".join([*(k for _, k in stack), match["key"]])
        stack.append((indent, match["key"]))
        at = _comment_start(line)
        if at is None:
            last = None
            continue
        found[key] = line[at + 1 :].strip()
        last = (key, at)
    return found


def _leaves(cls: type[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    hints = typing.get_type_hints(cls, include_extras=True)
    for item in dataclasses.fields(cls):
        if item.metadata.get("secret"):
            continue
        hint = hints[item.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            yield from _leaves(hint, f"{prefix}{item.name}.")
        else:
            yield f"{prefix}{item.name}", hint


def describe(hint: Any) -> str:
    """A type as a reader of the configuration would say it."""
    origin = get_origin(hint)
    if origin is typing.Annotated:
        base, *marks = get_args(hint)
        bounds = [f" ≥ {mark.minimum:g}" for mark in marks if isinstance(mark, AtLeast)]
        return describe(base) + "".join(bounds)
    if origin is Literal:
        return " \\| ".join(f"`{choice}`" for choice in get_args(hint))
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"list of {describe(args[0])}s"
        return f"list of {len(args)} {describe(args[0])}s"
    if origin is Mapping:
        return f"mapping of text to {describe(get_args(hint)[1])}"
    names = {
        bool: "true \\| false",
        int: "whole number",
        float: "number",
        str: "text",
        Path: "path",
        ZoneInfo: "time zone",
    }
    return names[hint]


def _default(data: Mapping[str, Any], key: str) -> str:
    value: Any = data
    for part in key.split("."):
        value = value[part]
    shown = value if isinstance(value, str) and value else json.dumps(value, ensure_ascii=False)
    return f"`{shown}`"


def table(config: Path = DEFAULT_CONFIG) -> str:
    """The Markdown table: one row per setting, in config.yaml's order."""
    text = config.read_text(encoding="utf-8")
    data, meaning = read_yaml(config), comments(text)
    order = {key: index for index, key in enumerate(meaning)}
    leaves = sorted(_leaves(Settings), key=lambda leaf: order.get(leaf[0], len(order)))
    rows = ["| setting | type | default | meaning |", "|---|---|---|---|"]
    for key, hint in leaves:
        explained = meaning.get(key, "").replace("|", "\\|").replace("<", "&lt;")
        rows.append(f"| `{key}` | {describe(hint)} | {_default(data, key)} | {explained} |")
    return "\n".join(rows) + "\n"


def block(config: Path = DEFAULT_CONFIG) -> str:
    return f"{START}\n{table(config)}{END}"


def rewrite(readme: Path) -> bool:
    """Replace the README's table with a fresh one; True when it changed."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(START), text.index(END) + len(END)
    updated = text[:start] + block() + text[end:]
    if updated == text:
        return False
    readme.write_text(updated, encoding="utf-8")
    return True


if __name__ == "__main__":
    for name in sys.argv[1:] or ["README.md"]:
        print(f"{name}: {'rewritten' if rewrite(Path(name)) else 'already current'}")
