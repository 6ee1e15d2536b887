"""Tree validation: the default tree is proven to fit; each kind of broken tree is refused with
a message naming the node and the problem, and a broken tree stops start-up."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import StartupError, create_app
from menus import engine
from menus import problems as codes
from menus.checker import TreeChecker
from menus.codes import CodeUse
from menus.datasets import Datasets, load_default_datasets
from menus.errors import TreeError
from menus.i18n import Catalog
from menus.loader import parse_tree, read_document, read_tree
from menus.problems import Problem
from menus.sms.texts import MSG_HELP
from menus.validate import validate

from .conftest import Backend, app_config

DEFAULT_TREE = Path(__file__).resolve().parents[1] / "menus" / "trees" / "incident.yaml"

Document = dict[str, Any]


@pytest.fixture(scope="module")
def datasets() -> Datasets:
    return load_default_datasets()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def _text(fr: str, en: str) -> dict[str, str]:
    return {"fr": fr, "en": en}


def small_tree() -> Document:
    """A valid tree with one of each common node kind, to break in one place per test."""
    return {
        "spec_version": 1,
        "id": "small",
        "version": 1,
        "languages": ["fr", "en"],
        "language_names": {"fr": "Français", "en": "English"},
        "start": "category",
        "nodes": [
            {
                "id": "category",
                "kind": "menu",
                "key": "category",
                "text": _text("Quoi ?", "What?"),
                "options": [
                    {"value": "a", "label": _text("Accident", "Accident"), "next": "province"},
                    {"value": "b", "label": _text("Autre", "Other"), "next": "province"},
                ],
            },
            {
                "id": "province",
                "kind": "list",
                "key": "province",
                "source": "provinces",
                "text": _text("Province ?", "Province?"),
                "next": "details",
            },
            {
                "id": "details",
                "kind": "input",
                "input": "text",
                "key": "details",
                "text": _text("Détails ?", "Details?"),
                "next": "confirm",
            },
            {
                "id": "confirm",
                "kind": "confirm",
                "text": _text("Confirmez :", "Confirm:"),
                "summary": ["{category}", "{details}"],
                "options": [
                    {"label": _text("Envoyer", "Send"), "action": "submit", "next": "done"},
                    {"label": _text("Annuler", "Cancel"), "action": "cancel"},
                ],
            },
            {
                "id": "done",
                "kind": "end",
                "text": _text("Merci ! {reference}", "Thanks! {reference}"),
            },
        ],
    }


def _node(document: Document, node_id: str) -> dict[str, Any]:
    return next(n for n in document["nodes"] if n["id"] == node_id)


def problems_of(
    document: Document, datasets: Datasets, catalog: Catalog, limits: tuple[int, ...] = (160,)
) -> list[Problem]:
    try:
        tree = parse_tree(document, source="test.yaml")
    except TreeError as exc:
        return exc.problems
    return validate(tree, datasets, catalog, limits)


def test_the_small_tree_is_valid(datasets: Datasets, catalog: Catalog) -> None:
    assert problems_of(small_tree(), datasets, catalog) == []


def test_the_default_tree_fits_160_and_a_stricter_network_limit(
    datasets: Datasets, catalog: Catalog
) -> None:
    tree = read_tree(DEFAULT_TREE)
    assert validate(tree, datasets, catalog, (160,)) == []
    assert validate(tree, datasets, catalog, (160, 140)) == []


def test_the_default_tree_does_not_fit_a_tiny_limit_and_says_where(
    datasets: Datasets, catalog: Catalog
) -> None:
    problems = validate(read_tree(DEFAULT_TREE), datasets, catalog, (100,))
    assert problems
    assert {p.code for p in problems} == {codes.SCREEN_TOO_LONG, codes.CONFIRM_TOO_FULL}
    too_long = [p for p in problems if p.code == codes.SCREEN_TOO_LONG]
    assert all(
        "does not fit in 100 characters" in p.message or p.message.endswith("limit 100")
        for p in too_long
    )
    assert any(p.node == "main" and "(page 1)" in p.message for p in problems)


def test_a_system_screen_too_long_in_one_language_is_refused(datasets: Datasets) -> None:
    """The resume offer is built from Babel strings, not the tree: a long translation must fail."""
    translations = Catalog.load()._translations
    long_french = {**translations["fr"], "You have an unfinished report.": "Vous avez " * 20}
    catalog = Catalog({**translations, "fr": long_french})
    problems = validate(read_tree(DEFAULT_TREE), datasets, catalog, (160,))
    assert len(problems) == 1
    assert (problems[0].code, problems[0].node, problems[0].language) == (
        codes.SCREEN_TOO_LONG,
        "@resume",
        "fr",
    )
    assert str(problems[0]).startswith("system screen @resume (fr): screen is 2")  # over 200
    assert str(problems[0]).endswith("characters, limit 160")


def test_a_follow_up_answer_too_long_in_one_language_is_refused(datasets: Datasets) -> None:
    """The answers to "follow my report" are Babel strings too, each proven to fit."""
    translations = Catalog.load()._translations
    message = "Report {reference}: being followed up."
    long_swahili = {**translations["sw"], message: "Ripoti {reference}: " + "inafatiliwa " * 14}
    catalog = Catalog({**translations, "sw": long_swahili})
    problems = validate(read_tree(DEFAULT_TREE), datasets, catalog, (160,))
    # Once by USSD, once by SMS (where "delete these messages" follows).
    assert {(p.code, p.node, p.language) for p in problems} == {
        (codes.SCREEN_TOO_LONG, "@status", "sw")
    }


def test_the_default_tree_carries_the_taxonomy_codes() -> None:
    tree = read_tree(DEFAULT_TREE)
    categories = {o.value for o in tree.node("category").options}
    assert categories == {
        "accident",
        "violence",
        "taxation",
        "labour",
        "fraud",
        "environment",
        "conflict",
        "other",
    }
    for node in tree.nodes.values():
        if node.key == "subcategory":
            for option in node.options:
                assert option.value is not None
                assert option.value.split(".")[0] in categories


def _status_that_goes_on(doc: Document) -> None:
    _node(doc, "category")["options"].append(
        {"id": "follow", "label": _text("Suivi", "Follow"), "next": "follow"}
    )
    doc["nodes"].append(
        {"id": "follow", "kind": "status", "text": _text("Numéro ?", "Number?"), "next": "done"}
    )


def _duplicate_id(doc: Document) -> None:
    doc["nodes"].insert(3, copy.deepcopy(_node(doc, "details")))


def _dangling_next(doc: Document) -> None:
    _node(doc, "details")["next"] = "nowhere"


def _unreachable(doc: Document) -> None:
    doc["nodes"].append({"id": "orphan", "kind": "end", "text": _text("Seul", "Alone")})


def _loop_without_end(doc: Document) -> None:
    _node(doc, "category")["options"][1]["next"] = "loop_a"
    doc["nodes"] += [
        {
            "id": "loop_a",
            "kind": "menu",
            "text": _text("A", "A"),
            "options": [{"id": "on", "label": _text("Vers B", "To B"), "next": "loop_b"}],
        },
        {
            "id": "loop_b",
            "kind": "menu",
            "text": _text("B", "B"),
            "options": [{"id": "on", "label": _text("Vers A", "To A"), "next": "loop_a"}],
        },
    ]


def _missing_language(doc: Document) -> None:
    _node(doc, "details")["text"] = {"fr": "Détails ?"}


def _missing_option_language(doc: Document) -> None:
    _node(doc, "category")["options"][1]["label"] = {"en": "Other"}


def _unknown_source(doc: Document) -> None:
    _node(doc, "province")["source"] = "mines"


def _screen_too_long(doc: Document) -> None:
    options = _node(doc, "category")["options"]
    options.append({"value": "c", "label": _text("Long", "Long " + "x" * 160), "next": "province"})


def _confirm_without_submit(doc: Document) -> None:
    _node(doc, "confirm")["options"].pop(0)


def _submit_not_to_an_end(doc: Document) -> None:
    _node(doc, "confirm")["options"][0]["next"] = "details"


def _spec_too_new(doc: Document) -> None:
    doc["spec_version"] = 2


def _last_branch_with_when(doc: Document) -> None:
    _node(doc, "details")["next"] = [{"when": {"category": "a"}, "goto": "confirm"}]


def _summary_names_unknown_key(doc: Document) -> None:
    _node(doc, "confirm")["summary"].append("{site}")


def _input_without_key(doc: Document) -> None:
    del _node(doc, "details")["key"]


def _end_with_options(doc: Document) -> None:
    _node(doc, "done")["next"] = "category"


def _unknown_kind(doc: Document) -> None:
    _node(doc, "details")["kind"] = "question"


def _start_missing(doc: Document) -> None:
    doc["start"] = "welcome"


def _option_without_id(doc: Document) -> None:
    _node(doc, "category")["options"].append({"label": _text("C", "C"), "next": "province"})


def _duplicate_option_id(doc: Document) -> None:
    _node(doc, "category")["options"][1]["value"] = "a"


def _no_category(doc: Document) -> None:
    _node(doc, "category")["key"] = "kind"
    _node(doc, "confirm")["summary"] = ["{kind}", "{details}"]


def _details_as_a_number(doc: Document) -> None:
    _node(doc, "details")["input"] = "number"


def _place_nobody_can_file(doc: Document) -> None:
    _node(doc, "province")["options"] = [
        {"value": "elsewhere", "label": _text("Ailleurs", "Elsewhere")}
    ]


def _a_date_in_the_document(doc: Document) -> None:
    _node(doc, "details")["text"] = {"fr": date(2026, 1, 1), "en": "Details?"}


def _retired_without_a_code(doc: Document) -> None:
    _node(doc, "confirm")["options"].append(
        {"id": "later", "label": _text("Plus tard", "Later"), "action": "cancel", "retired": True}
    )


def _retired_not_a_flag(doc: Document) -> None:
    _node(doc, "category")["options"][0]["retired"] = "yes"


def _two_options_same_action(doc: Document) -> None:
    _node(doc, "confirm")["options"].append({"label": _text("Non", "No"), "action": "cancel"})


def _code_defined_twice(doc: Document) -> None:
    _node(doc, "category")["options"][0]["next"] = "sub_a"
    doc["nodes"].insert(
        1,
        {
            "id": "sub_a",
            "kind": "menu",
            "key": "subcategory",
            "text": _text("Type ?", "Kind?"),
            "next": "province",
            "options": [{"value": "b", "label": _text("B", "B")}],
        },
    )


def _no_name_for_a_language(doc: Document) -> None:
    del doc["language_names"]["en"]


def _reference_lost_in_translation(doc: Document) -> None:
    _node(doc, "done")["text"] = _text("Merci ! {reference}", "Thanks!")


# Each broken tree, and the exact problem it must give (others may come with it).
BROKEN: list[tuple[str, Callable[[Document], None], Problem]] = [
    (
        "duplicate id",
        _duplicate_id,
        Problem(codes.DUPLICATE_ID, "id is used by more than one node", "details"),
    ),
    (
        "dangling next",
        _dangling_next,
        Problem(
            codes.DANGLING_LINK,
            "goes to 'nowhere', which does not exist",
            "details",
            field="next",
        ),
    ),
    (
        "unreachable node",
        _unreachable,
        Problem(codes.UNREACHABLE, "cannot be reached from the start", "orphan"),
    ),
    (
        "loop without end",
        _loop_without_end,
        Problem(codes.NO_END, "no path from here reaches an end", "loop_a"),
    ),
    (
        "missing language",
        _missing_language,
        Problem(codes.MISSING_TEXT, "no text in en", "details", language="en", field="text"),
    ),
    (
        "missing option language",
        _missing_option_language,
        Problem(codes.MISSING_TEXT, "no text in fr", "category", "b", "fr", "label"),
    ),
    (
        "unknown data source",
        _unknown_source,
        Problem(
            codes.UNKNOWN_SOURCE,
            "data source 'mines' is unknown (known: other_provinces, provinces, territories)",
            "province",
        ),
    ),
    (
        "screen too long",
        _screen_too_long,
        Problem(
            codes.SCREEN_TOO_LONG,
            "screen does not fit in 160 characters (page 2)",
            "category",
            language="en",
        ),
    ),
    (
        "confirm without submit",
        _confirm_without_submit,
        Problem(codes.NO_SUBMIT, "a confirmation needs an option with action 'submit'", "confirm"),
    ),
    (
        "submit not to an end",
        _submit_not_to_an_end,
        Problem(codes.SUBMIT_NOT_TO_END, "'submit' must lead to an end node", "confirm", "submit"),
    ),
    (
        "spec_version too new",
        _spec_too_new,
        Problem(codes.BAD_SPEC_VERSION, "spec_version 2 is newer than this engine (1)"),
    ),
    (
        "last branch with when",
        _last_branch_with_when,
        Problem(
            codes.DEFAULT_BRANCH_LAST,
            "the last branch must have no 'when' (the default)",
            "details",
            field="next",
        ),
    ),
    (
        "summary names an unknown answer",
        _summary_names_unknown_key,
        Problem(
            codes.UNKNOWN_ANSWER_KEY,
            "summary names 'site', which no node answers",
            "confirm",
            field="summary",
        ),
    ),
    (
        "input without key",
        _input_without_key,
        Problem(codes.MISSING_KEY, "needs a 'key' to store the answer under", "details"),
    ),
    (
        "end node with next",
        _end_with_options,
        Problem(codes.END_WITH_NEXT, "an end node has no options and no next", "done"),
    ),
    (
        "a status node that goes on",
        _status_that_goes_on,
        Problem(codes.END_WITH_NEXT, "a status node has no options, no next and no key", "follow"),
    ),
    (
        "unknown kind",
        _unknown_kind,
        Problem(
            codes.UNKNOWN_KIND,
            "kind 'question' is not one of language, menu, list, input, confirm, end, status",
            "details",
        ),
    ),
    (
        "start missing",
        _start_missing,
        Problem(codes.START_MISSING, "start node 'welcome' does not exist", field="start"),
    ),
    (
        "option without a stable id",
        _option_without_id,
        Problem(
            codes.MISSING_OPTION_ID,
            "an option without a 'value' or an 'action' needs an 'id' (stable across edits)",
            "category",
            field="option #3",
        ),
    ),
    (
        "two options with one id",
        _duplicate_option_id,
        Problem(
            codes.DUPLICATE_ID, "id is used by more than one option of this node", "category", "a"
        ),
    ),
    (
        "two options with one action and no ids",
        _two_options_same_action,
        Problem(
            codes.DUPLICATE_ID,
            "id is used by more than one option of this node",
            "confirm",
            "cancel",
        ),
    ),
    (
        "no node answers the category",
        _no_category,
        Problem(codes.MISSING_REPORT_KEY, "no node answers 'category', which every report needs"),
    ),
    (
        "a report key answered by the wrong kind of node",
        _details_as_a_number,
        Problem(
            codes.WRONG_REPORT_KEY_NODE,
            "answers 'details', which the report reads from a text input",
            "details",
        ),
    ),
    (
        "a place value the report cannot file",
        _place_nobody_can_file,
        Problem(
            codes.UNKNOWN_ANSWER_VALUE,
            "value 'elsewhere' means nothing to a report's 'province' (known: other)",
            "province",
            "elsewhere",
        ),
    ),
    (
        "a value JSON cannot hold",
        _a_date_in_the_document,
        Problem(
            codes.NOT_JSON,
            "value at '/nodes/2/text/fr' is a date, not text or a number (quote it in YAML)",
        ),
    ),
    (
        "retired without a code",
        _retired_without_a_code,
        Problem(
            codes.MISSING_VALUE,
            "only an option with a 'value' (a code) can be retired",
            "confirm",
            "later",
        ),
    ),
    (
        "a code defined twice",
        _code_defined_twice,
        Problem(
            codes.DUPLICATE_CODE, "code 'b' is already defined by node 'category'", "sub_a", "b"
        ),
    ),
    (
        "a language without its name",
        _no_name_for_a_language,
        Problem(
            codes.MISSING_TEXT,
            "language_names has no name for 'en'",
            language="en",
            field="language_names",
        ),
    ),
    (
        "a translation without the reference",
        _reference_lost_in_translation,
        Problem(
            codes.PLACEHOLDER_MISMATCH,
            "placeholders must be {reference} as in fr, not none",
            "done",
            None,
            "en",
            "text",
        ),
    ),
    (
        "retired is not a flag",
        _retired_not_a_flag,
        Problem(codes.BAD_FIELD, "retired must be true or false", "category", "a", field="retired"),
    ),
]


@pytest.mark.parametrize(
    ("break_it", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_broken_trees_are_refused_with_the_exact_problem(
    break_it: Callable[[Document], None], expected: Problem, datasets: Datasets, catalog: Catalog
) -> None:
    document = small_tree()
    break_it(document)
    problems = problems_of(document, datasets, catalog)
    assert expected in problems, [str(p) for p in problems]


LONG_ERROR = (
    "Please write a few words about what happened: who was hurt, what was taken, "
    "what was damaged or burnt, and what is still going on there today"
)


def _long_reask(doc: Document) -> None:
    _node(doc, "details")["error"] = _text("Écrivez quelques mots.", LONG_ERROR)


def _end_too_long_by_sms(doc: Document) -> None:
    # Fits USSD; by SMS the last message also says "Delete these messages."
    _node(doc, "done")["text"] = _text("Merci ! {reference}", "Thanks! {reference} " + "y" * 125)


def _long_label(doc: Document) -> None:
    _node(doc, "category")["options"].append(
        {"value": "c", "label": _text("C", "C" * 120), "next": "province"}
    )


def _accented(doc: Document) -> None:
    _node(doc, "category")["options"][1]["label"] = _text("Forêt", "Forest")


def _lingala_begun(doc: Document) -> None:
    _node(doc, "category")["text"]["ln"] = "Nini esalemi?"


def _lingala_declared(doc: Document) -> None:
    doc["languages"].append("ln")
    doc["language_names"]["ln"] = "Lingala"
    for raw in doc["nodes"]:
        for holder in [raw, *raw.get("options", [])]:
            for name in ("text", "label"):
                if isinstance(holder.get(name), dict):
                    holder[name]["ln"] = holder[name]["fr"]


def _nothing(doc: Document) -> None:
    pass


def _b_as_a_subcategory(doc: Document) -> None:
    """Category "b" becomes "c"; "b" is now a sub-category of "a"."""
    _code_defined_twice(doc)
    _node(doc, "category")["options"][1]["value"] = "c"


MORE = "More"  # the first system string a language without a catalog lacks


# Broken trees judged as a save or a publish judges them (menus.checker): with the service's
# screen limits, its system catalogs, and the codes that already have reports. Each gives this
# exact problem (an error, or a warning the editor shows).
BROKEN_IN_CONTEXT: list[
    tuple[str, Callable[[Document], None], tuple[int, ...], dict[str, CodeUse] | None, Problem]
] = [
    (
        "a re-ask hint too long for the screen",
        _long_reask,
        (160,),
        None,
        Problem(
            codes.SCREEN_TOO_LONG,
            f"screen does not fit in 160 characters (page 1, re-ask {LONG_ERROR!r})",
            "details",
            language="en",
        ),
    ),
    (
        "a screen too long for one network's limit",
        _long_label,
        (160, 120),
        None,
        Problem(
            codes.SCREEN_TOO_LONG,
            "screen does not fit in 120 characters (page 2)",
            "category",
            language="en",
        ),
    ),
    (
        "an end screen too long by SMS only",
        _end_too_long_by_sms,
        (160,),
        None,
        Problem(
            codes.SCREEN_TOO_LONG,
            "screen is 169 characters by SMS, limit 160",
            "done",
            language="en",
        ),
    ),
    (
        "a code with reports removed",
        _nothing,
        (160,),
        {"z": CodeUse("category")},
        Problem(
            codes.CODE_REMOVED,
            "code 'z' has reports and cannot be removed: retire its option instead (retired: true)",
            option="z",
        ),
    ),
    (
        "a category code with reports reused as a sub-category",
        _b_as_a_subcategory,
        (160,),
        {"b": CodeUse("category")},
        Problem(
            codes.CODE_REUSED,
            "code 'b' has reports as a category; it cannot become a subcategory",
            "sub_a",
            "b",
        ),
    ),
    (
        "a sub-category with reports moved under another category",
        _b_as_a_subcategory,
        (160,),
        {"b": CodeUse("subcategory", frozenset({"c"}))},
        Problem(
            codes.CODE_REUSED,
            "code 'b' has reports under 'c'; it cannot move under 'a'",
            "sub_a",
            "b",
        ),
    ),
    (
        "a declared language without its system catalog",
        _lingala_declared,
        (160,),
        None,
        Problem(
            codes.UNTRANSLATED_SYSTEM_MESSAGES,
            f"{len(engine.SYSTEM_MESSAGES)} system message(s) untranslated in locales/ln "
            f"(e.g. {MORE!r})",
            language="ln",
        ),
    ),
    (
        "a text that needs transliteration (a warning)",
        _accented,
        (160,),
        None,
        Problem(
            codes.TRANSLITERATED,
            "transliterated to GSM-7: 'ê'->'e' ('Forêt' is sent as 'Foret')",
            "category",
            "b",
            "fr",
            "label",
            severity="warning",
            characters=(("ê", "e"),),
        ),
    ),
    (
        "a language begun but not complete (a warning: not offered)",
        _lingala_begun,
        (160,),
        None,
        Problem(
            codes.INCOMPLETE_LANGUAGE,
            "not offered to reporters until complete: 9 of 10 texts missing "
            "(first: language_name); no system catalog locales/ln/LC_MESSAGES/messages.po",
            language="ln",
            severity="warning",
        ),
    ),
]


@pytest.mark.parametrize(
    ("break_it", "limits", "in_use", "expected"),
    [b[1:] for b in BROKEN_IN_CONTEXT],
    ids=[b[0] for b in BROKEN_IN_CONTEXT],
)
def test_broken_trees_are_judged_with_the_exact_problem(
    break_it: Callable[[Document], None],
    limits: tuple[int, ...],
    in_use: dict[str, CodeUse] | None,
    expected: Problem,
    datasets: Datasets,
    catalog: Catalog,
) -> None:
    document = small_tree()
    break_it(document)
    judgement = TreeChecker(datasets, catalog, limits).judge(document, in_use=in_use)
    found = judgement.errors if expected.severity == "error" else judgement.warnings
    assert expected in found, [str(p) for p in judgement.errors + judgement.warnings]
    assert judgement.ok is (expected.severity == "warning")
    if limits != (160,):  # the stricter limit is the one at fault
        assert TreeChecker(datasets, catalog, (160,)).judge(document).ok


def test_a_problem_prints_as_one_line_naming_node_option_and_language() -> None:
    problem = Problem(codes.MISSING_TEXT, "no text in fr", "category", "b", "fr", "label")
    assert str(problem) == "node 'category' option 'b' label (fr): no text in fr"
    assert str(Problem(codes.START_MISSING, "gone", field="start")) == "tree start: gone"
    assert problem.to_dict()["text"] == str(problem)
    assert problem.to_dict()["code"] == "missing_text"


def test_the_screen_check_names_the_language_that_overflows(
    datasets: Datasets, catalog: Catalog
) -> None:
    document = small_tree()
    _screen_too_long(document)
    problems = problems_of(document, datasets, catalog)
    assert problems
    assert {p.language for p in problems} == {"en"}


def test_a_limit_the_tree_fits_at_160_but_not_lower(datasets: Datasets, catalog: Catalog) -> None:
    document = small_tree()
    _node(document, "category")["options"].append(
        {"value": "c", "label": _text("C", "C" * 120), "next": "province"}
    )
    assert problems_of(document, datasets, catalog, (160,)) == []
    problems = problems_of(document, datasets, catalog, (160, 120))
    assert any(
        (p.node, p.language) == ("category", "en") and "fit in 120 characters" in p.message
        for p in problems
    )


def test_every_structural_problem_is_reported_at_once(datasets: Datasets, catalog: Catalog) -> None:
    document = small_tree()
    _dangling_next(document)
    _unreachable(document)
    _missing_language(document)
    problems = problems_of(document, datasets, catalog)
    assert len(problems) >= 3


def test_transliterated_texts_are_warnings_and_the_document_keeps_the_original() -> None:
    document = small_tree()
    _node(document, "category")["options"][1]["label"] = _text("Forêt", "Forest")
    kept = copy.deepcopy(document)
    tree = parse_tree(document)
    assert tree.node("category").options[1].label["fr"] == "Foret"
    assert tree.warnings[-1:] == (
        Problem(
            codes.TRANSLITERATED,
            "transliterated to GSM-7: 'ê'->'e' ('Forêt' is sent as 'Foret')",
            "category",
            "b",
            "fr",
            "label",
            severity="warning",
            characters=(("ê", "e"),),
        ),
    )
    assert str(tree.warnings[0]) == (
        "tree language_names (fr): transliterated to GSM-7: 'ç'->'c' "
        "('Français' is sent as 'Francais')"
    )
    assert str(tree.warnings[-1]) == (
        "node 'category' option 'b' label (fr): transliterated to GSM-7: 'ê'->'e' "
        "('Forêt' is sent as 'Foret')"
    )
    assert document == kept  # compiling never edits the source document


def test_options_have_stable_ids_not_positions() -> None:
    tree = read_tree(DEFAULT_TREE)
    assert [o.id for o in tree.node("main").options] == ["report", "language", "follow"]
    assert [o.id for o in tree.node("confirm").options] == [
        "submit",
        "submit_sms",
        "change",
        "cancel",
    ]
    assert tree.node("category").options[0].id == "accident"
    skip = tree.node("site").skip
    assert skip is not None and skip.id == "skip"


def test_a_retired_option_is_not_offered_but_keeps_its_code(
    datasets: Datasets, catalog: Catalog
) -> None:
    document = small_tree()
    _node(document, "category")["options"][0]["retired"] = True
    tree = parse_tree(document)
    assert [o.id for o in tree.node("category").options] == ["b"]
    assert [(o.value, o.label["fr"]) for o in tree.node("category").retired] == [("a", "Accident")]
    assert validate(tree, datasets, catalog) == []


def _write(tmp_path: Path, document: Document) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _offline_backend(tmp_path: Path) -> Backend:
    # Trees are checked before any connection is opened: no server is needed to see the refusal.
    return Backend("embedded", f"sqlite:///{tmp_path / 'never.db'}", "redis://127.0.0.1:1/0")


def _refused(config: dict[str, Any]) -> TreeError:
    """The tree's error behind the start-up refusal (which hosts show without a traceback)."""
    with pytest.raises(StartupError) as raised:
        create_app(config)
    assert isinstance(raised.value.__cause__, TreeError)
    return raised.value.__cause__


