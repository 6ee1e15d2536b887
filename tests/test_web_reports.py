"""The inbox and the report page, story by story: filter, open, correct, verify, follow up,
forward, merge, message the reporter, bulk changes; with what each leaves in the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from services import EXTENSION_KEY, Services
from storage.models import Organisation, OutboxMessage, Report, ReportChange, ReportEvent
from web import signals

from .conftest import Backend
from .trees_support import TREE, option, publish_document
from .trees_support import changed as changed_tree
from .web_support import People, csrf_token, login, make_report, post_form, web_app

REFERENCE_LINK = re.compile(r'href="/reports/(\d{7})"')


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    app = web_app(backend, tmp_path, page_size=3)
    yield app
    app.extensions[EXTENSION_KEY].close()


@pytest.fixture
def people(services: Services) -> People:
    return People(services)


@pytest.fixture
def orgs(people: People) -> dict[str, Organisation]:
    return {
        "network": people.org("Network"),
        "bukavu": people.org("CSO Bukavu", provinces=["CD-SK"]),
        "goma": people.org("CSO Goma", provinces=["CD-NK"]),
    }


@pytest.fixture
def analyst(client: FlaskClient, people: People, orgs: dict[str, Organisation]) -> FlaskClient:
    people.user("ana@example.org", orgs["bukavu"], "analyst", name="Ana")
    login(client, "ana@example.org")
    return client


def listed(client: FlaskClient, url: str) -> list[str]:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return REFERENCE_LINK.findall(page.get_data(as_text=True))


def page_of(client: FlaskClient, report: Report) -> str:
    page = client.get(f"/reports/{report.reference}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def act(client: FlaskClient, report: Report, action: str, data: dict[str, Any]) -> Any:
    return post_form(
        client, f"/reports/{report.reference}", f"/reports/{report.reference}/{action}", data
    )


def stored(services: Services, report: Report) -> Report:
    with services.db.session() as session:
        found = session.get(Report, report.id)
        assert found is not None
        return found


def test_the_inbox_filters_by_what_the_url_says(analyst: FlaskClient, services: Services) -> None:
    collapse = make_report(services, details="The pit collapsed at night")
    child = make_report(
        services,
        category="labour",
        subcategory="labour.child_under_15",
        province="CD-NK",
        territory="CD6105",
        site="Rubaya",
        details="Children dig",
        channel="sms",
        language="sw",
    )
    tax = make_report(
        services, category="taxation", subcategory="taxation.roadblock", site=None, details=None
    )
    assert set(listed(analyst, "/reports?page_size=50")) >= {collapse.reference}
    assert listed(analyst, "/reports?category=labour") == [child.reference]
    assert listed(analyst, "/reports?subcategory=taxation.roadblock") == [tax.reference]
    assert listed(analyst, "/reports?province=CD-NK") == [child.reference]
    assert listed(analyst, "/reports?territory=CD6105") == [child.reference]
    assert listed(analyst, "/reports?site=ruba") == [child.reference]
    assert listed(analyst, "/reports?channel=sms&language=sw") == [child.reference]
    assert listed(analyst, "/reports?q=PIT+night") == [collapse.reference]
    assert listed(analyst, "/reports?q=pit+day") == []
    assert listed(analyst, "/reports?q=100%25") == []  # LIKE wildcards are searched literally
    assert set(listed(analyst, "/reports?status=new&verification=unverified")) == {
        collapse.reference,
        child.reference,
        tax.reference,
    }
    assert listed(analyst, "/reports?status=resolved") == []
    assert 'class="error"' not in analyst.get("/reports").get_data(as_text=True)
    wrong = analyst.get("/reports?status=nonsense&category=accident").get_data(as_text=True)
    assert wrong.count('class="error"') == 1  # the unknown status is named, the rest applies
    assert listed(analyst, "/reports?received_from=2026-11-24&received_to=2026-11-24") != []
    assert listed(analyst, "/reports?received_from=2026-11-25") == []
    assert listed(analyst, "/reports?occurred_from=2026-11-25") == []
    # Three filters combined, and a bad value ignored (and shown as such) rather than a crash.
    assert listed(analyst, "/reports?category=labour&province=CD-NK&status=new&occurred_to=x") == [
        child.reference
    ]


def test_the_inbox_pages_by_keyset_and_counts(analyst: FlaskClient, services: Services) -> None:
    made = [make_report(services).reference for _ in range(7)]
    seen: list[str] = []
    url: str | None = "/reports"
    while url:
        page = analyst.get(url).get_data(as_text=True)
        seen += REFERENCE_LINK.findall(page)
        assert "7 reports match." in page
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(made) and len(seen) == 7  # each once, none lost
    # The same reports oldest first, and sorted by date of the incident.
    oldest = listed(analyst, "/reports?sort=received_asc")
    assert oldest == sorted(made, key=made.index)[:3]
    assert len(listed(analyst, "/reports?sort=occurred_desc")) == 3


def test_correct_a_report_keeps_the_original_and_the_audit_trail(
    analyst: FlaskClient, services: Services
) -> None:
    report = make_report(services, site="Kamitugga", details="A pit collapsed")
    response = act(
        analyst,
        report,
        "correct",
        {
            "category": "accident",
            "subcategory": "accident.injury_death",
            "province_iso": "CD-SK",
            "territory_pcode": "CD6201",
            "site": "Kamituga",
            "occurred_on": "2026-11-20",
            "details": "A pit collapsed",
            "reason": "Confirmed by phone with the site's cooperative",
        },
    )
    assert response.status_code == 302
    now = stored(services, report)
    assert (now.subcategory, now.site, now.occurred_on) == (
        "accident.injury_death",
        "Kamituga",
        date(2026, 11, 20),
    )
    with services.db.session() as session:
        changes = session.scalars(select(ReportChange).order_by(ReportChange.field)).all()
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("occurred_on", "2026-11-24", "2026-11-20"),
        ("site", "Kamitugga", "Kamituga"),
        ("subcategory", "accident.collapse", "accident.injury_death"),
    ]
    assert {c.reason for c in changes} == {"Confirmed by phone with the site's cooperative"}
    page = page_of(analyst, report)
    assert "Kamitugga" in page and "Kamituga" in page  # as received, and now
    assert "Confirmed by phone" in page and "Ana" in page


def test_a_correction_without_a_reason_changes_nothing(
    analyst: FlaskClient, services: Services
) -> None:
    report = make_report(services, site="Kamitugga")
    response = act(analyst, report, "correct", {"site": "Kamituga", "reason": ""})
    assert response.status_code == 400
    assert stored(services, report).site == "Kamitugga"
    with services.db.session() as session:
        assert session.scalar(select(func.count(ReportChange.id))) == 0


def test_verify_follow_up_and_record_actions(analyst: FlaskClient, services: Services) -> None:
    report = make_report(services)
    assert (
        act(
            analyst, report, "verify", {"verification": "verified", "note": "Two witnesses"}
        ).status_code
        == 302
    )
    assert act(analyst, report, "status", {"status": "monitoring", "note": ""}).status_code == 302
    action = {
        "action_type": "referral",
        "action_date": "2026-11-23",
        "notes": "Sent to the health zone",
    }
    assert act(analyst, report, "actions", action).status_code == 302
    assert act(analyst, report, "status", {"status": "resolved"}).status_code == 302
    now = stored(services, report)
    assert (now.verification, now.status) == ("verified", "resolved")
    page = page_of(analyst, report)
    for text in ("Two witnesses", "Sent to the health zone", "Referral", "Resolved"):
        assert text in page
    with services.db.session() as session:
        kinds = session.scalars(select(ReportEvent.kind).order_by(ReportEvent.id)).all()
    assert kinds == ["verified", "status", "action", "status"]


def test_a_status_that_cannot_follow_is_refused(analyst: FlaskClient, services: Services) -> None:
    report = make_report(services)
    assert (
        act(analyst, report, "status", {"status": "resolved"}).status_code == 400
    )  # new -> resolved
    closing = {"status": "closed", "close_reason": ""}
    assert act(analyst, report, "status", closing).status_code == 400  # closing needs a reason
    closing["close_reason"] = "out_of_scope"
    assert act(analyst, report, "status", closing).status_code == 302
    now = stored(services, report)
    assert (now.status, now.closed_reason) == ("closed", "out_of_scope")


def test_forward_puts_it_in_their_queue_and_signals_after_the_commit(
    analyst: FlaskClient, services: Services, orgs: dict[str, Organisation], people: People
) -> None:
    report = make_report(services)
    received: list[dict[str, Any]] = []

    def receiver(sender: Flask, **kwargs: Any) -> None:
        with services.db.session() as session:  # committed: another session sees it
            found = session.get(Report, kwargs["report_id"])
            assert found is not None and found.assigned_org_id == kwargs["to_organisation_id"]
        received.append(kwargs)

    with signals.report_forwarded.connected_to(receiver):
        response = act(
            analyst, report, "forward", {"organisation": orgs["goma"].id, "message": "Yours"}
        )
        assert response.status_code == 302
        act(analyst, report, "forward", {"organisation": orgs["bukavu"].id, "message": "Back"})
    assert [r["to_organisation_id"] for r in received] == [orgs["goma"].id, orgs["bukavu"].id]
    assert received[1]["from_organisation_id"] == orgs["goma"].id
    page = page_of(analyst, report)
    assert "Forwarded to CSO Goma" in page and "Forwarded from CSO Goma to CSO Bukavu" in page
    people.user("gil@example.org", orgs["goma"], "viewer")
    other = analyst.application.test_client()
    login(other, "gil@example.org")
    assert listed(other, f"/reports?assigned={orgs['bukavu'].id}") == [report.reference]


def test_merge_duplicates_shows_the_group_once(analyst: FlaskClient, services: Services) -> None:
    original = make_report(services)
    again = make_report(services)
    third = make_report(services)
    assert act(analyst, again, "merge", {"original": original.reference}).status_code == 302
    assert act(analyst, third, "merge", {"original": again.reference}).status_code == 302  # -> head
    listing = analyst.get("/reports").get_data(as_text=True)
    assert REFERENCE_LINK.findall(listing) == [original.reference]
    assert "+2 duplicates" in listing
    for report in (again, third):
        now = stored(services, report)
        assert (now.duplicate_of_id, now.status, now.closed_reason) == (
            original.id,
            "closed",
            "duplicate",
        )
        assert page_of(analyst, report).count(original.reference) >= 1  # still its own page
    assert act(analyst, original, "merge", {"original": original.reference}).status_code == 400
    assert act(analyst, original, "merge", {"original": "1234567"}).status_code == 400


def test_message_the_reporter_without_anyone_seeing_the_number(
    client: FlaskClient, services: Services, people: People, orgs: dict[str, Organisation]
) -> None:
    report = make_report(services, phone="+243812345678")
    people.user("coord@example.org", orgs["network"], "coordinator")
    login(client, "coord@example.org")
    page = client.get(f"/reports/{report.reference}").get_data(as_text=True)
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]{32})"', page)
    assert nonce
    data = {
        "text": "Merci, votre rapport est suivi.",
        "nonce": nonce.group(1),
        "csrf_token": csrf_token(client.get(f"/reports/{report.reference}")),
    }
    assert client.post(f"/reports/{report.reference}/message", data=data).status_code == 302
    assert (
        client.post(f"/reports/{report.reference}/message", data=data).status_code == 302
    )  # again
    with services.db.session() as session:
        (row,) = session.scalars(select(OutboxMessage)).all()  # one SMS for the two posts
    assert (row.phone_hash, row.phone_encrypted) == (
        report.reporter_hash,
        report.reporter_encrypted,
    )
    assert services.vault.decrypt(row.phone_encrypted) == "+243812345678"  # the job can send it
    assert row.text == "Merci, votre rapport est suivi."
    page = page_of(client, report)
    assert "SMS sent to the reporter" in page
    for secret in ("812345678", report.reporter_hash, report.reporter_encrypted):
        assert secret not in page


def test_bulk_forward_and_status_change(
    analyst: FlaskClient, services: Services, orgs: dict[str, Organisation]
) -> None:
    first, second = make_report(services), make_report(services)
    inbox = analyst.get("/reports")
    token = csrf_token(inbox)
    response = analyst.post(
        "/reports/bulk",
        data={
            "csrf_token": token,
            "ids": [first.id, second.id],
            "operation": "forward",
            "organisation": orgs["goma"].id,
            "status": "new",
            "back": "/reports?status=new",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/reports?status=new"
    response = analyst.post(
        "/reports/bulk",
        data={
            "csrf_token": token,
            "ids": [first.id],
            "operation": "status",
            "status": "monitoring",
            "organisation": orgs["goma"].id,
            "back": "https://evil.example/",
        },
    )
    assert response.headers["Location"] == "/reports"
    assert (
        stored(services, first).assigned_org_id
        == stored(services, second).assigned_org_id
        == orgs["goma"].id
    )
    assert (stored(services, first).status, stored(services, second).status) == (
        "monitoring",
        "new",
    )
    # A status that cannot follow is skipped, not forced.
    analyst.post(
        "/reports/bulk",
        data={
            "csrf_token": token,
            "ids": [second.id],
            "operation": "status",
            "status": "resolved",
            "organisation": orgs["goma"].id,
        },
    )
    assert stored(services, second).status == "new"


def test_an_unknown_reference_is_a_404_page(analyst: FlaskClient) -> None:
    response = analyst.get("/reports/0000000")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


def walk(client: FlaskClient, url: str) -> list[str]:
    """Every reference of every page, following the "next" links."""
    seen: list[str] = []
    next_url: str | None = url
    while next_url:
        page = client.get(next_url).get_data(as_text=True)
        seen += REFERENCE_LINK.findall(page)
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        next_url = found.group(1).replace("&amp;", "&") if found else None
    return seen


def test_sorting_by_incident_date_pages_through_dated_then_undated(
    analyst: FlaskClient, services: Services
) -> None:
    made = {
        when: [make_report(services, when=when).reference for _ in range(2)]
        for when in ("today", "yesterday", "this_week", "")
    }
    newest = walk(analyst, "/reports?sort=occurred_desc")
    assert newest[:2] == sorted(made["today"], key=made["today"].index, reverse=True)
    assert set(newest[2:4]) == set(made["yesterday"])
    assert set(newest[4:6]) == set(made["this_week"])  # from 2026-11-18
    assert set(newest[6:]) == set(made[""]) and len(newest) == 8  # undated last, each once
    oldest = walk(analyst, "/reports?sort=occurred_asc")
    assert set(oldest[:2]) == set(made["this_week"]) and set(oldest[6:]) == set(made[""])
    assert len(oldest) == 8
    # The incident-date filter finds a week-long report by any day in its week.
    assert set(listed(analyst, "/reports?occurred_from=2026-11-20&occurred_to=2026-11-20")) == set(
        made["this_week"]
    )


def test_a_retired_code_keeps_its_name_on_the_report_page_and_in_the_filter(
    analyst: FlaskClient, services: Services
) -> None:
    """Retiring "pit collapse" hides it from the menus only: an old report still reads
    "Pit collapse", not its raw code, and the inbox can still be filtered by it."""
    report = make_report(services, subcategory="accident.collapse")

    def retire_collapse(document: dict[str, object]) -> None:
        option(document, "sub_accident", "accident.collapse")["retired"] = True

    assert publish_document(services, changed_tree(retire_collapse)) == 2
    assert services.trees.current(TREE).version == 2

    page = page_of(analyst, report)
    assert "Pit collapse" in page
    inbox = analyst.get("/reports").get_data(as_text=True)
    assert re.search(r'<option value="accident\.collapse"[^>]*>[^<]*Pit collapse</option>', inbox)
