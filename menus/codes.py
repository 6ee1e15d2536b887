"""The taxonomy's codes across versions: a code that has reports keeps its meaning for good.

Statistics compare reports by category and sub-category code across menu versions, so an editor
may relabel a code or retire it (``retired: true``: no longer offered, still known), but not
delete it, nor reuse it for something else: a category code turned into a sub-category, or a
sub-category moved under another category. What "has reports" means comes from the reports
themselves (``storage.queries.trees.codes_in_use``); this module only compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import problems as codes
from .contract import CATEGORY, SUBCATEGORY, TAXONOMY_KEYS
from .model import Tree
from .problems import Problem


@dataclass(frozen=True)
class CodeUse:
    key: str  # the answer key: "category" or "subcategory"
    parents: frozenset[str] = frozenset()  # a sub-category's categories (empty: not known)
    node: str | None = None  # where the tree defines it
    retired: bool = False


def codes_of(tree: Tree) -> tuple[dict[str, CodeUse], list[Problem]]:
    """Every taxonomy code the tree defines (offered or retired), and any code defined twice."""
    found: dict[str, CodeUse] = {}
    problems: list[Problem] = []
    parents = _parents(tree)
    keys = {spec.key for spec in TAXONOMY_KEYS}
    for node in tree.nodes.values():
        if node.key not in keys:
            continue
        for option, retired in [(o, False) for o in node.options] + [
            (o, True) for o in node.retired
        ]:
            if option.value is None:
                continue
            if option.value in found:
                first = found[option.value]
                problems.append(
                    Problem(
                        codes.DUPLICATE_CODE,
                        f"code '{option.value}' is already defined by node '{first.node}'",
                        node.id,
                        option.id,
                    )
                )
                continue
            found[option.value] = CodeUse(
                key=node.key or "",
                parents=frozenset(parents.get(node.id, ())),
                node=node.id,
                retired=retired,
            )
    return found, problems


def _parents(tree: Tree) -> dict[str, set[str]]:
    """Sub-category node id -> the category codes whose option leads straight to it."""
    parents: dict[str, set[str]] = {}
    for node in tree.nodes.values():
        if node.key != CATEGORY.key:
            continue
        for option in (*node.options, *node.retired):
            for branch in option.next or node.next:
                target = tree.nodes.get(branch.goto)
                if target is not None and target.key == SUBCATEGORY.key and option.value:
                    parents.setdefault(target.id, set()).add(option.value)
    return parents


def check_codes(tree: Tree, in_use: Mapping[str, CodeUse]) -> list[Problem]:
    """Codes that have reports are still defined, under the same key and category."""
    defined, problems = codes_of(tree)
    for code, used in sorted(in_use.items()):
        now = defined.get(code)
        if now is None:
            problems.append(
                Problem(
                    codes.CODE_REMOVED,
                    f"code '{code}' has reports and cannot be removed: "
                    "retire its option instead (retired: true)",
                    option=code,
                )
            )
        elif now.key != used.key:
            problems.append(
                Problem(
                    codes.CODE_REUSED,
                    f"code '{code}' has reports as a {used.key}; it cannot become a {now.key}",
                    now.node,
                    code,
                )
            )
        elif used.parents and now.parents and not used.parents & now.parents:
            problems.append(
                Problem(
                    codes.CODE_REUSED,
                    f"code '{code}' has reports under {_names(used.parents)}; "
                    f"it cannot move under {_names(now.parents)}",
                    now.node,
                    code,
                )
            )
    return problems


def _names(values: frozenset[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


def code_labels(tree: Tree, language: str) -> dict[str, str]:
    """Every category and sub-category code the tree defines, offered **or retired**, with its
    label in ``language`` (else the tree's default language): what statistics and report pages
    call a code, old reports' retired codes included."""
    keys = {spec.key for spec in TAXONOMY_KEYS}
    labels: dict[str, str] = {}
    for node in tree.nodes.values():
        if node.key not in keys:
            continue
        for option in (*node.options, *node.retired):
            if option.value:
                text = (
                    option.label.get(language)
                    or option.label.get(tree.default_language)
                    or next(iter(option.label.values()), option.value)
                )
                labels.setdefault(option.value, text)
    return labels
