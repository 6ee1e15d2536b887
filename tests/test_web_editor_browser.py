"""The menu editor's story in a real browser (Debian's chromium driven by Playwright), at a
desktop's and at a phone's size: an admin changes a French label, sees the too-long screen it
makes, fixes it, publishes, and sees the new label in the simulator; a reporter whose USSD session
began before the publish (on the live server's real /ussd/africastalking) still reads the old one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from services import EXTENSION_KEY, Services

from .conftest import Backend
from .live_server import serving
from .web_support import PASSWORD, People, web_app

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}
# Longer than a whole screen: no page of the category menu can hold it.
LONG = "Accident grave en forêt : " + "des blessés et des morts dans le puits, " * 4


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    app = web_app(backend, tmp_path)
    yield app
    app.extensions[EXTENSION_KEY].close()


class Phone:
    """A reporter's USSD session on the live server, hop by hop as Africa's Talking posts them."""

    def __init__(self, base: str, session_id: str, number: str) -> None:
        self.base, self.session_id, self.number = base, session_id, number
        self.inputs: list[str] = []

    def hop(self, answer: str | None = None) -> str:
        if answer is not None:
            self.inputs.append(answer)
        response = requests.post(
            self.base + "/ussd/africastalking",
            data={
                "sessionId": self.session_id,
                "serviceCode": "*384*44135#",
                "phoneNumber": self.number,
                "networkCode": "63001",
                "text": "*".join(self.inputs),
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.text


def shot(tab: Any, size: str, step: str, *, full: bool = True) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"editor-{size}-{step}.png"), full_page=full)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_change_a_label_see_it_too_long_fix_publish_simulate_and_old_sessions_keep_theirs(
    browser: Any, app: Flask, services: Services, size: str, request: pytest.FixtureRequest
) -> None:
    people = People(services)
    people.user("coord@example.org", people.org("Coordination"), "coordinator", name="Neema")
    context = browser.new_context(viewport=VIEWPORTS[size], locale="fr-FR")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    with serving(app) as base:
        try:
            story(tab, base, size)
        except BaseException:
            shot(tab, size, "failure")
            raise
        finally:
            context.close()
    # Nothing refused by the CSP, no script error; the refused publish answers 409 on purpose.
    assert [e for e in errors if "status of 409" not in e] == []


def story(tab: Any, base: str, size: str) -> None:
    # A reporter is on the category menu when the admin starts.
    before = Phone(base, "ATUid_before", "+243812345678")
    before.hop()
    before.hop("2")  # Français
    screen = before.hop("1")  # Signaler un incident
    assert "1 Accident\n" in screen

    tab.goto(base + "/login")
    tab.fill("input[name=email]", "coord@example.org")
    tab.fill("input[name=password]", PASSWORD)
    with tab.expect_navigation():
        tab.click("main form button[type=submit]")
    tab.click("header nav >> text=Menus")
    assert tab.locator("h1").inner_text() == "Arbres de menus"
    tab.click("main h2 a:has-text('incident')")
    with tab.expect_navigation():
        tab.click("table.versions button:has-text('Nouveau brouillon')")
    assert tab.url.endswith("/menus/incident/2")
    shot(tab, size, "1-draft")

    tab.click("#node-category .node-head a")
    tab.fill("#opt-0-label-fr", LONG)
    with tab.expect_navigation():
        tab.click("#node-form .save-row button >> nth=0")
    french = tab.locator(".lang-head:has(strong:text-is('fr')) .problems")
    assert "screen does not fit in 160 characters" in french.inner_text()
    assert tab.locator(".lang-head:has(strong:text-is('sw')) .problems").count() == 0
    assert "<code>ê</code>" in tab.content()  # the transliterated letter is named
    shot(tab, size, "2-too-long")
    tab.locator("#node-problems").scroll_into_view_if_needed()
    shot(tab, size, "2a-problems", full=False)
    tab.locator("#option-accident").scroll_into_view_if_needed()
    shot(tab, size, "2b-option", full=False)

    # Publishing is refused while it is too long: the problems are shown, nothing changes.
    tab.goto(base + "/menus/incident/2")
    with tab.expect_navigation():
        tab.click("#publish button")
    assert "n'a pas été publiée" in tab.locator(".flash.error").inner_text()

    tab.goto(base + "/menus/incident/2/nodes/category")
    tab.fill("#opt-0-label-fr", "Accident minier")
    with tab.expect_navigation():
        tab.click("#node-form .save-row button >> nth=0")
    assert "Aucun problème dans l'arbre." in tab.locator("main").inner_text()
    tab.goto(base + "/menus/incident/2")
    with tab.expect_navigation():
        tab.click("#publish button")
    assert "est publiée" in tab.locator(".flash.success").inner_text()
    shot(tab, size, "3-published")
    tab.goto(base + "/menus/incident/diff?a=1&b=2")
    changed = tab.locator("table.diff").inner_text()
    assert "Accident minier" in changed and "fr" in changed
    shot(tab, size, "3a-diff")

    # The simulator runs the published version: dial, choose "report", see the new label.
    tab.goto(base + "/menus/incident/2/simulate?channel=ussd&lang=fr")
    with tab.expect_navigation():
        tab.click(".keypad button[value=dial]")
    tab.fill(".keypad input[name=text]", "1")
    with tab.expect_navigation():
        tab.click(".keypad button[value=send]")
    screen_text = tab.locator("[data-testid=ussd-screen]").inner_text()
    assert "1 Accident minier" in screen_text
    assert re.search(r"USSD \d+/160", tab.locator(".measure").inner_text())
    shot(tab, size, "4-simulator")

    # The session begun before the publish finishes on version 1: the old label.
    screen = before.hop("9")  # not a choice: the same menu again
    assert "Accident minier" not in screen and "1 Accident\n" in screen
    # A session begun now gets version 2 (every process follows within about a second).
    deadline = time.monotonic() + 15
    while True:
        after = Phone(base, f"ATUid_after_{time.monotonic_ns()}", "+243812345679")
        after.hop()
        after.hop("2")
        screen = after.hop("1")
        if "Accident minier" in screen or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "1 Accident minier" in screen

    # The SMS thread of the same simulator, and the audit trail of what was done.
    tab.goto(base + "/menus/incident/2/simulate?channel=sms&lang=fr")
    tab.fill(".keypad input[name=text]", "ALERTE 1")
    with tab.expect_navigation():
        tab.click(".keypad button[value=send]")
    assert "Accident minier" in tab.locator("[data-testid=sms-thread]").inner_text()
    shot(tab, size, "5-sms")
    tab.goto(base + "/menus/audit")
    audit = tab.locator("table.audit").inner_text()
    assert "publication" in audit and "Neema" in audit
    shot(tab, size, "6-audit")
