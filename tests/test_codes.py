"""The taxonomy's code rules on their own: what may happen to a code that has reports."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from menus import problems as codes
from menus.codes import CodeUse, check_codes, codes_of
from menus.compiler import compile_tree
from menus.document import Document
from menus.problems import Problem

from .trees_support import changed, node, option

IN_USE = {
    "accident": CodeUse("category"),
    "accident.collapse": CodeUse("subcategory", frozenset({"accident"})),
}


def _retire(document: Document) -> None:
    option(document, "sub_accident", "accident.collapse")["retired"] = True


def _relabel(document: Document) -> None:
    option(document, "sub_accident", "accident.collapse")["label"]["fr"] = "Effondrement"


def _remove(document: Document) -> None:
    node(document, "sub_accident")["options"].pop(0)


def _remove_category(document: Document) -> None:
    node(document, "category")["options"].pop(0)


def _category_becomes_a_subcategory(document: Document) -> None:
    option(document, "category", "accident")["value"] = "mishap"
    option(document, "sub_violence", "violence.other")["value"] = "accident"


def _move(document: Document) -> None:
    moved = node(document, "sub_accident")["options"].pop(0)
    node(document, "sub_violence")["options"].append(moved)


def _define_twice(document: Document) -> None:
    option(document, "sub_violence", "violence.other")["value"] = "accident.collapse"


CASES: list[tuple[str, Callable[[Document], None], list[Problem]]] = [
    ("relabelled", _relabel, []),
    ("retired", _retire, []),
    (
        "removed",
        _remove,
        [
            Problem(
                codes.CODE_REMOVED,
                "code 'accident.collapse' has reports and cannot be removed: "
                "retire its option instead (retired: true)",
                option="accident.collapse",
            )
        ],
    ),
    (
        "category removed",
        _remove_category,
        [
            Problem(
                codes.CODE_REMOVED,
                "code 'accident' has reports and cannot be removed: "
                "retire its option instead (retired: true)",
                option="accident",
            )
        ],
    ),
    (
        "a category reused as a sub-category",
        _category_becomes_a_subcategory,
        [
            Problem(
                codes.CODE_REUSED,
                "code 'accident' has reports as a category; it cannot become a subcategory",
                "sub_violence",
                "accident",
            ),
            Problem(
                codes.CODE_REUSED,
                "code 'accident.collapse' has reports under 'accident'; "
                "it cannot move under 'mishap'",
                "sub_accident",
                "accident.collapse",
            ),
        ],
    ),
    (
        "moved to another category",
        _move,
        [
            Problem(
                codes.CODE_REUSED,
                "code 'accident.collapse' has reports under 'accident'; "
                "it cannot move under 'violence'",
                "sub_violence",
                "accident.collapse",
            )
        ],
    ),
    (
        "defined twice",
        _define_twice,
        [
            Problem(
                codes.DUPLICATE_CODE,
                "code 'accident.collapse' is already defined by node 'sub_accident'",
                "sub_violence",
                "accident.collapse",
            )
        ],
    ),
]


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_codes_with_reports_keep_their_meaning(
    edit: Callable[[Document], None], expected: list[Problem]
) -> None:
    tree = compile_tree(changed(edit))
    assert check_codes(tree, IN_USE) == expected


def test_codes_without_reports_may_go() -> None:
    assert check_codes(compile_tree(changed(_remove)), {}) == []


def test_the_default_tree_defines_each_code_once_with_its_category() -> None:
    defined, problems = codes_of(compile_tree(changed(lambda d: None)))
    assert problems == []
    assert defined["accident.collapse"] == CodeUse(
        "subcategory", frozenset({"accident"}), "sub_accident", retired=False
    )
    assert defined["other"] == CodeUse("category", frozenset(), "category", retired=False)
    assert len([c for c in defined.values() if c.key == "category"]) == 8
