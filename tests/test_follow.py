""" "Follow my report" by phone: the engine's question (pure, with a lookup passed in its context)
and the channels' lookup (a real database and Redis): only the phone that sent a report hears its
status, everyone else the same "not found", and wrong references are throttled per phone.
The conversations themselves are transcripts (``tests/transcripts/*/follow_*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.follow import StatusLookup
from menus import engine
from menus.follow import STATUS_MESSAGES, FollowStatus
from menus.loader import read_tree
from menus.model import Tree
from menus.references import check_digit
from menus.sms.answers import apply_inputs
from menus.state import STATUS_NODE
from services import EXTENSION_KEY, Services
from storage.models import Report

from .conftest import Backend, make_app
from .phone import Phone
from .sms_support import Conversation, outbox_rows
from .test_engine import DEFAULT_TREE, make_ctx
from .transcript import given_reports
from .web_support import FAST_ARGON2, People, login, make_report, post_form

MINE = "4815261"
TYPO = "4815262"  # the same reference, its last digit mistyped: the check digit catches it
PHONE = "+243812000501"
OTHER_PHONE = "+243812000502"


@dataclass
class Lookup:
    """The engine's side of a lookup: answers from a table, and every reference asked."""

    answers: dict[str, FollowStatus] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def status(self, reference: str) -> FollowStatus:
        self.asked.append(reference)
        return self.answers.get(reference, "not_found")


@pytest.fixture(scope="module")
def tree() -> Tree:
    return read_tree(DEFAULT_TREE)


def at_question(tree: Tree, ctx: engine.Context, language: str = "en") -> engine.Outcome:
    opened = engine.start(tree, ctx, language=language)
    return engine.step(tree, opened.state, "3", ctx)


# The engine --------------------------------------------------------------------------------


def test_the_main_menu_offers_it_and_asks_for_the_reference(tree: Tree) -> None:
    ctx = make_ctx()
    outcome = at_question(tree, ctx)
    assert outcome.screen is not None
    assert outcome.screen.text == "Type your report's number (7 digits):\n0 Back"
    assert engine.accepts(tree, outcome.state).kind == "reference"


def test_a_mistyped_reference_is_asked_again_and_never_looked_up(tree: Tree) -> None:
    lookup = Lookup({MINE: "resolved"})
    ctx = replace(make_ctx(), reports=lookup)
    question = at_question(tree, ctx)
    for typed in (TYPO, "481526", "48152611", "abcdefg", MINE[1] + MINE[0] + MINE[2:]):
        outcome = engine.step(tree, question.state, typed, ctx)
        assert outcome.screen is not None and not outcome.screen.end
        assert outcome.screen.text.startswith("This number is not right"), typed
        assert outcome.state.node == "follow"
        assert isinstance(outcome.events[0], engine.InvalidInput)
    assert lookup.asked == []
    done = engine.step(tree, question.state, "481-5261", ctx)
    assert lookup.asked == [MINE]
    assert done.screen == engine.Screen(f"Report {MINE}: resolved.", end=True)
    assert (done.state.node, done.state.ended, done.state.status) == (STATUS_NODE, True, "resolved")
    assert not done.state.unfinished  # nothing to resume: no report was being written


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("received", "Report 4815261: received, waiting to be followed up."),
        ("followed_up", "Report 4815261: being followed up."),
        ("resolved", "Report 4815261: resolved."),
        ("closed", "Report 4815261: closed."),
        ("not_found", "No report 4815261 from this phone. Check the number."),
        ("throttled", "Too many wrong numbers. Try again later."),
    ],
)
def test_each_answer_in_plain_words(tree: Tree, status: FollowStatus, expected: str) -> None:
    ctx = replace(make_ctx(), reports=Lookup({MINE: status}))
    done = engine.step(tree, at_question(tree, ctx).state, MINE, ctx)
    assert done.screen is not None and done.screen.text == expected
    # Where the conversation stays on the handset (SMS), the answer says to delete it.
    discreet = replace(ctx, discreet=True)
    done = engine.step(tree, at_question(tree, discreet).state, MINE, discreet)
    assert done.screen is not None and done.screen.text == expected + "\nDelete these messages."
    assert set(STATUS_MESSAGES) == {
        "received",
        "followed_up",
        "resolved",
        "closed",
        "not_found",
        "throttled",
    }


