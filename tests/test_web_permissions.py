"""Who may do what, as a matrix: each role x each action, allowed and refused, through HTTP (the
server decides, whatever the page offered), under pooled and restricted visibility."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from services import EXTENSION_KEY, Services
from storage import operations
from storage.models import Organisation, Report, ReportEvent
from web import passwords

from .conftest import Backend
from .web_support import People, csrf_token, login, make_report, web_app

ROLES = ("coordinator", "org_admin", "analyst", "viewer")
WORKERS = {"coordinator", "org_admin", "analyst"}


def data_for(action: str, orgs: dict[str, Organisation], original: Report) -> dict[str, Any]:
    forms: dict[str, dict[str, Any]] = {
        "correct": {"site": "Corrected site", "reason": "checked"},
        "verify": {"verification": "verified"},
        "status": {"status": "monitoring"},
        "actions": {"action_type": "dialogue", "action_date": "2026-11-24"},
        "forward": {"organisation": orgs["goma"].id},
        "merge": {"original": original.reference},
        "message": {"text": "Merci", "nonce": "a" * 32},
    }
    return forms[action]


ACTIONS = ("correct", "verify", "status", "actions", "forward", "merge", "message")


def expected(role: str, action: str, assigned_to_own: bool) -> bool:
    if action == "message":
        return role == "coordinator" or (role == "org_admin" and assigned_to_own)
    return role in WORKERS


@pytest.fixture(params=["pooled", "restricted"])
def visibility(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def app(backend: Backend, tmp_path: Path, visibility: str) -> Iterator[Flask]:
    app = web_app(backend, tmp_path, visibility=visibility)
    yield app
    app.extensions[EXTENSION_KEY].close()


@pytest.fixture
def orgs(services: Services) -> dict[str, Organisation]:
    people = People(services)
    found = {
        "network": people.org("Network"),
        "bukavu": people.org("CSO Bukavu", provinces=["CD-SK"], categories=["accident"]),
        "goma": people.org("CSO Goma", provinces=["CD-NK"]),
    }
    people.user("coordinator@example.org", found["network"], "coordinator")
    for role in ("org_admin", "analyst", "viewer"):
        people.user(f"{role}@example.org", found["bukavu"], role)
        people.user(f"goma-{role}@example.org", found["goma"], role)
    return found


def as_user(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def post(client: FlaskClient, report: Report, action: str, data: dict[str, Any]) -> int:
    page = client.get(f"/reports/{report.reference}")
    token = csrf_token(page) if page.status_code == 200 else csrf_token(client.get("/account"))
    response = client.post(
        f"/reports/{report.reference}/{action}", data={**data, "csrf_token": token}
    )
    return response.status_code


def events(services: Services, report: Report) -> int:
    with services.db.session() as session:
        return (
            session.scalar(
                select(func.count(ReportEvent.id)).where(ReportEvent.report_id == report.id)
            )
            or 0
        )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_each_role_and_action_in_the_organisations_own_area(
    app: Flask, services: Services, orgs: dict[str, Organisation], role: str, action: str
) -> None:
    email = "coordinator@example.org" if role == "coordinator" else f"{role}@example.org"
    client = as_user(app, email)
    # Messaging the reporter depends on the assignment too: try it both ways.
    for assigned_to_own in (False, True) if action == "message" else (False,):
        report = make_report(services, province="CD-SK")  # in Bukavu's area and expertise
        original = make_report(services, province="CD-SK")
        if assigned_to_own:
            with services.db.transaction() as session:
                found = session.get(Report, report.id)
                assert found is not None
                found.assigned_org_id = orgs["bukavu"].id
        assert client.get(f"/reports/{report.reference}").status_code == 200  # every role reads
        before = events(services, report)
        status = post(client, report, action, data_for(action, orgs, original))
        if expected(role, action, assigned_to_own):
            assert status == 302, (role, action, assigned_to_own)
            assert events(services, report) > before
        else:
            assert status == 403, (role, action, assigned_to_own)
            assert events(services, report) == before


@pytest.mark.parametrize("role", ROLES)
def test_another_organisations_report_reached_by_url(
    app: Flask, services: Services, orgs: dict[str, Organisation], visibility: str, role: str
) -> None:
    """Restricted: Goma's people reach a Sud-Kivu report only by URL, and get nothing."""
    report = make_report(services, province="CD-SK", territory="CD6201")
    original = make_report(services, province="CD-NK", territory="CD6105")
    email = "coordinator@example.org" if role == "coordinator" else f"goma-{role}@example.org"
    client = as_user(app, email)
    sees = visibility == "pooled" or role == "coordinator"
    assert client.get(f"/reports/{report.reference}").status_code == (200 if sees else 404)
    listing = client.get("/reports").get_data(as_text=True)
    assert (report.reference in listing) == sees
    for action in ACTIONS:
        status = post(client, report, action, data_for(action, orgs, original))
        if not sees:
            assert status == 404, action  # the same answer as for a report that does not exist
    if not sees:
        assert events(services, report) == 0
        assert client.get("/reports?q=pit").status_code == 200


def test_restricted_visibility_includes_what_was_forwarded(
    app: Flask, services: Services, orgs: dict[str, Organisation], visibility: str
) -> None:
    report = make_report(services, province="CD-SK")
    viewer = as_user(app, "goma-viewer@example.org")
    if visibility == "restricted":
        assert viewer.get(f"/reports/{report.reference}").status_code == 404
    coordinator = as_user(app, "coordinator@example.org")
    assert post(coordinator, report, "forward", {"organisation": orgs["goma"].id}) == 302
    assert viewer.get(f"/reports/{report.reference}").status_code == 200
    assert report.reference in viewer.get("/reports").get_data(as_text=True)
    # Forwarded on elsewhere, it stays visible to Goma: they were part of the chain.
    assert post(coordinator, report, "forward", {"organisation": orgs["network"].id}) == 302
    assert viewer.get(f"/reports/{report.reference}").status_code == 200


