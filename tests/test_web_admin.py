"""The coordinator sets up organisations and users from the browser; an org admin runs their own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from services import EXTENSION_KEY, Services
from storage.models import Organisation, User

from .conftest import Backend
from .web_support import People, csrf_token, login, post_form, web_app

SHOWN_PASSWORD = re.compile(r'<code class="secret">([^<]+)</code>')


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    app = web_app(backend, tmp_path)
    yield app
    app.extensions[EXTENSION_KEY].close()


@pytest.fixture
def coordinator(client: FlaskClient, services: Services) -> FlaskClient:
    people = People(services)
    people.user("coord@example.org", people.org("Network"), "coordinator")
    login(client, "coord@example.org")
    return client


def test_create_an_organisation_and_its_first_admin(
    coordinator: FlaskClient, services: Services, app: Flask
) -> None:
    response = post_form(
        coordinator,
        "/admin/organisations/new",
        "/admin/organisations/new",
        {
            "name": "CSO Goma",
            "provinces": ["CD-NK"],
            "territories": ["CD6105"],
            "categories": ["labour"],
            "active": "y",
        },
    )
    assert response.status_code == 302
    with services.db.session() as session:
        goma = session.scalars(select(Organisation).where(Organisation.name == "CSO Goma")).one()
    assert (goma.provinces, goma.territories, goma.categories) == (
        ["CD-NK"],
        ["CD6105"],
        ["labour"],
    )
    users_url = f"/admin/organisations/{goma.id}/users"
    page = post_form(
        coordinator,
        users_url,
        users_url,
        {"email": "admin@goma.example", "name": "Zawadi", "role": "org_admin", "language": "sw"},
    )
    assert page.status_code == 200
    password = SHOWN_PASSWORD.search(page.get_data(as_text=True))
    assert password
    assert page.headers["Cache-Control"] == "no-store"
    assert password.group(1) not in coordinator.get(users_url).get_data(as_text=True)  # once
    admin = app.test_client()
    assert login(admin, "admin@goma.example", password.group(1)).status_code == 302
    assert "Zawadi" in admin.get(users_url).get_data(as_text=True)
    # The org admin adds an analyst, then disables them.
    page = post_form(
        admin,
        users_url,
        users_url,
        {"email": "ana@goma.example", "role": "analyst", "name": "", "language": ""},
    )
    assert page.status_code == 200
    with services.db.session() as session:
        ana = session.scalars(select(User).where(User.email == "ana@goma.example")).one()
    response = admin.post(
        f"/admin/users/{ana.id}/disable", data={"csrf_token": csrf_token(admin.get(users_url))}
    )
    assert response.status_code == 302
    with services.db.session() as session:
        assert session.get(User, ana.id).active is False  # type: ignore[union-attr]


def test_nobody_disables_or_edits_themselves(coordinator: FlaskClient, services: Services) -> None:
    with services.db.session() as session:
        me = session.scalars(select(User)).one()
    token = csrf_token(coordinator.get("/account"))
    assert (
        coordinator.post(f"/admin/users/{me.id}/disable", data={"csrf_token": token}).status_code
        == 403
    )
    assert coordinator.get(f"/admin/users/{me.id}").status_code == 403


def test_reset_a_password_ends_their_sessions(
    coordinator: FlaskClient, services: Services, app: Flask
) -> None:
    people = People(services)
    user = people.user("v@example.org", people.org("Other"), "viewer")
    viewer = app.test_client()
    login(viewer, "v@example.org")
    page = post_form(coordinator, f"/admin/users/{user.id}", f"/admin/users/{user.id}/password", {})
    password = SHOWN_PASSWORD.search(page.get_data(as_text=True))
    assert password
    assert viewer.get("/reports").status_code == 302  # logged out
    assert login(viewer, "v@example.org", password.group(1)).status_code == 302


def test_a_duplicate_name_or_email_is_a_form_error(
    coordinator: FlaskClient, services: Services
) -> None:
    response = post_form(
        coordinator, "/admin/organisations/new", "/admin/organisations/new", {"name": "Network"}
    )
    assert response.status_code == 400
    with services.db.session() as session:
        network = session.scalars(select(Organisation)).one()
    url = f"/admin/organisations/{network.id}/users"
    response = post_form(
        coordinator,
        url,
        url,
        {"email": "coord@example.org", "role": "viewer", "name": "", "language": ""},
    )
    assert response.status_code == 400
    response = post_form(
        coordinator,
        url,
        url,
        {"email": "not-an-address", "role": "viewer", "name": "", "language": ""},
    )
    assert response.status_code == 400