def test_without_a_lookup_every_reference_is_not_found(tree: Tree) -> None:
    ctx = make_ctx()
    done = engine.step(tree, at_question(tree, ctx).state, MINE, ctx)
    assert done.screen is not None and done.screen.text.startswith("No report 4815261")


def test_navigation_still_works_on_the_question(tree: Tree) -> None:
    lookup = Lookup()
    ctx = replace(make_ctx(), reports=lookup)
    question = at_question(tree, ctx)
    back = engine.step(tree, question.state, "0", ctx)
    assert back.state.node == "main"
    more = engine.step(tree, question.state, "98", ctx)
    assert more.screen is not None and more.screen.text.startswith("There is nothing more here")
    home = engine.step(tree, question.state, "00", ctx)
    assert home.state.node == "main"
    assert lookup.asked == []


def test_one_sms_may_carry_the_choice_and_a_reference_with_spaces(tree: Tree) -> None:
    lookup = Lookup({MINE: "closed"})
    ctx = replace(make_ctx(), reports=lookup, discreet=True)
    opened = engine.start(tree, ctx, language="en")
    done = apply_inputs(tree, opened, "3 481 5261", ctx)
    assert lookup.asked == [MINE]
    assert done.screen is not None and done.screen.text.startswith(f"Report {MINE}: closed.")


def test_the_check_digit_is_a_damm_digit() -> None:
    assert check_digit(MINE[:-1]) == MINE[-1]
    assert check_digit(MINE) == "0"
    assert check_digit(TYPO) != "0"


# The channels' lookup, on both backends ------------------------------------------------------


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Flask:
    return make_app(backend, tmp_path, follow={"max_wrong": 3})


@pytest.fixture
def reports(services: Services) -> dict[str, str]:
    """This phone's report, another phone's, and a duplicate this phone sent of the other's."""
    theirs, head, duplicate = "7309142", "5920474", "6152834"
    given_reports(
        services,
        {
            "given": [
                {"reference": MINE, "phone": PHONE, "status": "new"},
                {"reference": theirs, "phone": OTHER_PHONE, "status": "monitoring"},
                {"reference": head, "phone": OTHER_PHONE, "status": "resolved"},
                {"reference": duplicate, "phone": PHONE, "duplicate_of": head},
            ]
        },
    )
    return {"mine": MINE, "theirs": theirs, "head": head, "duplicate": duplicate}


def lookup_for(services: Services, phone: str) -> StatusLookup:
    return StatusLookup(services, services.vault.hash(phone))


def test_only_the_phone_that_sent_a_report_hears_its_status(
    services: Services, reports: dict[str, str]
) -> None:
    mine, other = lookup_for(services, PHONE), lookup_for(services, OTHER_PHONE)
    assert mine.status(reports["mine"]) == "received"
    assert mine.status(reports["duplicate"]) == "resolved"  # the group's status, not "closed"
    assert mine.status(reports["theirs"]) == "not_found"
    assert mine.status(reports["head"]) == "not_found"  # the head was sent by the other phone
    assert other.status(reports["theirs"]) == "followed_up"
    assert other.status(reports["mine"]) == "not_found"


