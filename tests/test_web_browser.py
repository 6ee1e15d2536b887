"""A person's stories in a real browser: Debian's chromium driven by Playwright, on a phone-sized
screen too. Under CI=true a missing chromium fails the run (``.ci/run`` installs it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from services import EXTENSION_KEY, Services
from storage.models import Organisation

from .conftest import Backend
from .live_server import serving
from .web_support import PASSWORD, People, make_report, web_app

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}
MAX_PAGE_BYTES = 150 * 1024


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    app = web_app(backend, tmp_path)
    yield app
    app.extensions[EXTENSION_KEY].close()


@pytest.fixture
def network(services: Services) -> dict[str, Organisation]:
    people = People(services)
    orgs = {
        "network": people.org("Coordination du réseau"),
        "bukavu": people.org("CENADEP Bukavu", provinces=["CD-SK"]),
        "goma": people.org("CSO Goma", provinces=["CD-NK"]),
    }
    people.user("amani@example.org", orgs["bukavu"], "analyst", name="Amani")
    return orgs


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser: Any, app: Flask) -> Iterator[tuple[Any, str]]:
    """A tab on the app served over HTTP, in French, at a desktop's or a phone's size."""
    context = browser.new_context(viewport=VIEWPORTS[request.param], locale="fr-FR")
    tab = context.new_page()
    with serving(app) as base:
        try:
            yield tab, base
        finally:
            context.close()


@contextmanager
def screenshot_on_failure(tab: Any, request: pytest.FixtureRequest) -> Iterator[None]:
    """Keep what the browser showed when a step failed, in test-screenshots/."""
    try:
        yield
    except BaseException:
        SCREENSHOTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        raise


def log_in(tab: Any, base: str, email: str = "amani@example.org") -> None:
    tab.goto(base + "/reports")
    assert "/login" in tab.url
    tab.fill("input[name=email]", email)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("main form button[type=submit]")
    tab.wait_for_url(re.compile(r".*/reports$"))


def submit(tab: Any, section: str) -> None:
    with tab.expect_navigation():
        tab.click(f"{section} button[type=submit]")


def test_log_in_filter_open_correct_forward_resolve_and_read_the_timeline(
    page: tuple[Any, str],
    services: Services,
    network: dict[str, Organisation],
    request: pytest.FixtureRequest,
) -> None:
    tab, base = page
    with screenshot_on_failure(tab, request):
        story(tab, base, services)


def keep(tab: Any, name: str) -> None:
    """A full-page screenshot in test-screenshots/, named by the page and the screen's size, for a
    person to look at (the assertions cannot tell whether a page looks right)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    size = "phone" if tab.viewport_size["width"] < 500 else "desktop"
    tab.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True)


def story(tab: Any, base: str, services: Services) -> None:
    make_report(services, category="taxation", subcategory="taxation.roadblock", details="Barrière")
    report = make_report(
        services, site="Kamitugga <b>", details="Un puits s'est effondré <script>x</script>"
    )
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    log_in(tab, base)
    assert tab.locator("h1").inner_text() == "Rapports"  # the browser's language: French
    tab.click("details summary")  # "Filtrer et trier"
    tab.select_option("#filters select[name=category]", "accident")
    submit(tab, "#filters")
    assert "category=accident" in tab.url  # the filter lives in the URL
    links = tab.locator("table.inbox tbody a")
    assert links.count() == 1
    keep(tab, "inbox")
    links.first.click()
    tab.wait_for_url(f"**/reports/{report.reference}")
    assert "Kamitugga <b>" in tab.locator("table.compare").inner_text()  # shown inert, as typed

    tab.click("#correct summary")
    tab.fill("#correct input[name=site]", "Kamituga")
    tab.fill("#correct textarea[name=reason]", "Nom du site vérifié avec la coopérative")
    submit(tab, "#correct")
    compare = tab.locator("table.compare").inner_text()
    assert "Kamitugga" in compare and "Kamituga" in compare  # as received, and now

    tab.select_option("#forward select[name=organisation]", label="CSO Goma")
    tab.fill("#forward textarea[name=message]", "Dans votre zone, merci de suivre.")
    submit(tab, "#forward")
    tab.select_option("#status select[name=status]", "monitoring")
    submit(tab, "#status")
    tab.select_option("#status select[name=status]", "resolved")
    tab.fill("#status textarea[name=note]", "La route est rouverte.")
    submit(tab, "#status")

    timeline = tab.locator("#timeline").inner_text()
    for expected in (
        "Reçu par USSD",
        "Corrigé",
        "Nom du site vérifié avec la coopérative",
        "Transféré à CSO Goma",
        "En suivi",
        "Résolu",
        "La route est rouverte.",
        "Amani",
    ):
        assert expected in timeline, expected
    assert tab.locator(".badge.resolved").count() == 1
    keep(tab, "report")
    assert errors == []  # no script error, no CSP violation


