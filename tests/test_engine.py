"""The pure conversation engine on the default tree, with a fixed context (no Flask, no I/O)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from menus import engine, gsm
from menus.datasets import load_default_datasets
from menus.engine import (
    Cancelled,
    Context,
    InvalidInput,
    LanguageChosen,
    Outcome,
    ReportSubmitted,
    Resumed,
    ResumeDeclined,
    Screen,
)
from menus.i18n import Catalog
from menus.loader import read_tree
from menus.model import Tree
from menus.state import RESUME_NODE, Frame, State

DEFAULT_TREE = Path(__file__).resolve().parents[1] / "menus" / "trees" / "incident.yaml"
TODAY = date(2026, 11, 24)

# French, from the language question to the confirmation: accident / collapse / Ituri / Djugu /
# a site / this week / something to add / details.
TO_CONFIRM_FR = ["2", "1", "1", "1", "1", "2", "Mongbwalu", "3", "1", "Deux blessés"]


@pytest.fixture(scope="module")
def tree() -> Tree:
    return read_tree(DEFAULT_TREE)


REFERENCE = "4000001"  # what storage would give a submitted report


def make_ctx(limit: int = 160, stretch_limit: int | None = None) -> Context:
    return Context(
        catalog=Catalog.load(),
        datasets=load_default_datasets(),
        today=TODAY,
        limit=limit,
        stretch_limit=stretch_limit,
    )


@pytest.fixture
def ctx() -> Context:
    return make_ctx()


def play(
    tree: Tree, ctx: Context, inputs: Iterable[str], *, language: str | None = None
) -> list[Outcome]:
    """Every outcome of a conversation; a submission shown as it is once stored (``REFERENCE``)."""
    outcomes = [engine.start(tree, ctx, language=language)]
    for text in inputs:
        outcome = engine.step(tree, outcomes[-1].state, text, ctx)
        if outcome.screen is None:
            stored = engine.submitted(tree, outcome.state, REFERENCE, ctx)
            outcome = replace(stored, events=outcome.events)
        outcomes.append(outcome)
    return outcomes


def last(tree: Tree, ctx: Context, inputs: Iterable[str], **kw: str | None) -> Outcome:
    return play(tree, ctx, inputs, **kw)[-1]


def screen(outcome: Outcome) -> Screen:
    assert outcome.screen is not None  # None only for a submitted report, before storage
    return outcome.screen


def lines(outcome: Outcome) -> list[str]:
    assert outcome.screen is not None
    return outcome.screen.text.split("\n")


# Start and language ------------------------------------------------------------------------


def test_start_asks_for_the_language(tree: Tree, ctx: Context) -> None:
    outcome = engine.start(tree, ctx)
    assert screen(outcome).text == "Lugha / Langue / Language\n1 Kiswahili\n2 Francais\n3 English"
    assert not screen(outcome).end
    assert outcome.state.node == "language"
    assert outcome.events == ()


def test_a_known_language_skips_the_question(tree: Tree, ctx: Context) -> None:
    outcome = engine.start(tree, ctx, language="sw")
    assert outcome.state.node == "main"
    assert outcome.state.language == "sw"
    assert lines(outcome)[1] == "1 Ripoti tukio"
    assert engine.start(tree, ctx, language="xx").state.node == "language"


def test_choosing_a_language_emits_language_chosen(tree: Tree, ctx: Context) -> None:
    outcome = last(tree, ctx, ["2"])
    assert outcome.events == (LanguageChosen("fr"),)
    assert outcome.state.language == "fr"
    assert outcome.state.node == "main"
    assert lines(outcome)[1:] == [
        "1 Signaler un incident",
        "2 Lugha / Langue / Language",
        "3 Suivi",
        "0 Retour",
    ]


def test_the_main_menu_can_change_the_language(tree: Tree, ctx: Context) -> None:
    outcomes = play(tree, ctx, ["2", "3"], language="fr")
    assert outcomes[-2].state.node == "language"
    assert outcomes[-1].state.language == "en"
    assert outcomes[-1].events == (LanguageChosen("en"),)
    assert lines(outcomes[-1])[1] == "1 Report an incident"


# A complete report -------------------------------------------------------------------------


def test_a_complete_report_emits_report_submitted_with_codes(tree: Tree, ctx: Context) -> None:
    outcomes = play(tree, ctx, [*TO_CONFIRM_FR, "1"])
    confirm, done = outcomes[-2], outcomes[-1]
    assert confirm.state.node == "confirm"
    assert lines(confirm) == [
        "Vérifiez :",
        "Accident: Éboulement",
        "Djugu, Ituri",
        "Mongbwalu",
        "Cette semaine",
        "Deux blessés",
        "1 Envoyer",
        "2 Modifier",
        "3 Ne pas envoyer",
        "0 Retour",
    ]
    (event,) = done.events
    assert isinstance(event, ReportSubmitted)
    assert (event.language, event.tree_id, event.tree_version) == ("fr", "incident", 1)
    values = {key: entry["value"] for key, entry in event.answers.items()}
    assert values == {
        "category": "accident",
        "subcategory": "accident.collapse",
        "province": "CD-IT",
        "territory": "CD5405",
        "site": "Mongbwalu",
        "when": "this_week",
        "add_details": "yes",
        "details": "Deux blessés",
    }
    assert event.answers["province"]["pcode"] == "CD54"
    assert event.answers["territory"]["label"] == "Djugu"
    assert done.screen is not None and done.screen.end
    assert done.state.ended
    assert done.state.reference == REFERENCE
    assert done.screen.text == (
        "Merci ! Alerte enregistrée. Numéro : 4000001. Gardez-le en secret. "
        "Des organisations locales vont la suivre."
    )
    assert not event.send_reference


def test_a_submission_is_shown_once_storage_gives_its_reference(tree: Tree, ctx: Context) -> None:
    confirm = last(tree, ctx, TO_CONFIRM_FR)
    submit = engine.step(tree, confirm.state, "1", ctx)
    # No screen yet: the end screen shows the reference, which only storage can give.
    assert submit.screen is None
    assert submit.state.ended and submit.state.reference is None
    assert [type(e) for e in submit.events] == [ReportSubmitted]
    shown = engine.submitted(tree, submit.state, "1234567", ctx)
    assert shown.screen == Screen(
        "Merci ! Alerte enregistrée. Numéro : 1234567. Gardez-le en secret. "
        "Des organisations locales vont la suivre.",
        end=True,
    )
    assert shown.state.reference == "1234567" and shown.events == ()
    assert submit.state.reference is None  # the step's own state is left alone


def test_an_ended_conversation_ignores_further_input(tree: Tree, ctx: Context) -> None:
    done = last(tree, ctx, [*TO_CONFIRM_FR, "1"])
    again = engine.step(tree, done.state, "1", ctx)
    assert again.events == ()
    assert again.screen == done.screen


def test_an_earlier_date_is_stored_as_iso_and_shown_day_first(tree: Tree, ctx: Context) -> None:
    inputs = ["3", "1", "2", "1", "1", "1", "1", "4", "12/05/2026", "2"]
    outcome = last(tree, ctx, inputs)
    assert outcome.state.node == "confirm"
    assert outcome.state.values()["date"] == "2026-05-12"
    assert "12/05/2026" in lines(outcome)
    assert "1 Don't know" not in lines(outcome)


def test_skipped_answers_leave_the_summary(tree: Tree, ctx: Context) -> None:
    # English, "Other" category (no sub-category), "Another province" then "don't know", site
    # "don't know", nothing to add.
    outcome = last(tree, ctx, ["3", "1", "8", "9", "19", "1", "1", "2"])
    assert outcome.state.node == "confirm"
    assert outcome.state.entries()["site"]["skipped"] is True
    assert "site" not in outcome.state.values()
    assert lines(outcome) == [
        "Please check:",
        "Other",
        "Don't know",
        "Today",
        "1 Send",
        "2 Change",
        "3 Don't send",
        "0 Back",
    ]


def test_cancel_emits_cancelled_and_ends(tree: Tree, ctx: Context) -> None:
    outcome = last(tree, ctx, [*TO_CONFIRM_FR, "3", "1"])
    assert outcome.events == (Cancelled(answered=8),)
    assert screen(outcome).end
    assert screen(outcome).text == "Alerte annulée. Rien n'a été envoyé."
    assert outcome.state.ended
    assert not outcome.state.unfinished


# Invalid input -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["9", "abc", "", "1.5", "-1", "01234", "*", "99"])
def test_an_invalid_choice_reasks_with_a_hint(tree: Tree, ctx: Context, text: str) -> None:
    before = last(tree, ctx, ["2", "1"])
    outcome = engine.step(tree, before.state, text, ctx)
    assert outcome.events == (InvalidInput("category", text.strip()[:40]),)
    assert outcome.state == before.state
    # The hint takes the question's place when room is short; the numbered lines stay the same.
    assert lines(outcome)[0] == "Tapez un numéro."
    assert lines(outcome)[1:] == lines(before)[1:]
    assert gsm.length(screen(outcome).text) <= 160


def test_free_text_too_short_is_reasked(tree: Tree, ctx: Context) -> None:
    before = last(tree, ctx, TO_CONFIRM_FR[:6])
    assert before.state.node == "site"
    outcome = engine.step(tree, before.state, "a", ctx)
    assert outcome.state.node == "site"
    assert lines(outcome)[0] == "Trop court, écrivez un peu plus."
    assert isinstance(outcome.events[0], InvalidInput)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        # the tree's own re-ask message
        ("hier", "Date non valide. Ecrivez jour mois année, ex. 12 10 2026."),
        ("31/02/2026", "Date non valide. Ecrivez jour mois année, ex. 12 10 2026."),
        ("25/12/2026", "Cette date est dans le futur."),
        # older than max_age_days
        ("01/01/2015", "Date non valide. Ecrivez jour mois année, ex. 12 10 2026."),
    ],
)
def test_dates_are_checked(tree: Tree, ctx: Context, text: str, hint: str) -> None:
    before = last(tree, ctx, ["2", "1", "1", "1", "1", "1", "1", "4"])
    assert before.state.node == "date"
    outcome = engine.step(tree, before.state, text, ctx)
    assert outcome.state.node == "date"
    assert lines(outcome)[0] == hint
    assert gsm.length(screen(outcome).text) <= 160


# Navigation --------------------------------------------------------------------------------


# French to the second province list (18 provinces and "don't know": three pages).
TO_OTHER_PROVINCES = ["2", "1", "1", "1", "9"]


def test_more_shows_the_next_page_with_global_numbering(tree: Tree, ctx: Context) -> None:
    first = last(tree, ctx, TO_OTHER_PROVINCES)
    assert first.state.node == "province_other"
    assert lines(first)[-2:] == ["98 Plus", "0 Retour"]
    assert lines(first)[1] == "1 Bas-Uélé"
    second = engine.step(tree, first.state, "98", ctx)
    assert second.state.page == 1
    assert lines(second)[1] == "8 Kongo Central"
    third = engine.step(tree, second.state, "98", ctx)
    assert lines(third) == [
        "Quelle province ? Tapez son nom ou son numéro.",
        "16 Sud-Ubangi",
        "17 Tshopo",
        "18 Tshuapa",
        "19 Je ne sais pas",
        "0 Retour",
    ]


def test_more_on_the_last_page_reasks(tree: Tree, ctx: Context) -> None:
    third = last(tree, ctx, [*TO_OTHER_PROVINCES, "98", "98"])
    outcome = engine.step(tree, third.state, "98", ctx)
    assert outcome.state.page == 2
    assert outcome.events == (InvalidInput("province_other", "98"),)
    assert lines(outcome)[0] == "Pas d'autres choix."
    assert "17 Tshopo" in lines(outcome)


def test_more_on_a_single_page_menu_reasks(tree: Tree, ctx: Context) -> None:
    menu = last(tree, ctx, ["2"])
    outcome = engine.step(tree, menu.state, "98", ctx)
    assert outcome.state.node == "main"
    assert lines(outcome)[0] == "Pas d'autres choix."


@pytest.mark.parametrize(("prefix", "number"), [((), "17"), (("98",), "1"), (("98", "98"), "7")])
def test_a_number_from_another_page_is_accepted(
    tree: Tree, ctx: Context, prefix: tuple[str, ...], number: str
) -> None:
    outcome = last(tree, ctx, [*TO_OTHER_PROVINCES, *prefix, number])
    assert outcome.state.node == "territory"
    assert outcome.events == ()


def test_back_restores_the_page_and_drops_answers(tree: Tree, ctx: Context) -> None:
    chose = last(tree, ctx, [*TO_OTHER_PROVINCES, "98", "98", "17"])
    assert chose.state.node == "territory"
    assert chose.state.values()["province"] == "CD-TO"
    back = engine.step(tree, chose.state, "0", ctx)
    assert (back.state.node, back.state.page) == ("province_other", 2)
    assert back.state.values()["province"] == "other"  # the first list's "another province"
    assert "17 Tshopo" in lines(back)
    pages = [back]
    for _ in range(2):
        pages.append(engine.step(tree, pages[-1].state, "0", ctx))
    assert [(o.state.node, o.state.page) for o in pages[1:]] == [
        ("province_other", 1),
        ("province_other", 0),
    ]
    assert engine.step(tree, pages[-1].state, "0", ctx).state.node == "province"


def test_back_from_an_input_drops_its_answer(tree: Tree, ctx: Context) -> None:
    at_when = last(tree, ctx, TO_CONFIRM_FR[:7])
    assert at_when.state.values()["site"] == "Mongbwalu"
    back = engine.step(tree, at_when.state, "0", ctx)
    assert back.state.node == "site"
    assert "site" not in back.state.values()
    assert len(back.state.answers) == len(at_when.state.answers) - 1


def test_back_on_the_first_screen_stays(tree: Tree, ctx: Context) -> None:
    first = engine.start(tree, ctx)
    outcome = engine.step(tree, first.state, "0", ctx)
    assert outcome.state.node == "language"
    assert outcome.screen == first.screen


def test_home_starts_again_and_keeps_the_language(tree: Tree, ctx: Context) -> None:
    deep = last(tree, ctx, TO_CONFIRM_FR[:8])
    assert deep.state.answers
    home = engine.step(tree, deep.state, "00", ctx)
    assert home.state.node == "main"
    assert home.state.language == "fr"
    assert home.state.answers == []
    assert home.state.stack == []
    assert lines(home)[1] == "1 Signaler un incident"


# SMS-like context: a list that would need pages may use one longer message ------------------


def test_a_long_list_fits_one_stretched_message(tree: Tree) -> None:
    sms = make_ctx(limit=160, stretch_limit=459)
    outcome = last(tree, sms, TO_OTHER_PROVINCES)
    assert "98 Plus" not in lines(outcome)
    numbered = [line for line in lines(outcome) if line[0].isdigit()]
    assert numbered[0] == "1 Bas-Uélé"
    assert numbered[-2:] == ["19 Je ne sais pas", "0 Retour"]
    assert len(numbered) == 20
    assert 160 < gsm.length(screen(outcome).text) <= 459
    # A screen that fits in 160 is not stretched.
    assert gsm.length(screen(last(tree, sms, ["2"])).text) <= 160


# State ------------------------------------------------------------------------------------


def test_state_round_trips_through_json(tree: Tree, ctx: Context) -> None:
    outcome = last(tree, ctx, ["2", "1", "98", "7", "1", "4", "3"])
    state = outcome.state
    assert state.stack and state.answers
    restored = State.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    assert all(isinstance(frame, Frame) for frame in restored.stack)
    for text in ("Kamituga", "0", "00", "x"):
        assert engine.step(tree, restored, text, ctx) == engine.step(tree, state, text, ctx)


def test_a_state_at_a_node_that_no_longer_exists_restarts(tree: Tree, ctx: Context) -> None:
    state = last(tree, ctx, ["2", "1", "1"]).state
    gone = replace(state, node="removed_node")
    assert (
        engine.render(tree, gone, ctx).text == screen(engine.start(tree, ctx, language="fr")).text
    )
    for text in ("1", "0", "98", "00", "abc"):
        outcome = engine.step(tree, gone, text, ctx)
        assert outcome.state.node == "main"
        assert outcome.state.language == "fr"
        assert outcome.state.answers == []


def test_back_to_a_node_that_no_longer_exists_restarts(tree: Tree, ctx: Context) -> None:
    state = last(tree, ctx, ["2", "1", "1"]).state
    state.stack[-1] = Frame(node="removed_node", page=0, answers=0)
    outcome = engine.step(tree, state, "0", ctx)
    assert outcome.state.node == "main"
    assert not screen(outcome).end


# Resume -----------------------------------------------------------------------------------


def test_resume_is_offered_for_an_unfinished_report(tree: Tree, ctx: Context) -> None:
    broken_off = last(tree, ctx, TO_CONFIRM_FR[:5]).state
    assert broken_off.unfinished
    offer = engine.start(tree, ctx, language="fr", resume=broken_off)
    assert offer.state.node == RESUME_NODE
    assert lines(offer) == ["Vous avez une alerte non terminée.", "1 Continuer", "2 Recommencer"]

    resumed = engine.step(tree, offer.state, "1", ctx)
    assert resumed.events == (Resumed("territory"),)
    assert resumed.state.node == "territory"
    assert resumed.state.answers == broken_off.answers
    assert resumed.state.resume is None
    assert resumed.screen == engine.render(tree, broken_off, ctx)

    declined = engine.step(tree, offer.state, "2", ctx)
    assert declined.events == (ResumeDeclined(),)
    assert declined.state.node == "main"
    assert declined.state.answers == []
    assert declined.state.language == "fr"

    invalid = engine.step(tree, offer.state, "3", ctx)
    assert invalid.state.node == RESUME_NODE
    assert invalid.events == (InvalidInput(RESUME_NODE, "3"),)
    assert lines(invalid)[0] == "Tapez un numéro."


def test_resume_is_not_offered_for_other_versions_or_finished_reports(
    tree: Tree, ctx: Context
) -> None:
    unfinished = last(tree, ctx, TO_CONFIRM_FR[:5]).state
    finished = last(tree, ctx, [*TO_CONFIRM_FR, "1"]).state
    cancelled = last(tree, ctx, [*TO_CONFIRM_FR, "3", "1"]).state
    no_answers = last(tree, ctx, ["2", "1"]).state
    older = replace(unfinished, tree_version=tree.version + 1)
    for state in (finished, cancelled, no_answers, older):
        assert engine.start(tree, ctx, language="fr", resume=state).state.node == "main"
    assert engine.start(tree, ctx, resume=unfinished).state.node == RESUME_NODE


# Limits ------------------------------------------------------------------------------------


def test_a_long_summary_shrinks_to_fit_and_keeps_the_options(tree: Tree, ctx: Context) -> None:
    inputs = [*TO_CONFIRM_FR[:6], "S" * 60, "3", "1", "D" * 80]
    outcome = last(tree, ctx, inputs)
    assert outcome.state.node == "confirm"
    assert gsm.length(screen(outcome).text) <= 160
    assert lines(outcome)[:3] == ["Vérifiez :", "Accident: Éboulement", "Djugu, Ituri"]
    assert lines(outcome)[-4:] == ["1 Envoyer", "2 Modifier", "3 Ne pas envoyer", "0 Retour"]
    assert lines(outcome)[-5].endswith("..")


@pytest.mark.parametrize("limit", [120, 140, 160])
def test_every_screen_of_a_report_fits_a_smaller_limit(tree: Tree, limit: int) -> None:
    small = make_ctx(limit=limit)
    for outcome in play(tree, small, [*TO_CONFIRM_FR, "1"]):
        assert gsm.length(screen(outcome).text) <= limit
        assert gsm.is_gsm(screen(outcome).text)


# Cancel: the tree's option and a channel's stop word are one operation -------------------


def test_cancel_ends_the_conversation_without_a_report(tree: Tree, ctx: Context) -> None:
    midway = last(tree, ctx, TO_CONFIRM_FR[:5])
    before = midway.state.to_dict()
    cancelled = engine.cancel(tree, midway.state, ctx)
    assert cancelled.events == (Cancelled(answered=len(midway.state.answers)),)
    assert cancelled.screen == Screen("Alerte annulée. Rien n'a été envoyé.", end=True)
    assert cancelled.state.ended and not cancelled.state.unfinished
    assert midway.state.to_dict() == before  # the caller's state is left alone
    # The same end as the confirmation's own "don't send" option, once confirmed.
    by_option = last(tree, ctx, [*TO_CONFIRM_FR, "3", "1"])
    direct = engine.cancel(tree, last(tree, ctx, TO_CONFIRM_FR).state, ctx)
    assert (direct.screen, direct.events) == (by_option.screen, by_option.events)
    assert direct.state.answers == by_option.state.answers


def test_cancelling_an_ended_conversation_changes_nothing(tree: Tree, ctx: Context) -> None:
    done = last(tree, ctx, [*TO_CONFIRM_FR, "1"])
    again = engine.cancel(tree, done.state, ctx)
    assert again.events == ()
    assert again.screen == done.screen and again.state == done.state
