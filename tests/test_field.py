"""Issue 9, "fit for the field", on the pure engine and the default tree: a keypad, a weak network,
a searched phone, and the words a Kivu miner uses. Each test names the issue's item it proves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from menus import engine, gsm
from menus.datasets import load_default_datasets
from menus.engine import Cancelled, Context, InvalidInput, Outcome, ReportSubmitted, Screen
from menus.i18n import Catalog
from menus.loader import read_tree
from menus.model import Tree
from menus.state import CHANGE_NODE, DISCARD_NODE, State

DEFAULT_TREE = Path(__file__).resolve().parents[1] / "menus" / "trees" / "incident.yaml"
TODAY = date(2026, 11, 24)
REFERENCE = "4000001"
LANGUAGES = ("sw", "fr", "en")

# Language known: report / accident / pit collapse / Ituri / Djugu.
TO_SITE = ["1", "1", "1", "1", "2"]
# ...then a site, yesterday, something to add, the details.
TO_CONFIRM = [*TO_SITE, "Mongbwalu", "2", "1", "Watu 3"]


@pytest.fixture(scope="module")
def tree() -> Tree:
    return read_tree(DEFAULT_TREE)


def make_ctx(**changes: object) -> Context:
    ctx = Context(catalog=Catalog.load(), datasets=load_default_datasets(), today=TODAY, limit=160)
    return replace(ctx, **changes)  # type: ignore[arg-type]


@pytest.fixture
def ctx() -> Context:
    return make_ctx()


def play(tree: Tree, ctx: Context, inputs: Iterable[str], language: str | None) -> list[Outcome]:
    outcomes = [engine.start(tree, ctx, language=language)]
    for text in inputs:
        outcome = engine.step(tree, outcomes[-1].state, text, ctx)
        if outcome.screen is None:
            outcome = replace(
                engine.submitted(tree, outcome.state, REFERENCE, ctx), events=outcome.events
            )
        outcomes.append(outcome)
    return outcomes


def last(tree: Tree, ctx: Context, inputs: Iterable[str], language: str | None) -> Outcome:
    return play(tree, ctx, inputs, language)[-1]


def screen(outcome: Outcome) -> Screen:
    assert outcome.screen is not None  # None only for a submitted report, before storage
    return outcome.screen


def lines(outcome: Outcome) -> list[str]:
    assert outcome.screen is not None
    return outcome.screen.text.split("\n")


def send(tree: Tree, ctx: Context, state: State, text: str) -> Outcome:
    return engine.step(tree, state, text, ctx)


# 1. "98" on a text screen ------------------------------------------------------------------

NOTHING_MORE = {
    "sw": "Hakuna zaidi hapa. Andika jibu lako.",
    "fr": "Il n'y a rien de plus ici. Ecrivez votre réponse.",
    "en": "There is nothing more here. Type your answer.",
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("screen", ["site", "details"])
def test_98_on_a_text_screen_is_a_key_not_an_answer(
    tree: Tree, ctx: Context, lang: str, screen: str
) -> None:
    inputs = TO_SITE if screen == "site" else TO_CONFIRM[:-1]
    before = last(tree, ctx, inputs, lang)
    assert before.state.node == screen
    outcome = send(tree, ctx, before.state, "98")
    assert outcome.state.node == screen
    assert outcome.state.answers == before.state.answers
    assert outcome.events == (InvalidInput(screen, "98"),)
    assert lines(outcome)[0] == NOTHING_MORE[lang]
    assert lines(outcome)[-1] == lines(before)[-1]  # "0 Back" stays on the screen
    # 0 and 00 stay keys too: back one screen, and start again.
    assert send(tree, ctx, before.state, "0").state.node != screen
    assert send(tree, ctx, before.state, "00").state.node == "main"


# 2. A number typed as the details ---------------------------------------------------------


@pytest.mark.parametrize("typed", ["3", "1", "2", "15"])
def test_a_bare_number_typed_as_details_is_the_details(
    tree: Tree, ctx: Context, typed: str
) -> None:
    at_details = last(tree, ctx, TO_CONFIRM[:-1], "en")
    assert lines(at_details)[0].startswith("In at most 80 letters, say what happened")
    assert not any(line.startswith(("1 ", "2 ", "3 ")) for line in lines(at_details))
    outcome = send(tree, ctx, at_details.state, typed)
    assert outcome.state.node == "confirm"
    assert outcome.state.values()["details"] == typed
    assert typed in lines(outcome)


def test_nothing_to_add_is_asked_before_the_details(tree: Tree, ctx: Context) -> None:
    asked = last(tree, ctx, TO_CONFIRM[:-2], "sw")
    assert lines(asked) == ["Uko na maelezo ya kuongeza?", "1 Ndiyo", "2 Hapana", "0 Rudi"]
    outcome = send(tree, ctx, asked.state, "2")
    assert outcome.state.node == "confirm"
    assert "details" not in outcome.state.values()


@pytest.mark.parametrize(
    ("typed", "details"),
    [("3", "3"), ("Watu 3 wameumia", "Watu 3 wameumia"), ("hapana", None), ("Ndiyo", "")],
)
def test_details_typed_at_anything_to_add_are_the_details(
    tree: Tree, ctx: Context, typed: str, details: str | None
) -> None:
    asked = last(tree, ctx, TO_CONFIRM[:-2], "sw")
    outcome = send(tree, ctx, asked.state, typed)
    assert outcome.events == ()
    if details is None:  # "no", by name
        assert outcome.state.node == "confirm"
        assert outcome.state.values()["add_details"] == "no"
    elif details == "":  # "yes", by name: the details are asked
        assert outcome.state.node == "details"
    else:
        assert outcome.state.node == "confirm"
        assert outcome.state.values()["add_details"] == "yes"
        assert outcome.state.values()["details"] == details


# 3. Typed names on lists --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "inputs", "typed", "key", "value"),
    [
        ("sw", ["1", "1", "1", "3"], "Walikale", "territory", "CD6104"),
        ("fr", ["1", "1", "1", "3"], "walikal", "territory", "CD6104"),  # a letter short
        ("en", ["1", "1", "1", "3"], "Walikele", "territory", "CD6104"),  # one typo
        ("fr", ["1", "1", "1", "4"], "kalehe", "territory", "CD6205"),
        ("en", ["1", "1", "1"], "Sud Kivu", "province", "CD-SK"),
        ("sw", ["1", "1", "1"], "haut uele", "province", "CD-HU"),
        ("sw", [*TO_SITE, "Bisie"], "jana", "when", "yesterday"),
        ("fr", [*TO_SITE, "Bisie"], "hier", "when", "yesterday"),
        ("en", [*TO_SITE, "Bisie"], "Yesterday", "when", "yesterday"),
        ("fr", [*TO_SITE, "Bisie"], "semaine", "when", "this_week"),
        ("en", ["1"], "conflict", "category", "conflict"),
        ("sw", ["1", "1", "1", "9"], "Tshopo", "province", "CD-TO"),
    ],
)
def test_a_typed_name_picks_the_one_choice_it_matches(
    tree: Tree, ctx: Context, lang: str, inputs: list[str], typed: str, key: str, value: str
) -> None:
    before = last(tree, ctx, inputs, lang)
    outcome = send(tree, ctx, before.state, typed)
    assert outcome.events == ()
    assert outcome.state.values()[key] == value
    assert outcome.state.node != before.state.node


def test_a_typed_name_keeps_the_chosen_item_extras(tree: Tree, ctx: Context) -> None:
    outcome = last(tree, ctx, ["1", "1", "1", "Sud-Kivu", "Kalehe"], "fr")
    entries = outcome.state.entries()
    assert entries["province"]["pcode"] == "CD62"
    assert entries["territory"]["label"] == "Kalehe"


def test_several_matches_show_just_those(tree: Tree, ctx: Context) -> None:
    at_province = last(tree, ctx, ["1", "1", "1"], "en")
    narrowed = send(tree, ctx, at_province.state, "kivu")
    assert narrowed.events == ()
    assert lines(narrowed) == ["In which province?", "1 Nord-Kivu", "2 Sud-Kivu", "0 Back"]
    picked = send(tree, ctx, narrowed.state, "2")
    assert picked.state.values()["province"] == "CD-SK"
    assert picked.state.node == "territory"
    # Back from the matches is the whole list again, with nothing answered.
    whole = send(tree, ctx, narrowed.state, "0")
    assert whole.state.node == "province"
    assert whole.screen == at_province.screen
    # Another name typed on the matches is looked up in the whole list.
    assert send(tree, ctx, narrowed.state, "Ituri").state.values()["province"] == "CD-IT"


@pytest.mark.parametrize("typed", ["Kinshasa", "xyz", "ka"])
def test_no_match_reasks(tree: Tree, ctx: Context, typed: str) -> None:
    at_province = last(tree, ctx, ["1", "1", "1"], "fr")
    outcome = send(tree, ctx, at_province.state, typed)
    assert outcome.state.node == "province"
    assert outcome.events == (InvalidInput("province", typed),)
    assert lines(outcome)[0] == "Tapez un numéro."


@pytest.mark.parametrize("typed", ["Send", "Envoyer", "tuma", "Don't send"])
def test_the_confirmation_takes_numbers_only(tree: Tree, ctx: Context, typed: str) -> None:
    at_confirm = last(tree, ctx, TO_CONFIRM, "en")
    outcome = send(tree, ctx, at_confirm.state, typed)
    assert outcome.state.node == "confirm"
    assert isinstance(outcome.events[0], InvalidInput)


# 4. Dates -----------------------------------------------------------------------------------

AHEAD = {
    "sw": "Siku hiyo bado haijafika mwaka huu. Andika na mwaka: 30 11 2025",
    "fr": "Ce jour n'est pas encore arrivé cette année. Ajoutez l'année : 30 11 2025",
    "en": "That day has not come yet this year. Write the year too: 30 11 2025",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_date_without_a_year_still_ahead_is_asked_again(
    tree: Tree, ctx: Context, lang: str
) -> None:
    at_date = last(tree, ctx, [*TO_SITE, "Bisie", "4"], lang)
    assert at_date.state.node == "date"
    assert "12 10 2026" in lines(at_date)[0]  # the keypad-friendly format first
    assert "/" not in lines(at_date)[0]
    ahead = send(tree, ctx, at_date.state, "30 11")
    assert ahead.state.node == "date"
    assert lines(ahead)[0] == AHEAD[lang]
    assert send(tree, ctx, ahead.state, "30 11 2025").state.values()["date"] == "2025-11-30"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("20 11", "2026-11-20"), ("12 10 2026", "2026-10-12"), ("12*10*2026", "2026-10-12")],
)
def test_dates_typed_on_a_keypad(tree: Tree, ctx: Context, typed: str, stored: str) -> None:
    at_date = last(tree, ctx, [*TO_SITE, "Bisie", "4"], "fr")
    assert send(tree, ctx, at_date.state, typed).state.values()["date"] == stored


# 5. Details longer than the limit ---------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("sw", "Maandishi yamekatwa: herufi 80."),
        ("fr", "Texte coupé à 80 lettres."),
        ("en", "Text cut to 80 letters."),
    ],
)
def test_long_details_are_kept_up_to_the_limit(
    tree: Tree, ctx: Context, lang: str, said: str
) -> None:
    at_details = last(tree, ctx, TO_CONFIRM[:-1], lang)
    assert "80" in lines(at_details)[0]  # the prompt says the limit
    text = "Watu watatu wameumia vibaya sana " * 4
    outcome = send(tree, ctx, at_details.state, text)
    assert outcome.state.node == "confirm"
    entry = outcome.state.entries()["details"]
    assert entry["shortened"] is True
    assert text.startswith(entry["value"])
    assert 70 <= len(entry["value"]) <= 80
    assert not entry["value"].endswith(" ")
    assert lines(outcome)[0] == said
    assert gsm.length(screen(outcome).text) <= 160


# 6. Going back keeps typed answers; a change screen -------------------------------------


def test_back_from_the_confirmation_offers_to_keep_what_was_typed(tree: Tree, ctx: Context) -> None:
    confirm = last(tree, ctx, TO_CONFIRM, "fr")
    details = send(tree, ctx, confirm.state, "0")
    assert details.state.node == "details"
    assert lines(details)[1:] == ["1 Garder: Watu 3", "0 Retour"]
    kept = send(tree, ctx, details.state, "1")
    assert kept.state.node == "confirm"
    assert kept.screen == confirm.screen
    assert kept.state.answers == confirm.state.answers
    # Four screens further back, the site is offered too, beside "don't know".
    site = confirm
    for _ in range(4):
        site = send(tree, ctx, site.state, "0")
    assert site.state.node == "site"
    assert lines(site)[1:] == ["1 Je ne sais pas", "2 Garder: Mongbwalu", "0 Retour"]
    assert send(tree, ctx, site.state, "2").state.values()["site"] == "Mongbwalu"
    # A new answer replaces it.
    assert send(tree, ctx, site.state, "Kamituga").state.values()["site"] == "Kamituga"


CHANGE_SCREEN = {
    "sw": [
        "Unataka kubadilisha jibu gani?",
        "1 Tukio",
        "2 Mahali",
        "3 Mgodi au kijiji",
        "4 Siku",
        "5 Maelezo",
        "0 Rudi",
    ],
    "fr": [
        "Quelle réponse voulez-vous modifier ?",
        "1 Incident",
        "2 Lieu",
        "3 Site ou village",
        "4 Date",
        "5 Détails",
        "0 Retour",
    ],
    "en": [
        "Which answer do you want to change?",
        "1 What happened",
        "2 Place",
        "3 Site or village",
        "4 When",
        "5 Details",
        "0 Back",
    ],
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_change_screen_lists_the_questions_answered(
    tree: Tree, ctx: Context, lang: str
) -> None:
    confirm = last(tree, ctx, TO_CONFIRM, lang)
    change = send(tree, ctx, confirm.state, "2")
    assert change.state.node == CHANGE_NODE
    assert lines(change) == CHANGE_SCREEN[lang]
    assert send(tree, ctx, change.state, "0").screen == confirm.screen


def test_changing_the_site_returns_to_the_confirmation(tree: Tree, ctx: Context) -> None:
    confirm = last(tree, ctx, TO_CONFIRM, "en")
    site = last(tree, ctx, [*TO_CONFIRM, "2", "3"], "en")
    assert site.state.node == "site"
    assert lines(site)[1:] == ["1 Don't know", "2 Keep: Mongbwalu", "0 Back"]
    changed = send(tree, ctx, site.state, "Kamituga")
    assert changed.state.node == "confirm"
    assert not changed.state.changing
    before, after = confirm.state.values(), changed.state.values()
    assert after == {**before, "site": "Kamituga"}
    assert lines(changed) == [line.replace("Mongbwalu", "Kamituga") for line in lines(confirm)]
    # Back from the confirmation goes through the questions as they now stand.
    assert send(tree, ctx, changed.state, "0").state.node == "details"


def test_changing_what_happened_asks_its_type_again(tree: Tree, ctx: Context) -> None:
    outcome = last(tree, ctx, [*TO_CONFIRM, "2", "1", "2"], "en")
    assert outcome.state.node == "sub_violence"
    outcome = send(tree, ctx, outcome.state, "3")
    assert outcome.state.node == "confirm"
    values = outcome.state.values()
    assert (values["category"], values["subcategory"]) == ("violence", "violence.security_forces")
    assert (values["territory"], values["site"], values["details"]) == (
        "CD5405",
        "Mongbwalu",
        "Watu 3",
    )


def test_changing_the_place_asks_a_territoire_of_the_new_province(tree: Tree, ctx: Context) -> None:
    outcome = last(tree, ctx, [*TO_CONFIRM, "2", "2", "4"], "en")
    assert outcome.state.node == "territory"  # Djugu is not in Sud-Kivu
    outcome = send(tree, ctx, outcome.state, "Kalehe")
    assert outcome.state.node == "confirm"
    assert outcome.state.values()["territory"] == "CD6205"
    assert outcome.state.values()["when"] == "yesterday"


def test_changing_the_date_to_today_drops_the_typed_date(tree: Tree, ctx: Context) -> None:
    typed = [*TO_SITE, "Bisie", "4", "12 10 2026", "2"]
    confirm = last(tree, ctx, typed, "en")
    assert confirm.state.values()["date"] == "2026-10-12"
    changed = last(tree, ctx, [*typed, "2", "4", "1"], "en")
    assert changed.state.node == "confirm"
    assert "date" not in changed.state.values()
    (event,) = send(tree, ctx, changed.state, "1").events
    assert isinstance(event, ReportSubmitted)
    assert "date" not in event.answers and event.answers["when"]["value"] == "today"


# 7. "Don't send" asks once more ------------------------------------------------------------

DISCARD = {
    "sw": ["Kuacha ripoti hii? Haitatumwa.", "1 Ndiyo, acha", "2 Hapana, rudi"],
    "fr": ["Abandonner cette alerte ? Rien ne sera envoyé.", "1 Oui, abandonner", "2 Non, revenir"],
    "en": [
        "Throw this report away? Nothing will be sent.",
        "1 Yes, throw it away",
        "2 No, go back",
    ],
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_dont_send_asks_before_throwing_the_report_away(
    tree: Tree, ctx: Context, lang: str
) -> None:
    confirm = last(tree, ctx, TO_CONFIRM, lang)
    asked = send(tree, ctx, confirm.state, "3")
    assert asked.state.node == DISCARD_NODE
    assert asked.events == ()
    assert lines(asked) == DISCARD[lang]
    for no in ("2", "0"):
        back = send(tree, ctx, asked.state, no)
        assert back.screen == confirm.screen
        assert back.state.answers == confirm.state.answers
    gone = send(tree, ctx, asked.state, "1")
    assert gone.events == (Cancelled(answered=len(confirm.state.answers)),)
    assert gone.screen is not None and gone.screen.end


# 8. The reference by SMS, on the reporter's word --------------------------------------------


def test_the_reference_by_sms_is_offered_only_where_the_deployment_allows(tree: Tree) -> None:
    offered = make_ctx(offer_sms_reference=True)
    confirm = last(tree, offered, TO_CONFIRM, "fr")
    assert lines(confirm)[-5:] == [
        "1 Envoyer",
        "2 Envoyer + numéro par SMS",
        "3 Modifier",
        "4 Ne pas envoyer",
        "0 Retour",
    ]
    (by_sms,) = send(tree, offered, confirm.state, "2").events
    assert isinstance(by_sms, ReportSubmitted) and by_sms.send_reference
    (plain,) = send(tree, offered, confirm.state, "1").events
    assert isinstance(plain, ReportSubmitted) and not plain.send_reference
    assert "2 Envoyer + numéro par SMS" not in lines(last(tree, make_ctx(), TO_CONFIRM, "fr"))


RECEIVED = {
    "sw": "Ripoti yako 1234567 imefika.",
    "fr": "Votre alerte 1234567 est bien arrivée.",
    "en": "Your report 1234567 was received.",
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("limit", [140, 160])
def test_the_next_dial_says_the_last_report_was_received(tree: Tree, lang: str, limit: int) -> None:
    ctx = make_ctx(limit=limit)
    outcome = engine.start(tree, ctx, language=lang, received="1234567")
    assert lines(outcome)[0] == RECEIVED[lang]
    assert outcome.state.node == "main"
    plain = engine.start(tree, ctx, language=lang)
    assert lines(outcome)[-2:] == lines(plain)[-2:]  # the choices stay whole
    assert outcome.screen is not None and gsm.length(outcome.screen.text) <= limit


# 10. A conversation that stays on the handset -----------------------------------------------

CATEGORY_WORDS = ("Ajali", "Shimo", "Accident", "Éboulement", "Pit collapse")
YESTERDAY = {"sw": "Jana", "fr": "Hier", "en": "Yesterday"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_discreet_confirmation_shows_no_category_words(tree: Tree, lang: str) -> None:
    sms = make_ctx(discreet=True)
    confirm = last(tree, sms, TO_CONFIRM, lang)
    assert lines(confirm)[1:3] == ["Djugu, Ituri", YESTERDAY[lang]]
    assert not any(word in screen(confirm).text for word in CATEGORY_WORDS)
    assert "Watu 3" not in screen(confirm).text


DELETE = {
    "sw": "Kisha futa meseji hizi.",
    "fr": "Puis effacez ces messages.",
    "en": "Then delete these messages.",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_last_discreet_message_advises_deleting_the_messages(tree: Tree, lang: str) -> None:
    sms = make_ctx(discreet=True)
    done = last(tree, sms, [*TO_CONFIRM, "1"], lang)
    assert done.screen is not None and done.screen.end
    assert lines(done)[-1] == DELETE[lang]
    assert REFERENCE in done.screen.text
    cancelled = last(tree, sms, [*TO_CONFIRM, "3", "1"], lang)
    assert len(lines(cancelled)) == 2
    # On USSD nothing stays on the handset: no such advice.
    assert DELETE[lang] not in screen(last(tree, make_ctx(), [*TO_CONFIRM, "1"], lang)).text


# 11. The number is what a miner fears for ----------------------------------------------------

SECRET_NUMBER = {
    "sw": "Namba yako ya simu ni siri.",
    "fr": "Votre numéro de téléphone reste secret.",
    "en": "Your phone number stays secret.",
}
NO_NAMES = {
    "sw": ("si la mtu", "Usiandike majina ya watu"),
    "fr": ("pas d'une personne", "N'écrivez aucun nom"),
    "en": ("not a person's", "Write no one's name"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_phone_number_is_promised_secret_and_no_names_are_asked(
    tree: Tree, ctx: Context, lang: str
) -> None:
    main = engine.start(tree, ctx, language=lang)
    assert SECRET_NUMBER[lang] in lines(main)[0]
    site, details = NO_NAMES[lang]
    assert site in lines(last(tree, ctx, TO_SITE, lang))[0]
    assert details in lines(last(tree, ctx, TO_CONFIRM[:-1], lang))[0]
    for node in tree.nodes.values():
        assert "Jina lako" not in node.text.get(lang, "")
        assert "Votre nom" not in node.text.get(lang, "")
        assert "Your name" not in node.text.get(lang, "")


# 16. Hops: a complete report fits a session ----------------------------------------------


def shortest_report(tree: Tree, ctx: Context, language: str | None) -> list[str]:
    """The fewest inputs from the first screen to a stored report (a breadth-first search over
    every number on screen, "98", a skip, and a typed site, date or details)."""
    first = engine.start(tree, ctx, language=language).state
    queue: deque[tuple[State, list[str]]] = deque([(first, [])])
    seen: set[str] = set()
    while queue:
        state, inputs = queue.popleft()
        if state.node in seen:
            continue
        seen.add(state.node)
        node = tree.nodes[state.node]
        if node.kind == "input":
            typed = {"date": "12 10 2026"}.get(node.input_type or "", "Bisie")
            candidates = [typed, *([node.skip_token] if node.skip else [])]
        else:
            candidates = [str(n) for n in range(1, 30)] + ["98"]
        for text in candidates:
            outcome = engine.step(tree, state, text, ctx)
            if any(isinstance(e, ReportSubmitted) for e in outcome.events):
                return [*inputs, text]
            invalid = any(isinstance(e, InvalidInput) for e in outcome.events)
            if not invalid and not outcome.state.ended and outcome.state.node in tree.nodes:
                queue.append((outcome.state, [*inputs, text]))
    raise AssertionError("no report can be completed")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shortest_report_takes_at_most_nine_answers(
    tree: Tree, ctx: Context, lang: str
) -> None:
    known = shortest_report(tree, ctx, lang)
    assert len(known) == 8, known  # main, "other", province, territoire, site, when, add, send
    assert "98" not in known
    assert len(shortest_report(tree, ctx, None)) == len(known) + 1  # the language question


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("category", range(1, 8))  # every category with a sub-category
def test_a_typical_report_takes_nine_answers_without_98(
    tree: Tree, ctx: Context, lang: str, category: int
) -> None:
    inputs = ["1", str(category), "1", "1", "1", "Bisie", "1", "2", "1"]
    outcomes = play(tree, ctx, inputs, lang)
    assert any(isinstance(e, ReportSubmitted) for e in outcomes[-1].events)
    assert len(inputs) == 9


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("limit", [160])
def test_the_category_list_needs_no_98_in_any_language(tree: Tree, lang: str, limit: int) -> None:
    ctx = make_ctx(limit=limit)
    at_category = last(tree, ctx, ["1"], lang)
    shown = engine.view(tree, tree.nodes["category"], at_category.state, ctx)
    assert shown.pages() == 1
    assert "98" not in screen(at_category).text
    assert lines(at_category)[-2].startswith("8 ")


# 17. Another province ---------------------------------------------------------------------


def test_another_province_asks_which_then_its_territoire(tree: Tree, ctx: Context) -> None:
    other = last(tree, ctx, ["1", "1", "1", "9"], "fr")
    assert other.state.node == "province_other"
    assert lines(other)[0] == "Quelle province ? Tapez son nom ou son numéro."
    territory = send(tree, ctx, other.state, "Tshopo")
    assert territory.state.node == "territory"
    assert "1 Bafwasende" in lines(territory)
    outcome = last(tree, ctx, ["1", "1", "1", "9", "Tshopo", "1", "1", "2", "2", "1"], "fr")
    (event,) = outcome.events
    assert isinstance(event, ReportSubmitted)
    assert event.answers["province"]["value"] == "CD-TO"
    assert event.answers["province"]["pcode"] == "CD51"
    assert event.answers["territory"]["label"] == "Bafwasende"


def test_every_province_of_the_drc_can_be_chosen(tree: Tree, ctx: Context) -> None:
    datasets = load_default_datasets()
    codes = {i.code for i in datasets.get("provinces").items({})}
    codes |= {i.code for i in datasets.get("other_provinces").items({})}
    assert len(codes) == 26
    for code in codes:
        assert datasets.get("territories").items({"province": code}), code


# 18. Transliteration ---------------------------------------------------------------------


def test_the_default_tree_has_no_transliteration_that_changes_a_meaning(tree: Tree) -> None:
    # Only the language's own name loses its cedilla (it reads "Francais"); every other text is
    # written in GSM-7 already, so "forêts" can no longer become "forets" (drill bits).
    assert [(w.field, w.language, w.characters) for w in tree.warnings] == [
        ("language_names", "fr", (("ç", "c"),))
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_system_string_is_transliterated(lang: str) -> None:
    catalog = Catalog.load()
    for message in engine.SYSTEM_MESSAGES:
        translated = catalog.raw(lang, message)
        assert gsm.to_gsm(translated) == translated, (lang, message, translated)
