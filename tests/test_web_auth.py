"""Logging in and out, throttling, passwords, sessions, CSRF and the security headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from services import EXTENSION_KEY, Services
from storage.models import User

from .conftest import Backend
from .web_support import PASSWORD, People, csrf_token, login, post_form, web_app


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    app = web_app(backend, tmp_path, login_throttle={"per_account": 3, "per_address": 6})
    yield app
    app.extensions[EXTENSION_KEY].close()


@pytest.fixture
def people(services: Services) -> People:
    return People(services)


@pytest.fixture
def analyst(people: People) -> User:
    return people.user("ana@example.org", people.org("Bukavu CSO"), "analyst")


def test_pages_need_a_login(client: FlaskClient) -> None:
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert client.get("/").headers["Location"] == "/login"


def test_log_in_see_the_account_and_log_out(client: FlaskClient, analyst: User) -> None:
    response = login(client, "ANA@example.org ", PASSWORD)  # case and spaces do not matter
    assert response.status_code == 302
    page = client.get("/account")
    assert page.status_code == 200
    assert "ana@example.org" in page.get_data(as_text=True)
    assert "Bukavu CSO" in page.get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


def test_a_wrong_password_is_refused_with_one_message_for_every_failure(
    client: FlaskClient, analyst: User
) -> None:
    wrong = login(client, "ana@example.org", "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    # The same page but for the address typed back, and the form's CSRF token: it is signed with
    # the time, so two pages a second apart carry different ones.
    text = wrong.get_data(as_text=True).replace(csrf_token(wrong), "TOKEN")
    other = unknown.get_data(as_text=True).replace(csrf_token(unknown), "TOKEN")
    assert text == other.replace("nobody@", "ana@")
    assert client.get("/account").status_code == 302


def test_failed_logins_are_throttled_per_account(client: FlaskClient, analyst: User) -> None:
    for _ in range(3):
        assert login(client, "ana@example.org", "guess").status_code == 401
    # Even the right password is refused until the window passes.
    refused = login(client, "ana@example.org", PASSWORD)
    assert refused.status_code == 429
    assert client.get("/account").status_code == 302


def test_failed_logins_are_throttled_per_address(
    client: FlaskClient, people: People, analyst: User
) -> None:
    for i in range(6):
        assert login(client, f"someone{i}@example.org", "guess").status_code == 401
    assert login(client, "ana@example.org", PASSWORD).status_code == 429
    other_address = client.application.test_client()
    other_address.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert login(other_address, "ana@example.org", PASSWORD).status_code == 302


def test_a_disabled_user_cannot_log_in_and_loses_open_sessions(
    client: FlaskClient, services: Services, analyst: User
) -> None:
    from storage import operations

    assert login(client, "ana@example.org").status_code == 302
    with services.db.transaction() as session:
        user = session.get(User, analyst.id)
        assert user is not None
        operations.set_user_active(session, user, False)
    assert client.get("/account").status_code == 302  # the open session ended
    assert login(client, "ana@example.org").status_code == 401


def test_change_password(client: FlaskClient, services: Services, analyst: User) -> None:
    login(client, "ana@example.org")
    other = client.application.test_client()
    login(other, "ana@example.org")
    data = {"current": PASSWORD, "new": "a much better one", "confirm": "a much better one"}
    response = post_form(client, "/account", "/account/password", data)
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this session goes on...
    assert other.get("/account").status_code == 302  # ...every other one ends
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/account"))})
    assert login(client, "ana@example.org").status_code == 401
    assert login(client, "ana@example.org", "a much better one").status_code == 302
    with services.db.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.id == analyst.id))
    assert stored is not None and stored.startswith("$argon2id$")
    assert "a much better one" not in stored


def test_change_password_refuses_a_wrong_current_one_and_a_short_one(
    client: FlaskClient, analyst: User
) -> None:
    login(client, "ana@example.org")
    wrong = {"current": "nope", "new": "a much better one", "confirm": "a much better one"}
    assert post_form(client, "/account", "/account/password", wrong).status_code == 400
    short = {"current": PASSWORD, "new": "short", "confirm": "short"}
    assert post_form(client, "/account", "/account/password", short).status_code == 400
    assert login(client.application.test_client(), "ana@example.org").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient, analyst: User) -> None:
    response = client.post("/login", data={"email": "ana@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True)  # the platform's page, not plain text
    login(client, "ana@example.org")
    data = {"current": PASSWORD, "new": "a much better one", "confirm": "a much better one"}
    assert client.post("/account/password", data=data).status_code == 400
    forged = {**data, "csrf_token": "forged"}
    assert client.post("/account/password", data=forged).status_code == 400
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200  # still logged in


def test_security_headers_and_cookie_flags(client: FlaskClient, analyst: User) -> None:
    page = client.get("/login")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    response = login(client, "ana@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert client.get("/account").headers["Cache-Control"] == "no-store"


def test_login_redirects_only_within_the_site(client: FlaskClient, analyst: User) -> None:
    page = client.get("/login?next=https://evil.example/")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "ana@example.org", "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CD,fr;q=0.9", "Se connecter"),
        ("sw", "Ingia"),
        ("en-GB", "Log in"),
        ("de", "Se connecter"),
    ],
)
def test_the_login_page_speaks_the_browser_language(
    client: FlaskClient, header: str, expected: str
) -> None:
    page = client.get("/login", headers={"Accept-Language": header})
    assert f"<h1>{expected}</h1>" in page.get_data(as_text=True)


def test_the_profile_language_wins_over_the_browser(client: FlaskClient, people: People) -> None:
    people.user("sw@example.org", people.org("Goma CSO"), "viewer", language="sw")
    login(client, "sw@example.org")
    page = client.get("/account", headers={"Accept-Language": "en"})
    assert "Akaunti yangu" in page.get_data(as_text=True)