def test_restricted_visibility_follows_expertise(
    app: Flask, services: Services, orgs: dict[str, Organisation], visibility: str
) -> None:
    in_expertise = make_report(services, province="CD-SK", category="accident")
    outside = make_report(
        services, province="CD-SK", category="taxation", subcategory="taxation.roadblock"
    )
    analyst = as_user(app, "analyst@example.org")  # Bukavu: Sud-Kivu, accidents only
    assert analyst.get(f"/reports/{in_expertise.reference}").status_code == 200
    assert analyst.get(f"/reports/{outside.reference}").status_code == (
        200 if visibility == "pooled" else 404
    )


def test_bulk_changes_only_what_the_actor_may_change(
    app: Flask, services: Services, orgs: dict[str, Organisation], visibility: str
) -> None:
    mine = make_report(services, province="CD-SK")
    theirs = make_report(services, province="CD-NK")
    client = as_user(app, "analyst@example.org")
    token = csrf_token(client.get("/reports"))
    client.post(
        "/reports/bulk",
        data={
            "csrf_token": token,
            "ids": [mine.id, theirs.id],
            "operation": "status",
            "status": "monitoring",
            "organisation": orgs["goma"].id,
        },
    )
    with services.db.session() as session:
        statuses = {r.id: r.status for r in session.scalars(select(Report))}
    assert statuses[mine.id] == "monitoring"
    assert statuses[theirs.id] == ("monitoring" if visibility == "pooled" else "new")
    viewer = as_user(app, "viewer@example.org")
    data = {
        "csrf_token": csrf_token(viewer.get("/reports")),
        "ids": [mine.id],
        "operation": "status",
        "status": "resolved",
        "organisation": orgs["goma"].id,
    }
    assert viewer.post("/reports/bulk", data=data).status_code == 403


ADMIN_PAGES = ("/admin/organisations", "/admin/organisations/new")


@pytest.mark.parametrize("role", ROLES)
def test_administration(
    app: Flask, services: Services, orgs: dict[str, Organisation], role: str
) -> None:
    email = "coordinator@example.org" if role == "coordinator" else f"{role}@example.org"
    client = as_user(app, email)
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == (200 if role == "coordinator" else 403)
    own = f"/admin/organisations/{orgs['bukavu'].id}/users"
    other = f"/admin/organisations/{orgs['goma'].id}/users"
    manages = role in ("coordinator", "org_admin")
    assert client.get(own).status_code == (200 if manages else 403)
    assert client.get(other).status_code == (200 if role == "coordinator" else 403)
    token = csrf_token(client.get("/account"))
    with services.db.session() as session:
        goma_viewer = operations.normalise_email("goma-viewer@example.org")
        from storage import queries

        target = queries.user_by_email(session, goma_viewer)
        own_viewer = queries.user_by_email(session, "viewer@example.org")
        assert target is not None and own_viewer is not None
    response = client.post(f"/admin/users/{target.id}/disable", data={"csrf_token": token})
    assert response.status_code == (302 if role == "coordinator" else 403)
    response = client.post(f"/admin/users/{own_viewer.id}/disable", data={"csrf_token": token})
    assert response.status_code == (302 if manages else 403)
    if role == "org_admin":
        # An org admin never makes a coordinator.
        page = client.get(own)
        created = client.post(
            own,
            data={
                "csrf_token": csrf_token(page),
                "email": "new@example.org",
                "role": "coordinator",
                "name": "",
                "language": "",
            },
        )
        assert created.status_code == 400


# Reading in bulk: the dashboard, the exports and the API --------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_the_dashboard_and_exports_what_it_may(
    app: Flask, services: Services, orgs: dict[str, Organisation], visibility: str, role: str
) -> None:
    theirs = make_report(services, province="CD-NK", territory="CD6105")  # Goma's area
    email = "coordinator@example.org" if role == "coordinator" else f"{role}@example.org"
    client = as_user(app, email)
    sees_goma = visibility == "pooled" or role == "coordinator"
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    drawn = dashboard.get_data(as_text=True).split('<div class="charts">', 1)[1]
    assert ("Lubero" in drawn) == sees_goma
    full = client.get("/reports/export.csv")
    if role in WORKERS:
        assert full.status_code == 200
        assert (theirs.reference in full.get_data(as_text=True)) == sees_goma
    else:
        assert full.status_code == 403
    assert client.get("/reports/export.jsonl?public=1").status_code == 200


def test_the_api_reads_as_the_tokens_organisation(
    app: Flask, services: Services, orgs: dict[str, Organisation], visibility: str
) -> None:
    """A token carries no role: it reads what its organisation sees, and never writes."""
    theirs = make_report(services, province="CD-NK", territory="CD6105")
    token, token_hash, prefix = passwords.new_api_token()
    with services.db.transaction() as session:
        operations.create_api_token(
            session,
            organisation=orgs["bukavu"],
            token_hash=token_hash,
            prefix=prefix,
            now=services.clock.now(),
        )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/reports", headers=headers)
    assert listed.status_code == 200
    references = [item["reference"] for item in listed.get_json()["items"]]
    assert (theirs.reference in references) == (visibility == "pooled")
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/api/v1/reports", headers=headers).status_code == 405
    assert client.get("/api/v1/reports").status_code == 401
    # The token is no login: the platform's pages and actions stay closed to it.
    assert client.get(f"/reports/{theirs.reference}", headers=headers).status_code == 302
    assert client.get("/dashboard", headers=headers).status_code == 302
