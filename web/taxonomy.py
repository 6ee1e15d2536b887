"""Names for the codes reports carry: categories and sub-categories (from the current menu tree, in
the reader's language) and places (the public province and territoire lists, with their accents).

Codes are the data contract; a code no list knows is shown as itself rather than hidden.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from flask import g
from flask_babel import get_locale

from menus.codes import code_labels
from menus.datasets import DATA_DIR
from menus.model import Tree
from services import current_services


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    province: str = ""  # a territoire's province (ISO 3166-2)


@cache
def provinces() -> tuple[Place, ...]:
    with (DATA_DIR / "provinces.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(Place(row["iso"], row["name"]) for row in csv.DictReader(handle))


@cache
def territories() -> tuple[Place, ...]:
    with (DATA_DIR / "territories.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(Place(row["pcode"], row["name"], row["province_iso"]) for row in rows)


def province_name(code: str | None) -> str:
    return next((p.name for p in provinces() if p.code == code), code or "")


def territory_name(pcode: str | None) -> str:
    return next((t.name for t in territories() if t.code == pcode), pcode or "")


def _tree() -> Tree:
    services = current_services()
    return services.trees.current(services.settings.default_tree)


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "fr"


@cache
def _taxonomy(tree_id: str, version: int, language: str) -> dict[str, str]:
    # Retired codes included: old reports keep their category's name on every page and chart.
    tree = current_services().trees.get(tree_id, version) or _tree()
    return code_labels(tree, language)


def labels() -> dict[str, str]:
    """Every category and sub-category code with its label in the reader's language (looked up
    once per request: an inbox page asks for one per row)."""
    found: dict[str, str] | None = g.get("_kuf_taxonomy")
    if found is None:
        tree = _tree()
        found = _taxonomy(tree.id, tree.version, _language())
        g._kuf_taxonomy = found
    return found


def labels_in(language: str) -> dict[str, str]:
    """Every category and sub-category code with its label in ``language`` (for someone other
    than the reader of this request: a member's notification)."""
    tree = _tree()
    return _taxonomy(tree.id, tree.version, language)


def categories() -> list[tuple[str, str]]:
    return [(code, label) for code, label in labels().items() if "." not in code]


def subcategories() -> list[tuple[str, str]]:
    """Sub-categories as (code, "Category: sub-category"), grouped by their category's order."""
    names = labels()
    order = {code: i for i, code in enumerate(c for c in names if "." not in c)}
    subs = [code for code in names if "." in code]
    subs.sort(key=lambda code: order.get(code.split(".")[0], len(order)))
    return [(code, f"{names.get(code.split('.')[0], '')}: {names[code]}") for code in subs]


def category_label(code: str | None) -> str:
    if not code:
        return ""
    return labels().get(code, code)


TEMPLATE_FUNCTIONS = {f.__name__: f for f in (category_label, province_name, territory_name)}
