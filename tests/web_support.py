"""Helpers for the web platform's tests: people in the database, a logged-in client, CSRF tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from services import Services
from storage import operations
from storage.models import Organisation, Report, User
from web import passwords

from .conftest import Backend, make_app

PASSWORD = "correct horse battery"
# Cheap hashing in tests: the production cost (config.yaml) is tested by argon2 itself.
FAST_ARGON2 = {"time_cost": 1, "memory_kib": 8, "parallelism": 1}
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def web_app(backend: Backend, tmp_path: Path, **web: Any) -> Flask:
    settings = {"argon2": FAST_ARGON2, **web}
    return make_app(backend, tmp_path, web=settings)


@dataclass
class People:
    """Creates organisations and users straight through the operations, as the CLI does."""

    services: Services

    def org(self, name: str, **area: Any) -> Organisation:
        with self.services.db.transaction() as session:
            return operations.create_organisation(
                session, name=name, now=self.services.clock.now(), **area
            )

    def user(
        self, email: str, org: Organisation, role: str, password: str = PASSWORD, **extra: Any
    ) -> User:
        hasher = passwords.hasher(self.services.settings.web)
        with self.services.db.transaction() as session:
            return operations.create_user(
                session,
                email=email,
                password_hash=hasher.hash(password),
                organisation=org,
                role=role,
                now=self.services.clock.now(),
                **extra,
            )


def csrf_token(response: TestResponse) -> str:
    match = CSRF.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def login(
    client: FlaskClient, email: str, password: str = PASSWORD, language: str = "en"
) -> TestResponse:
    """Log in, with a browser asking for ``language`` from then on (assertions read English)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    page = client.get("/login")
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(page)}
    )


def post_form(
    client: FlaskClient, page_url: str, action: str, data: dict[str, Any]
) -> TestResponse:
    """Post ``data`` to ``action`` with the CSRF token of the page at ``page_url``."""
    token = csrf_token(client.get(page_url))
    return client.post(action, data={**data, "csrf_token": token})


def answers(
    *,
    category: str | None = "accident",
    subcategory: str | None = "accident.collapse",
    province: str | None = "CD-SK",
    territory: str | None = "CD6201",
    site: str | None = "Kamituga",
    details: str | None = "A pit collapsed",
    when: str = "today",
) -> dict[str, dict[str, Any]]:
    """Answers shaped as the default tree stores them."""
    found: dict[str, dict[str, Any]] = {}
    if category:
        found["category"] = {"key": "category", "node": "category", "value": category}
    if subcategory:
        found["subcategory"] = {"key": "subcategory", "node": "sub", "value": subcategory}
    if province:
        found["province"] = {
            "key": "province",
            "node": "province",
            "value": province,
            "label": province,
            "pcode": "CD62",
        }
    if territory:
        found["territory"] = {
            "key": "territory",
            "node": "territory",
            "value": territory,
            "label": territory,
            "pcode": territory,
        }
    found["site"] = (
        {"key": "site", "node": "site", "value": site}
        if site
        else {"key": "site", "node": "site", "value": "", "skipped": True}
    )
    found["when"] = {"key": "when", "node": "when", "value": when}
    if details:
        found["details"] = {"key": "details", "node": "details", "value": details}
    return found


_counter = iter(range(1, 10**9))


def make_report(
    services: Services,
    phone: str = "+243812345678",
    channel: str = "ussd",
    language: str = "fr",
    **given: Any,
) -> Report:
    """A report stored the way the intake stores it (references from the app's fixed randomness)."""
    n = next(_counter)
    submission = operations.Submission(
        language=language,
        tree_id="incident",
        tree_version=1,
        answers=answers(**given),
        channel=channel,
        gateway="africastalking",
        conversation_key=f"test:{n}",
        network_code="63001",
    )
    with services.db.transaction() as session:
        report, _created = operations.create_report(
            session,
            submission,
            phone=phone,
            vault=services.vault,
            now=services.clock.now(),
            local_today=services.clock.local_today(),
            new_reference=services.new_reference,
        )
    return report
