"""Cutting one SMS into answers (menus/sms/answers.py), on the default tree's questions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from menus import engine
from menus.datasets import load_default_datasets
from menus.engine import (
    Accepts,
    Context,
    InvalidInput,
    LanguageChosen,
    Outcome,
    ReportSubmitted,
    State,
)
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


CTX = Context(catalog=Catalog.load(), datasets=load_default_datasets(), today=TODAY, limit=160)


def at(node: str, tree: Tree = TREE, **answers: str) -> State:
    """A state at ``node`` with earlier answers (key -> value), as the lists need them."""
    entries = [{"key": key, "node": key, "value": value} for key, value in answers.items()]
    return State(tree.id, tree.version, node=node, language="en", answers=entries)


@pytest.mark.parametrize(
    ("node", "accepts"),
    [
        ("category", Accepts("choice")),
        ("territory", Accepts("choice")),
        ("confirm", Accepts("choice", confirm=True)),
        ("@resume", Accepts("choice")),
        ("removed_by_an_edit", Accepts("choice")),
        ("site", Accepts("text", skip="1")),
        ("details_ask", Accepts("choice", takes_text=True, options=2)),
        ("details", Accepts("text")),
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
    assert next_input(TREE, at(node), text, CTX) == (answer, rest)


@pytest.mark.parametrize(
    ("text", "answer", "rest"), [("3 1", "3", " 1"), ("3 apples", "3 apples", "")]
)
def test_a_number_question_takes_one_number(text: str, answer: str, rest: str) -> None:
    assert next_input(NUMBER_TREE, at("site", NUMBER_TREE), text, CTX) == (answer, rest)


@pytest.fixture(scope="module")
def ctx() -> Context:
    return CTX


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
    assert outcome.screen is not None and outcome.screen.text.startswith("Type a number.")


def test_earlier_events_are_kept_first(ctx: Context) -> None:
    opened = engine.start(TREE, ctx, language="sw")
    chosen = Outcome(opened.screen, opened.state, (LanguageChosen("sw"),))
    outcome = apply_inputs(TREE, chosen, "1 x", ctx)
    assert outcome.events == (LanguageChosen("sw"), InvalidInput("category", "x"))


# Issue 9: names typed by SMS (3), a batch never sends (13), text gives way to answers (14) ----


@pytest.mark.parametrize(
    ("node", "answers", "text", "answer", "rest"),
    [
        ("province", {}, "Sud Kivu 2", "Sud Kivu", " 2"),
        ("province", {}, "sud-kivu", "sud-kivu", ""),
        ("territory", {"province": "CD-NK"}, "Walikale Bisie 2", "Walikale", " Bisie 2"),
        ("when", {}, "jana 2", "jana", " 2"),
        ("when", {}, "cette semaine 1", "cette semaine", " 1"),
        ("province", {}, "Goma 2", "Goma", " 2"),  # no province of that name: re-asked
        ("confirm", {}, "1 1", "1 1", ""),  # a confirmation is answered alone
        ("site", {}, "Bisie 4 12 10 2026 1", "Bisie", " 4 12 10 2026 1"),
        ("site", {}, "Bisie 2 1", "Bisie", " 2 1"),
        ("site", {}, "Kamituga 2", "Kamituga 2", ""),  # one number after it: part of the name
        ("site", {}, "Kamituga 2 mine ya dhahabu", "Kamituga 2 mine ya dhahabu", ""),
        ("details", {}, "watu 3", "watu 3", ""),
        ("details_ask", {}, "watu 3 wamekufa", "watu 3 wamekufa", ""),
        ("details_ask", {}, "3 wamekufa", "3 wamekufa", ""),
        ("details_ask", {}, "1 watu 3", "1", " watu 3"),
        ("details_ask", {}, "hapana 1", "hapana", " 1"),
        ("site", {}, "Kamituga 2 watu 3 wamekufa", "Kamituga 2 watu 3 wamekufa", ""),
        ("details", {}, "3 morts 2 blesses", "3 morts 2 blesses", ""),
    ],
)
def test_next_input_in_the_field(
    node: str, answers: dict[str, str], text: str, answer: str, rest: str
) -> None:
    assert next_input(TREE, at(node, TREE, **answers), text, CTX) == (answer, rest)


def test_a_text_answer_gives_way_to_the_answers_after_it(ctx: Context) -> None:
    # The message, sent at the province question: Nord-Kivu, Walikale, the site, "earlier",
    # the date, "yes, something to add".
    opened = Outcome(None, at("province"))
    outcome = apply_inputs(TREE, opened, "3 6 Bisie 4 12 10 2026 1", ctx)
    assert outcome.events == ()
    values = outcome.state.values()
    assert (values["province"], values["territory"], values["site"]) == ("CD-NK", "CD6104", "Bisie")
    assert (values["when"], values["date"], values["add_details"]) == (
        "earlier",
        "2026-10-12",
        "yes",
    )
    assert outcome.state.node == "details"


@pytest.mark.parametrize("language", ["sw", "fr", "en"])
def test_a_batch_never_sends_the_report(ctx: Context, language: str) -> None:
    opened = engine.start(TREE, ctx, language=language)
    outcome = apply_inputs(TREE, opened, " ".join(["1"] * 12), ctx)
    assert outcome.state.node == "confirm"
    assert not outcome.state.ended
    assert not any(isinstance(event, ReportSubmitted) for event in outcome.events)
    # Its own message sends it.
    sent = apply_inputs(TREE, outcome, "1", ctx)
    assert [type(event) for event in sent.events] == [ReportSubmitted]


def test_names_by_sms_pick_from_the_list(ctx: Context) -> None:
    opened = engine.start(TREE, ctx, language="fr")
    outcome = apply_inputs(TREE, opened, "1 1 1 Sud Kivu kalehe", ctx)
    assert outcome.state.node == "site"
    assert outcome.state.values()["territory"] == "CD6205"