def test_start_up_refuses_a_broken_tree(tmp_path: Path) -> None:
    document = small_tree()
    _dangling_next(document)
    path = _write(tmp_path, document)
    error = _refused(app_config(_offline_backend(tmp_path), tmp_path, trees=[str(path)]))
    assert error.source == str(path)
    assert "node 'details' next: goes to 'nowhere', which does not exist" in str(error)
    assert error.problems[0].code == codes.DANGLING_LINK


def test_start_up_refuses_a_tree_too_long_for_a_network_limit(tmp_path: Path) -> None:
    document = small_tree()
    _node(document, "category")["options"].append(
        {"value": "c", "label": _text("C", "C" * 120), "next": "province"}
    )
    path = _write(tmp_path, document)
    config = app_config(
        _offline_backend(tmp_path),
        tmp_path,
        trees=[str(path)],
        ussd={"network_limits": {"63902": 120}},
    )
    assert re.search(r"node 'category' \(en\).*120 characters", str(_refused(config)))


def test_start_up_refuses_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("nodes: [\n  - id: x\n", encoding="utf-8")
    error = _refused(app_config(_offline_backend(tmp_path), tmp_path, trees=[str(path)]))
    assert "not valid YAML" in str(error)


def test_sms_texts_outside_the_menus_fit_three_segments(datasets: Datasets) -> None:
    """Help, the welcome (a line per language) and the other SMS texts fit sms.max_length."""
    document = read_document(DEFAULT_TREE)
    shipped = Catalog.load()
    assert TreeChecker(datasets, shipped, (160,), sms_max_length=459).judge(document).ok
    translations = shipped._translations
    long_help = {**translations["fr"], MSG_HELP: "Répondez par le numéro de votre choix. " * 12}
    catalog = Catalog({**translations, "fr": long_help})
    judgement = TreeChecker(datasets, catalog, (160,), sms_max_length=459).judge(document)
    assert [(p.code, p.node, p.language) for p in judgement.errors] == [
        (codes.SCREEN_TOO_LONG, "@sms_help", "fr")
    ]
    assert str(judgement.errors[0]).startswith("system screen @sms_help (fr): SMS is 6")
    assert str(judgement.errors[0]).endswith("characters, more than sms.max_length (459)")
