"""The menu editor's costs: each page's weight (HTML and stylesheets), a save of the category
question (the form applied, the whole tree validated in every language and limit, the draft
written with its audit row) and a simulator hop, as whole requests through the app.

    .venv/bin/python bench/editor.py [--rounds 20]

On the embedded defaults and, with DATABASE_URL and REDIS_URL set, on the real servers too.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from common import backends, bench_app, percentile
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from services import EXTENSION_KEY, Services
from storage import operations, queries
from web import passwords

PASSWORD = "bench-password-0123"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REVISION = re.compile(r'name="revision" value="(\d+)"')


def _token(response: TestResponse) -> str:
    found = TOKEN.search(response.get_data(as_text=True))
    assert found, "no CSRF token"
    return found.group(1)


def _log_in(services: Services, client: FlaskClient) -> str:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.org"
    with services.db.transaction() as session:
        org = operations.create_organisation(
            session, name=f"Bench {email}", now=services.clock.now()
        )
        operations.create_user(
            session,
            email=email,
            password_hash=passwords.hasher(services.settings.web).hash(PASSWORD),
            organisation=org,
            role="coordinator",
            now=services.clock.now(),
        )
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    page = client.get("/login")
    done = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": _token(page)}
    )
    assert done.status_code == 302, done.status_code
    return email


def run(label: str, database_url: str, redis_url: str, rounds: int, instance: Path) -> None:
    with bench_app(database_url, redis_url, instance) as app:
        services: Services = app.extensions[EXTENSION_KEY]
        client = app.test_client()
        _log_in(services, client)
        with services.db.session() as session:
            published = queries.published_versions(session)["incident"]
        page = client.get(f"/menus/incident/{published}")
        made = client.post(
            "/menus/incident/drafts", data={"version": published, "csrf_token": _token(page)}
        )
        draft = int(made.headers["Location"].rsplit("/", 1)[1])
        css = sum(len(client.get(f"/assets/{name}").data) for name in ("app.css", "editor.css"))
        print(f"\n{label}: page weights (HTML; with the two stylesheets)")
        for path in (
            "/menus/",
            "/menus/incident",
            f"/menus/incident/{draft}",
            f"/menus/incident/{draft}/nodes/category",
            f"/menus/incident/{draft}/nodes/site",
            f"/menus/incident/{draft}/yaml",
            f"/menus/incident/{draft}/simulate",
        ):
            size = len(client.get(path).data)
            print(f"  {path}: {size / 1024:.1f} KB; {(size + css) / 1024:.1f} KB")

        url = f"/menus/incident/{draft}/nodes/category"
        saves = []
        for n in range(rounds):
            form = client.get(url)
            revision = REVISION.search(form.get_data(as_text=True))
            assert revision
            data = {
                "csrf_token": _token(form),
                "revision": revision.group(1),
                "op": "save",
                "opt-0-label-fr": f"Accident {n}",
            }
            started = time.perf_counter()
            saved = client.post(url, data=data)
            saves.append((time.perf_counter() - started) * 1000)
            assert saved.status_code == 302, saved.status_code

        sim = f"/menus/incident/{draft}/simulate"
        token = _token(client.get(sim))
        client.post(sim, data={"csrf_token": token, "op": "dial", "channel": "ussd", "lang": "fr"})
        hops = []
        for n in range(rounds):
            started = time.perf_counter()
            hop = client.post(
                sim,
                data={
                    "csrf_token": token,
                    "op": "send",
                    "text": "0" if n % 2 else "1",
                    "channel": "ussd",
                    "lang": "fr",
                },
            )
            hops.append((time.perf_counter() - started) * 1000)
            assert hop.status_code == 302, hop.status_code
        for name, times in (("save + validate", saves), ("simulator hop", hops)):
            print(
                f"  {name}: median {statistics.median(times):.0f} ms, "
                f"p95 {percentile(times, 0.95):.0f} ms ({rounds} requests)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("KUFATILIA__WEB__COOKIE_SECURE", "false")  # the test client: HTTP
    with tempfile.TemporaryDirectory() as tmp:
        for label, database_url, redis_url in backends(tmp):
            run(label, database_url, redis_url, args.rounds, Path(tmp) / label.split()[0])


if __name__ == "__main__":
    main()
