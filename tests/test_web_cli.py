"""``flask orgs|users|tokens``: bootstrapping a deployment from the shell, secrets shown once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from services import EXTENSION_KEY, Services
from storage.models import ApiToken, Organisation, User
from web import passwords

from .conftest import Backend
from .web_support import login, web_app


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    app = web_app(backend, tmp_path)
    yield app
    app.extensions[EXTENSION_KEY].close()


def run(app: Flask, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args), input=stdin)
    return result.exit_code, result.output


def test_bootstrap_a_network_and_log_in(app: Flask, services: Services) -> None:
    code, out = run(app, "users", "hint")
    assert code == 0 and "users create" in out and "--role coordinator" in out
    code, out = run(app, "orgs", "create", "Coordination")
    assert code == 0, out
    code, out = run(
        app,
        "orgs",
        "create",
        "CSO Bukavu",
        "--provinces",
        "CD-SK,CD-NK",
        "--categories",
        "accident,labour",
    )
    assert code == 0, out
    with services.db.session() as session:
        bukavu = session.scalars(
            select(Organisation).where(Organisation.name == "CSO Bukavu")
        ).one()
        assert (bukavu.provinces, bukavu.categories) == (["CD-NK", "CD-SK"], ["accident", "labour"])
    code, out = run(
        app,
        "users",
        "create",
        "--email",
        "Coord@Example.org",
        "--org",
        "Coordination",
        "--role",
        "coordinator",
    )
    assert code == 0, out
    password = re.search(r"password \(shown once[^)]*\): (\S+)", out)
    assert password, out
    code, out = run(app, "users", "hint")
    assert out == ""  # someone can log in now
    client = app.test_client()
    assert login(client, "coord@example.org", password.group(1)).status_code == 302
    code, out = run(app, "users", "list")
    assert "coord@example.org" in out and password.group(1) not in out


def test_users_create_reads_the_password_from_stdin(app: Flask) -> None:
    run(app, "orgs", "create", "Org")
    code, out = run(
        app,
        "users",
        "create",
        "--email",
        "a@example.org",
        "--org",
        "Org",
        "--role",
        "analyst",
        "--password-stdin",
        stdin="a long enough secret\n",
    )
    assert code == 0, out
    assert "a long enough secret" not in out and "password" not in out.lower()
    assert login(app.test_client(), "a@example.org", "a long enough secret").status_code == 302
    code, out = run(
        app,
        "users",
        "create",
        "--email",
        "b@example.org",
        "--org",
        "Org",
        "--role",
        "analyst",
        "--password-stdin",
        stdin="short\n",
    )
    assert code != 0 and "at least" in out


def test_users_create_refuses_what_it_cannot_do(app: Flask) -> None:
    run(app, "orgs", "create", "Org")
    code, out = run(
        app, "users", "create", "--email", "a@example.org", "--org", "Nope", "--role", "analyst"
    )
    assert code != 0 and "no organisation named 'Nope'" in out
    code, out = run(
        app, "users", "create", "--email", "a@example.org", "--org", "Org", "--role", "king"
    )
    assert code != 0
    run(app, "users", "create", "--email", "a@example.org", "--org", "Org", "--role", "viewer")
    code, out = run(
        app, "users", "create", "--email", "A@example.org", "--org", "Org", "--role", "viewer"
    )
    assert code != 0 and "exists already" in out
    code, out = run(app, "orgs", "create", "Org")
    assert code != 0 and "exists already" in out
    code, out = run(app, "orgs", "create", "Other", "--provinces", "CD-XX")
    assert code != 0 and "unknown province" in out


def test_tokens_are_printed_once_and_stored_hashed(app: Flask, services: Services) -> None:
    run(app, "orgs", "create", "Org")
    code, out = run(app, "tokens", "create", "--org", "Org")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    assert token.startswith(passwords.TOKEN_PREFIX) and len(token) > 40
    with services.db.session() as session:
        stored = session.scalars(select(ApiToken)).one()
        assert stored.token_hash == passwords.hash_api_token(token)
        assert token not in (stored.token_hash, stored.prefix) and token.startswith(stored.prefix)
        assert stored.scope == "read" and stored.revoked_at is None
        for user in session.scalars(select(User)):
            assert token not in user.password_hash
