"""Cutting one SMS into answers (menus/sms/answers.py), on the default tree's questions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from menus import engine
from menus.datasets import load_default_datasets
from menus.engine import Accepts, Context, InvalidInput, LanguageChosen, Outcome, State
from menus.i18n import Catalog
from menus.loader import read_tree
from menus.model import Tree
from menus.sms.answers import apply_inputs, next_input

DEFAULT_TREE = Path(__file__).resolve().parents[1] / "menus" / "trees" / "incident.yaml"
TODAY = date(2026, 11, 24)
TREE = read_tree(DEFAULT_TREE)
# The same tree with the site question asking for a number instead (the default has none).
NUMBER_TREE = replace(
    TREE, nodes={**TREE.nodes, "site": replace(TREE.node("site"), input_type="number", skip=None)}
)


def at(node: str, tree: Tree = TREE) -> State:
    return State(tree_id=tree.id, tree_version=tree.version, node=node, language="en")


@pytest.mark.parametrize(
    ("node", "accepts"),
    [
        ("category", Accepts("choice")),
        ("territory", Accepts("choice")),
        ("confirm", Accepts("choice")),
        ("@resume", Accepts("choice")),
        ("removed_by_an_edit", Accepts("choice")),
        ("site", Accepts("text", skip="1")),
        ("details", Accepts("text", skip="1")),
        ("date", Accepts("date")),
    ],
)
def test_what_each_question_accepts(node: str, accepts: Accepts) -> None:
    assert engine.accepts(TREE, at(node)) == accepts


@pytest.mark.parametrize(
    ("node", "text", "answer", "rest"),
    [
        # A choice takes one token; spaces and "*" both separate.
        ("category", "1 2 3", "1", " 2 3"),
        ("category", "1*2*3", "1", "*2*3"),
        ("category", "  4  ", "4", "  "),
        ("category", "", "", ""),
        # Free text takes the whole rest...
        ("site", "Kamituga 2 mine", "Kamituga 2 mine", ""),
        ("details", "3 morts 2 blesses", "3 morts 2 blesses", ""),
        ("details", "Kamituga", "Kamituga", ""),
        # ...unless the rest is only numbers starting with the skip number or navigation.
        ("site", "1 2 1", "1", " 2 1"),
        ("site", "0 1", "0", " 1"),
        ("site", "98", "98", ""),
        ("site", "2 3", "2 3", ""),  # not the skip number: a name that happens to be digits
        # A date takes the longest run of tokens that reads as one.
        ("date", "12 05 2026 1", "12 05 2026", " 1"),
        ("date", "12/05/2026 1", "12/05/2026", " 1"),
        ("date", "12 05", "12 05", ""),
        ("date", "0 1", "0", " 1"),
        ("date", "jana asubuhi", "jana asubuhi", ""),  # no date at all: one answer, re-asked
    ],
)
def test_next_input(node: str, text: str, answer: str, rest: str) -> None:
    assert next_input(TREE, at(node), text, TODAY) == (answer, rest)


@pytest.mark.parametrize(
    ("text", "answer", "rest"), [("3 1", "3", " 1"), ("3 apples", "3 apples", "")]
)
def test_a_number_question_takes_one_number(text: str, answer: str, rest: str) -> None:
    assert next_input(NUMBER_TREE, at("site", NUMBER_TREE), text, TODAY) == (answer, rest)


@pytest.fixture(scope="module")
def ctx() -> Context:
    return Context(catalog=Catalog.load(), datasets=load_default_datasets(), today=TODAY, limit=160)


def test_several_answers_in_one_message_with_every_event(ctx: Context) -> None:
    opened = engine.start(TREE, ctx)
    outcome = apply_inputs(TREE, opened, "3 1 1 2", ctx)
    assert outcome.state.node == "province"
    assert outcome.state.language == "en"
    assert outcome.state.values() == {"category": "accident", "subcategory": "accident.flooding"}
    assert outcome.events == (LanguageChosen("en"),)


def test_answers_stop_at_the_first_one_re_asked(ctx: Context) -> None:
    opened = engine.start(TREE, ctx, language="en")
    outcome = apply_inputs(TREE, opened, "1 1 77 1", ctx)
    assert outcome.state.node == "sub_accident"
    assert [type(e) for e in outcome.events] == [InvalidInput]
    assert outcome.screen is not None and outcome.screen.text.startswith("Invalid choice.")


def test_earlier_events_are_kept_first(ctx: Context) -> None:
    opened = engine.start(TREE, ctx, language="sw")
    chosen = Outcome(opened.screen, opened.state, (LanguageChosen("sw"),))
    outcome = apply_inputs(TREE, chosen, "1 x", ctx)
    assert outcome.events == (LanguageChosen("sw"), InvalidInput("category", "x"))
