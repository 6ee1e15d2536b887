"""What reporters and staff typed is shown inert everywhere; the audit trail cannot be rewritten."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from services import EXTENSION_KEY, Services
from storage import operations
from storage.models import Report, ReportChange, ReportEvent

from .conftest import Backend
from .web_support import People, login, make_report, post_form, web_app

SCRIPT = "<script>alert('x')</script>"
HTML = '<img src=x onerror="alert(1)"><b>bold</b>'


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    app = web_app(backend, tmp_path)
    yield app
    app.extensions[EXTENSION_KEY].close()


@pytest.fixture
def coordinator(client: FlaskClient, services: Services) -> FlaskClient:
    people = People(services)
    network = people.org(f"Network {SCRIPT}")
    people.org(f"Partner {HTML}")
    people.user("coord@example.org", network, "coordinator", name=f"Coord {SCRIPT}")
    login(client, "coord@example.org")
    return client


def assert_inert(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(" in html or "&lt;img" in html


def test_reporter_and_staff_text_is_shown_inert_on_every_page(
    coordinator: FlaskClient, services: Services
) -> None:
    report = make_report(services, site=f"{SCRIPT} Kamituga", details=f"{HTML} {SCRIPT}")
    head = make_report(services, site=SCRIPT, details=HTML)
    url = f"/reports/{report.reference}"
    organisations = coordinator.get("/admin/organisations").get_data(as_text=True)
    partner_id = int(organisations.split("/admin/organisations/")[2].split('"')[0])
    steps: list[tuple[str, dict[str, Any]]] = [
        ("correct", {"site": f"{SCRIPT} corrected", "reason": f"reason {HTML}"}),
        ("verify", {"verification": "verified", "note": f"note {SCRIPT}"}),
        ("status", {"status": "monitoring", "note": f"status {HTML}"}),
        ("actions", {"action_type": "other", "action_date": "2026-11-24", "notes": SCRIPT}),
        ("forward", {"organisation": partner_id, "message": f"message {SCRIPT}"}),
        ("message", {"text": f"sms {SCRIPT}", "nonce": "b" * 32}),
        ("merge", {"original": head.reference, "note": f"merge {HTML}"}),
    ]
    for action, data in steps:
        assert post_form(coordinator, url, f"{url}/{action}", data).status_code == 302, action
    pages = [
        "/reports",
        f"/reports?site={SCRIPT}",
        f"/reports?q={HTML}",
        url,
        f"/reports/{head.reference}",
        "/admin/organisations",
        f"/admin/organisations/{partner_id}",
        f"/admin/organisations/{partner_id}/users",
        f"/admin/users/{partner_user_id(coordinator, partner_id)}",
        "/account",
        "/account/notifications",
        "/dashboard",
        f"/dashboard?site={SCRIPT}&q={HTML}",
        "/reports/no-such-reference",  # the error page repeats nothing typed, but try it
    ]
    for page in pages:
        response = coordinator.get(page)
        assert response.status_code == (404 if "no-such" in page else 200), page
        html = response.get_data(as_text=True)
        if "no-such" not in page:
            assert_inert(html)
        assert "<script>alert" not in html and "<img src=x" not in html


def partner_user_id(coordinator: FlaskClient, partner_id: int) -> int:
    """A member of the partner organisation, named with markup, created through the page."""
    url = f"/admin/organisations/{partner_id}/users"
    data = {"email": "p@example.org", "name": f"Partner {SCRIPT}", "role": "analyst"}
    assert post_form(coordinator, url, url, {**data, "language": ""}).status_code == 200
    members = coordinator.get(url).get_data(as_text=True)
    return int(members.split('href="/admin/users/', 1)[1].split('"', 1)[0])


# Every answer of the platform carries the security headers: pages, errors, refusals, files, the
# API, the stylesheet, whether logged in or not.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# Inside a tag (escaped text has no "<"): a script without src, a style attribute or element, an
# event handler attribute. The CSP would block each; the pages should not need it to.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style|<[a-z][^<>]*\s(?:style|on[a-z]+)=", re.IGNORECASE
)


def assert_secured(response: Any, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ") if d}
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("default-src") == ["'none'"], where
    assert directives.get("script-src") == ["'self'"], where  # no 'unsafe-inline', no nonce
    assert directives.get("style-src") == ["'self'"], where
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (where, name)


def test_every_page_and_answer_carries_the_security_headers(
    app: Flask, coordinator: FlaskClient, services: Services
) -> None:
    report = make_report(services, site=SCRIPT, details=HTML)
    partner = coordinator.get("/admin/organisations").get_data(as_text=True)
    partner_id = int(partner.split("/admin/organisations/")[2].split('"')[0])
    member_id = partner_user_id(coordinator, partner_id)
    values = {
        "reference": report.reference,
        "organisation_id": partner_id,
        "user_id": member_id,
        "fmt": "csv",
        "filename": "app.css",
    }
    anonymous = app.test_client()
    visited = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint.startswith(
            ("gateways.", "ops_", "health")
        ):
            continue
        if not set(rule.arguments) <= set(values):
            continue  # a page of another part whose arguments this test cannot name
        path = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)
        assert path is not None
        url = path[1]
        for who, client in (("coordinator", coordinator), ("anonymous", anonymous)):
            response = client.get(url)
            body = response.get_data(as_text=True)
            response.close()  # files and exports are streamed
            assert_secured(response, f"{who} {url} {response.status_code}")
            if response.mimetype == "text/html":
                assert not INLINE.findall(body), (who, url)
            visited += 1
    assert visited >= 30
    # Refusals and errors too: a form without its token, a page that does not exist, a method
    # that is not allowed, a token the API does not know.
    for response, where in (
        (coordinator.post(f"/reports/{report.reference}/status", data={}), "no CSRF"),
        (coordinator.get("/reports/0000000"), "not found"),
        (coordinator.put("/reports"), "method"),
        (anonymous.get("/api/v1/reports", headers={"Authorization": "Bearer x"}), "api 401"),
    ):
        assert response.status_code in (400, 401, 404, 405), where
        assert_secured(response, where)


def test_every_correction_writes_its_audit_rows_in_the_same_transaction(
    services: Services,
) -> None:
    people = People(services)
    user = people.user("a@example.org", people.org("Org"), "analyst")
    report = make_report(services, site="Before")
    author = operations.Author(user.id, user.organisation_id)
    with pytest.raises(RuntimeError), services.db.transaction() as session:
        found = session.get(Report, report.id)
        assert found is not None
        operations.correct_report(
            session, found, author, values={"site": "After"}, reason="r", now=services.clock.now()
        )
        raise RuntimeError("the request fails after the operation")
    with services.db.session() as session:
        assert session.get(Report, report.id).site == "Before"  # type: ignore[union-attr]
        assert session.scalars(select(ReportChange)).all() == []
    with services.db.transaction() as session:
        found = session.get(Report, report.id)
        assert found is not None
        operations.correct_report(
            session,
            found,
            author,
            values={"site": "After", "details": "A pit collapsed"},  # details unchanged
            reason="r",
            now=services.clock.now(),
        )
    with services.db.session() as session:
        rows = session.scalars(select(ReportChange)).all()
    assert [(r.field, r.before, r.after, r.user_id) for r in rows] == [
        ("site", "Before", "After", user.id)
    ]


def test_the_audit_trail_cannot_be_changed_through_the_orm_or_the_database(
    services: Services,
) -> None:
    people = People(services)
    user = people.user("a@example.org", people.org("Org"), "analyst")
    report = make_report(services, site="Before")
    with services.db.transaction() as session:
        found = session.get(Report, report.id)
        assert found is not None
        operations.correct_report(
            session,
            found,
            operations.Author(user.id, user.organisation_id),
            values={"site": "After"},
            reason="typo",
            now=services.clock.now(),
        )
    # Through the ORM: refused before any SQL is sent.
    with services.db.session() as session:
        change = session.scalars(select(ReportChange)).one()
        change.after = "Rewritten"
        with pytest.raises(operations.FollowUpError):
            session.flush()
        session.rollback()
        session.delete(session.scalars(select(ReportEvent)).one())
        with pytest.raises(operations.FollowUpError):
            session.flush()
    # Through SQL: the database's triggers refuse.
    for statement in (
        update(ReportChange).values(after="Rewritten"),
        delete(ReportChange),
        update(ReportEvent).values(note="Rewritten"),
        delete(ReportEvent),
    ):
        with pytest.raises(DatabaseError), services.db.transaction() as session:
            session.execute(statement)
    with services.db.session() as session:
        assert session.scalars(select(ReportChange.after)).all() == ["After"]
        assert session.scalar(text("SELECT count(*) FROM report_events")) == 1


def test_no_code_path_updates_or_deletes_history() -> None:
    """The guard and the triggers are the net; this is the rule they back up."""
    project = Path(__file__).resolve().parent.parent
    offenders = []
    for package in ("storage", "web", "commands", "outbox", "channels"):
        for path in (project / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            source = path.read_text(encoding="utf-8")
            for verb in ("update", "delete"):
                for model in ("ReportChange", "ReportEvent"):
                    if f"{verb}({model}" in source:
                        offenders.append(f"{path.relative_to(project)}: {verb}({model}")
    assert offenders == []


def test_the_platform_has_no_route_that_edits_or_deletes(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("reports", "admin", "auth"):
            assert not (rule.methods or set()) & {"PUT", "PATCH", "DELETE"}, rule