def test_someone_elses_reference_reads_exactly_like_one_that_does_not_exist(
    app: Flask, services: Services, client: FlaskClient, reports: dict[str, str]
) -> None:
    nobodys = "2579611"  # a right check digit, and no such report
    answers = []
    for n, reference in enumerate((reports["theirs"], nobodys)):
        phone = Phone(client, f"ATUid_probe_{n}", number=PHONE)
        phone.send("3")  # the first dial chose English for this phone
        answers.append(phone.send("3", reference).replace(reference, "<reference>"))
    assert (
        answers[0] == answers[1] == "END No report <reference> from this phone. Check the number."
    )


def test_wrong_references_are_throttled_per_phone(
    app: Flask, services: Services, client: FlaskClient, reports: dict[str, str]
) -> None:
    mine = lookup_for(services, PHONE)
    # Mistyped references are not looked up, so they never count.
    phone = Phone(client, "ATUid_typos", number=PHONE)
    phone.send("3", "3")
    for _ in range(5):
        assert "not right" in phone.send(TYPO)
    assert not services.redis.exists(mine.key)
    for reference in ("7309142", "2579611", "5920474"):  # three wrong ones (max_wrong: 3)
        assert mine.status(reference) == "not_found"
    assert 0 < services.redis.ttl(mine.key) <= services.settings.follow.window_seconds
    # Now even the phone's own reference is not looked up until the window ends...
    assert mine.status(reports["mine"]) == "throttled"
    screen = Phone(client, "ATUid_throttled", number=PHONE).send("3", reports["mine"])
    assert screen == "END Too many wrong numbers. Try again later."
    # ...while another phone is not held back by it.
    assert lookup_for(services, OTHER_PHONE).status(reports["theirs"]) == "followed_up"


def test_by_sms_the_keyword_choice_and_reference_in_one_message(
    app: Flask, services: Services, client: FlaskClient, reports: dict[str, str]
) -> None:
    talk = Conversation(client, services, phone=PHONE)
    assert talk.send(f"REPORT 3 {reports['duplicate']}").startswith(
        f"Report {reports['duplicate']}: resolved."
    )
    # The conversation ended with the answer: the next message starts afresh.
    assert "Text REPORT to report an incident" in talk.send("3")


# One SMS when a report is resolved (follow.sms_when_resolved) -------------------------------


def resolve(client: FlaskClient, reference: str) -> None:
    for status in ("monitoring", "resolved"):
        url = f"/reports/{reference}"
        assert post_form(client, url, url + "/status", {"status": status}).status_code == 302


@pytest.mark.parametrize("enabled", [False, True])
def test_a_resolved_report_may_send_its_reporters_one_sms(
    backend: Backend, tmp_path: Path, enabled: bool
) -> None:
    app = make_app(
        backend, tmp_path, web={"argon2": FAST_ARGON2}, follow={"sms_when_resolved": enabled}
    )
    services: Services = app.extensions[EXTENSION_KEY]
    people = People(services)
    people.user("analyst@example.org", people.org("CSO Bukavu"), "analyst")
    head = make_report(services, phone=PHONE, language="sw")
    duplicate = make_report(services, phone=OTHER_PHONE, language="en")
    again = make_report(services, phone=PHONE, language="sw")  # the same phone twice
    with services.db.transaction() as session:
        for report in (duplicate, again):
            found = session.get(Report, report.id)
            assert found is not None
            found.duplicate_of_id, found.status = head.id, "closed"
    client = app.test_client()
    assert login(client, "analyst@example.org").status_code == 302
    resolve(client, head.reference)
    texts = {
        phone: [r.text for r in outbox_rows(services, phone)] for phone in (PHONE, OTHER_PHONE)
    }
    if not enabled:
        assert texts == {PHONE: [], OTHER_PHONE: []}
        return
    assert texts == {
        PHONE: [f"Ripoti {head.reference}: tatizo limemalizika.\nFuta meseji hizi."],
        OTHER_PHONE: [f"Report {duplicate.reference}: resolved.\nDelete these messages."],
    }
    # Reopened and resolved again: nobody gets a second one.
    resolve(client, head.reference)
    assert len(outbox_rows(services)) == 2