def weigh(browser: Any, state: Any, url: str) -> int:
    """Bytes of the page and of everything it loads, in a fresh context (an empty cache)."""
    context = browser.new_context(storage_state=state, viewport=VIEWPORTS["phone"])
    tab = context.new_page()
    sizes: list[int] = []
    tab.on("requestfinished", lambda request: sizes.append(request.sizes()["responseBodySize"]))
    try:
        tab.goto(url, wait_until="networkidle")
    finally:
        context.close()
    return sum(sizes)


def test_every_page_weighs_less_than_150_kb(
    browser: Any, app: Flask, services: Services, network: dict[str, Organisation]
) -> None:
    for _ in range(60):  # more than a page of reports
        make_report(services, details="Un puits s'est effondré, trois blessés. " * 5)
    report = make_report(services)
    People(services).user("coord@example.org", network["network"], "coordinator")
    context = browser.new_context(locale="fr-FR")
    tab = context.new_page()
    with serving(app) as base:
        log_in(tab, base, "coord@example.org")
        state = context.storage_state()
        context.close()
        weights = {"/login": weigh(browser, None, base + "/login")}
        weights |= {
            path: weigh(browser, state, base + path)
            for path in (
                "/reports",
                "/reports?category=accident&province=CD-SK&status=new",
                "/dashboard",
                "/dashboard?province=CD-SK&status=new",
                f"/reports/{report.reference}",
                "/admin/organisations",
                f"/admin/organisations/{network['bukavu'].id}",
                f"/admin/organisations/{network['bukavu'].id}/users",
                "/account",
            )
        }
    print("\npage weights (bytes, with everything loaded):")
    for path, size in weights.items():
        print(f"  {size:>8}  {path}")
    for path, size in weights.items():
        assert 1000 < size < MAX_PAGE_BYTES, (path, size)


def test_the_dashboard_draws_its_charts(
    page: tuple[Any, str],
    services: Services,
    network: dict[str, Organisation],
    request: pytest.FixtureRequest,
) -> None:
    tab, base = page
    for province, territory in (("CD-SK", "CD6201"), ("CD-SK", "CD6206"), ("CD-NK", "CD6105")):
        make_report(services, province=province, territory=territory)
    make_report(services, category="labour", subcategory="labour.child_under_15", channel="sms")
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    with screenshot_on_failure(tab, request):
        log_in(tab, base)
        tab.click("header nav a[href='/dashboard']")
        tab.wait_for_url(re.compile(r".*/dashboard$"))
        assert tab.locator("h1").inner_text() == "Tableau de bord"
        assert tab.locator(".charts svg").count() == 9
        viewport = tab.viewport_size
        for chart in tab.locator(".charts svg").all():
            box = chart.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 20
            assert box["x"] + box["width"] <= viewport["width"] + 1  # never wider than the screen
        bars = tab.locator("#categories rect.bar")
        assert bars.count() == 2
        widths = sorted(bar.bounding_box()["width"] for bar in bars.all())
        assert widths[1] > widths[0] * 2  # 3 accidents against 1
        keep(tab, "dashboard")
        assert tab.locator("#total strong").inner_text().startswith("4 ")
        # A report arriving meanwhile is on the next view (counts kept at every write).
        make_report(services, province="CD-NK", territory="CD6105")
        tab.reload()
        assert tab.locator("#total strong").inner_text().startswith("5 ")
        widths = sorted(bar.bounding_box()["width"] for bar in bars.all())
        assert widths[1] > widths[0] * 3  # 4 accidents against 1
        # A bar is a way into the inbox: the reports it counts, the dashboard's filter kept.
        with tab.expect_navigation():
            tab.locator("#categories a rect").first.click()
        assert "category=accident" in tab.url
        assert tab.locator("table.inbox tbody tr").count() == 4
    assert errors == []  # no script error, no CSP violation (charts use no inline style)
