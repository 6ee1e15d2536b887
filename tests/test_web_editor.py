"""The menu editor from the web: who may use it, versions, the node editor and its validation, the
stale-save conflict, retired codes, publish and rollback, the YAML view, the diff, the
simulator and the audit trail (both backends)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po, write_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from menus.document import to_yaml
from services import EXTENSION_KEY, Services
from storage import queries
from storage.models import TreeAudit, TreeVersion
from storage.operations import AuditError

from .test_web_safety import INLINE, assert_secured
from .web_support import People, csrf_token, login, make_report, web_app

NODE = "/menus/incident/2/nodes/category"


@pytest.fixture
def app(backend: Any, tmp_path: Path) -> Iterator[Flask]:
    app = web_app(backend, tmp_path)
    yield app
    app.extensions[EXTENSION_KEY].close()


@pytest.fixture
def people(services: Services) -> dict[str, Any]:
    p = People(services)
    network, bukavu = p.org("Network"), p.org("CSO Bukavu")
    return {
        "coordinator": p.user("coord@example.org", network, "coordinator"),
        "admin": p.user("admin@example.org", bukavu, "org_admin"),
        "analyst": p.user("analyst@example.org", bukavu, "analyst"),
        "viewer": p.user("viewer@example.org", bukavu, "viewer"),
    }


@pytest.fixture
def coordinator(client: FlaskClient, people: dict[str, Any]) -> FlaskClient:
    login(client, "coord@example.org")
    return client


def post(client: FlaskClient, page: str, action: str, data: dict[str, Any]) -> Any:
    return client.post(action, data={**data, "csrf_token": csrf_token(client.get(page))})


def new_draft(client: FlaskClient) -> None:
    response = post(client, "/menus/incident", "/menus/incident/drafts", {"version": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/menus/incident/2")


def node_form(client: FlaskClient, url: str = NODE) -> dict[str, str]:
    """Every field of the node form as the browser would post it (inputs, textareas, selects)."""
    page = client.get(url).get_data(as_text=True)
    form = page[page.index('id="node-form"') : page.index("</form>", page.index('id="node-form"'))]
    data: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form):
        data[name] = _unescape(value)
    for name, value in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S
    ):
        data[name] = _unescape(value)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        data[name] = chosen.group(1) if chosen else ""
    data.pop("skip-on", None)
    return data


def _unescape(value: str) -> str:
    for escaped, plain in (("&#39;", "'"), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">")):
        value = value.replace(escaped, plain)
    return value.replace("&amp;", "&")


def document(services: Services, version: int = 2) -> dict[str, Any]:
    with services.db.session() as session:
        found = queries.tree_document(session, "incident", version)
    assert found is not None
    return found


def category_labels(services: Services, version: int = 2) -> dict[str, Any]:
    nodes = {n["id"]: n for n in document(services, version)["nodes"]}
    return {o["value"]: o for o in nodes["category"]["options"]}


# Who may edit ----------------------------------------------------------------------------------

PAGES = [
    ("get", "/menus/", None),
    ("get", "/menus/audit", None),
    ("get", "/menus/incident", None),
    ("get", "/menus/incident/1", None),
    ("get", "/menus/incident/diff?a=1&b=1", None),
    ("get", "/menus/incident/1/yaml", None),
    ("get", "/menus/incident/1/export.yaml", None),
    ("get", "/menus/incident/1/simulate", None),
    ("get", "/menus/incident/1/nodes/category", None),
    ("post", "/menus/incident/drafts", {"version": "1"}),
    ("post", "/menus/incident/1/publish", {}),
    ("post", "/menus/incident/1/rollback", {}),
    ("post", "/menus/incident/1/nodes/category", {"revision": "1"}),
    ("post", "/menus/incident/1/simulate", {"op": "dial"}),
]


@pytest.mark.parametrize(
    "email", ["analyst@example.org", "viewer@example.org", "admin@example.org"]
)
def test_who_may_not_edit_is_refused_every_view_and_action(
    client: FlaskClient, people: dict[str, Any], email: str, services: Services
) -> None:
    login(client, email)
    token = csrf_token(client.get("/account"))
    assert "/menus/" not in client.get("/reports").get_data(as_text=True)  # no link either
    for method, url, data in PAGES:
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, data={**(data or {}), "csrf_token": token})
        assert response.status_code == 403, (email, url)
    allow = client.post(
        "/menus/editors", data={"user_id": "2", "allowed": "1", "csrf_token": token}
    )
    assert allow.status_code == 403
    with services.db.session() as session:
        assert len(queries.tree_versions(session, "incident")) == 1


def test_the_coordinator_allows_an_org_admin_who_may_then_edit(
    client: FlaskClient, people: dict[str, Any], services: Services
) -> None:
    login(client, "coord@example.org")
    admin = people["admin"]
    page = client.get("/menus/").get_data(as_text=True)
    assert "admin@example.org" in page
    response = post(client, "/menus/", "/menus/editors", {"user_id": admin.id, "allowed": "1"})
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/account"))})

    login(client, "admin@example.org")
    assert 'href="/menus/"' in client.get("/reports").get_data(as_text=True)
    assert client.get("/menus/incident").status_code == 200
    new_draft(client)
    # An allowed org admin still may not allow others: that is the coordinator's.
    refused = post(client, "/menus/", "/menus/editors", {"user_id": admin.id, "allowed": "0"})
    assert refused.status_code == 403
    with services.db.session() as session:
        actions = [e.action for e in queries.tree_audit(session)]
    assert actions == ["draft", "allow_editor"]


# Versions, the node editor, publish ----------------------------------------------------------


def test_edit_a_french_label_too_long_then_fixed_then_publish(
    coordinator: FlaskClient, services: Services
) -> None:
    new_draft(coordinator)
    data = node_form(coordinator)
    assert data["opt-0-label-fr"] == "Accident"
    data["opt-0-label-fr"] = "Accident " + "en forêt " * 16
    saved = coordinator.post(NODE, data={**data, "op": "save"})
    assert saved.status_code == 302  # a draft with errors is saved
    page = coordinator.get(NODE).get_data(as_text=True)
    assert "screen does not fit in 160 characters" in page
    # Shown next to the French column, not the others; the accent flagged as transliterated.
    assert re.search(r'class="lang-head"><strong>fr</strong><ul class="problems', page)
    assert not re.search(r'class="lang-head"><strong>sw</strong><ul', page)
    assert "<code>ê</code>→<code>e</code>" in page

    refused = post(coordinator, "/menus/incident/2", "/menus/incident/2/publish", {})
    assert refused.status_code == 409
    assert "screen does not fit" in refused.get_data(as_text=True)
    assert services.trees.versions()["incident"] == 1

    data = node_form(coordinator)
    data["opt-0-label-fr"] = "Accident minier"
    assert coordinator.post(NODE, data={**data, "op": "save"}).status_code == 302
    assert "No problem in the tree." in coordinator.get(NODE).get_data(as_text=True)
    published = post(coordinator, "/menus/incident/2", "/menus/incident/2/publish", {})
    assert published.status_code == 302
    services.trees.refresh(force=True)
    assert services.trees.versions()["incident"] == 2
    assert category_labels(services)["accident"]["label"]["fr"] == "Accident minier"
    # The other languages kept as they were.
    assert category_labels(services)["accident"]["label"]["sw"] == "Ajali"
    listing = coordinator.get("/menus/incident").get_data(as_text=True)
    assert "coord@example.org" in listing and "published" in listing

    diff = coordinator.get("/menus/incident/diff?a=1&b=2").get_data(as_text=True)
    assert "Accident minier" in diff and "category" in diff
    with services.db.session() as session:
        actions = [(e.action, e.version) for e in queries.tree_audit(session, "incident")]
    assert actions == [("publish", 2), ("save", 2), ("save", 2), ("draft", 2)]

    back = post(coordinator, "/menus/incident", "/menus/incident/1/rollback", {})
    assert back.status_code == 302
    services.trees.refresh(force=True)
    assert services.trees.versions()["incident"] == 1
    audit = coordinator.get("/menus/audit").get_data(as_text=True)
    assert "rollback" in audit and "coord@example.org" in audit


def test_a_stale_save_is_refused_with_a_conflict_and_nothing_overwritten(
    coordinator: FlaskClient, services: Services
) -> None:
    new_draft(coordinator)
    first = node_form(coordinator)  # two admins open the same draft at revision 1
    second = dict(first)
    first["opt-1-label-en"] = "Violence (first admin)"
    assert coordinator.post(NODE, data={**first, "op": "save"}).status_code == 302
    second["opt-1-label-en"] = "Violence (second admin)"
    stale = coordinator.post(NODE, data={**second, "op": "save"})
    assert stale.status_code == 409
    assert "Someone else saved this draft" in stale.get_data(as_text=True)
    assert category_labels(services)["violence"]["label"]["en"] == "Violence (first admin)"
    # The same refusal from the YAML view.
    yaml_page = coordinator.get("/menus/incident/2/yaml")
    stale_yaml = coordinator.post(
        "/menus/incident/2/yaml",
        data={"csrf_token": csrf_token(yaml_page), "revision": "1", "yaml": "id: incident"},
    )
    assert stale_yaml.status_code == 409


def test_options_reordered_added_moved_and_a_code_with_reports_only_retired(
    coordinator: FlaskClient, services: Services
) -> None:
    make_report(services, category="accident", subcategory="accident.collapse")
    new_draft(coordinator)
    data = node_form(coordinator)
    assert coordinator.post(NODE, data={**data, "op": "down:0"}).status_code == 302
    assert list(category_labels(services))[:2] == ["violence", "accident"]

    data = node_form(coordinator)
    data.update({"new-value": "land", "new-label-fr": "Terres", "new-label-sw": "Ardhi"})
    data.update({"new-label-en": "Land", "new-next": "province"})
    assert coordinator.post(NODE, data={**data, "op": "add"}).status_code == 302
    assert category_labels(services)["land"]["next"] == "province"

    # "accident" has a report: no remove button, and removing by hand is refused.
    data = node_form(coordinator)
    page = coordinator.get(NODE).get_data(as_text=True)
    assert 'value="remove:1"' not in page and 'value="retire:1"' in page
    refused = coordinator.post(NODE, data={**data, "op": "remove:1"})
    assert refused.status_code == 400
    assert "has reports: it cannot be removed" in refused.get_data(as_text=True)
    data["opt-1-value"] = "accidents"
    assert coordinator.post(NODE, data={**data, "op": "save"}).status_code == 400
    data = node_form(coordinator)
    assert coordinator.post(NODE, data={**data, "op": "retire:1"}).status_code == 302
    assert category_labels(services)["accident"]["retired"] is True

    # A code without reports can move to another question (there, it is a problem to fix).
    data = node_form(coordinator)
    data["opt-2-moveto"] = "sub_fraud"
    assert coordinator.post(NODE, data={**data, "op": "move:2"}).status_code == 302
    assert "taxation" not in category_labels(services)
    with services.db.session() as session:
        actions = [e.action for e in queries.tree_audit(session, "incident")]
    assert actions[:2] == ["save", "retire"]


def test_the_yaml_view_validates_like_a_save(coordinator: FlaskClient, services: Services) -> None:
    new_draft(coordinator)
    page = coordinator.get("/menus/incident/2/yaml")
    broken = coordinator.post(
        "/menus/incident/2/yaml",
        data={"csrf_token": csrf_token(page), "revision": "1", "yaml": "id: [unclosed"},
    )
    assert broken.status_code == 400
    assert "not valid YAML" in broken.get_data(as_text=True)
    edited = document(services)
    edited["nodes"] = [n for n in edited["nodes"] if n["id"] != "sub_fraud"]  # a dangling link
    saved = coordinator.post(
        "/menus/incident/2/yaml",
        data={"csrf_token": csrf_token(page), "revision": "1", "yaml": to_yaml(edited)},
    )
    assert saved.status_code == 302
    shown = coordinator.get("/menus/incident/2/yaml").get_data(as_text=True)
    assert "sub_fraud" in shown and 'data-code="dangling_link"' in shown


def test_the_simulator_runs_a_draft_and_stores_nothing(
    coordinator: FlaskClient, services: Services
) -> None:
    new_draft(coordinator)
    url = "/menus/incident/2/simulate"

    def send(op: str, text: str = "", channel: str = "ussd") -> str:
        page = coordinator.get(f"{url}?channel={channel}&lang=fr")
        response = coordinator.post(
            url,
            data={
                "csrf_token": csrf_token(page),
                "op": op,
                "text": text,
                "channel": channel,
                "lang": "fr",
            },
        )
        assert response.status_code == 302
        return coordinator.get(f"{url}?channel={channel}&lang=fr").get_data(as_text=True)

    screen = send("dial")
    assert "Signaler un incident" in screen
    assert "USSD " in screen and "/160" in screen
    for answer in ["1", "1", "1", "1", "1", "Kamituga", "1", "2"]:
        screen = send("send", answer)
    assert "Vérifiez" in screen or "Verifiez" in screen
    screen = send("send", "1")
    assert "0000000" in screen and "What would be stored" in screen
    # Named as the report page names them, codes beside the names.
    stored = screen[screen.index("What would be stored") :]
    assert "<dt>Sub-category</dt><dd>Pit collapse <code>accident.collapse</code>" in stored
    assert "<dt>Menu version</dt><dd>2</dd>" in stored
    with services.db.session() as session:
        assert session.scalar(text("SELECT count(*) FROM reports")) == 0
    # Kept apart from real sessions: only the simulator's own keys.
    keys = {k.decode() if isinstance(k, bytes) else k for k in services.redis.keys("*")}
    assert any(":simulator:s:" in k for k in keys)
    assert not any(":ussd:s:" in k for k in keys)

    thread = send("send", "ALERTE", channel="sms")
    assert "Signaler un incident" in thread and "segment" in thread

    # The draft as it is now, after an edit (not a copy kept from the first run).
    main = node_form(coordinator, "/menus/incident/2/nodes/main")
    main["opt-0-label-fr"] = "Signaler un accident"
    assert (
        coordinator.post("/menus/incident/2/nodes/main", data={**main, "op": "save"}).status_code
        == 302
    )
    assert "1 Signaler un accident" in send("dial")


def test_the_audit_trail_is_append_only(coordinator: FlaskClient, services: Services) -> None:
    new_draft(coordinator)
    with services.db.session() as session:
        row = session.scalars(select(TreeAudit)).one()
        row.detail = "rewritten"
        with pytest.raises(AuditError):
            session.flush()
        session.rollback()
    with pytest.raises(Exception, match="append-only"), services.db.transaction() as session:
        session.execute(update(TreeAudit).values(detail="rewritten"))
    with services.db.session() as session:
        assert session.scalars(select(TreeVersion.version)).all() == [1, 2]


def _po_with(po_text: bytes, context: str, string: str) -> bytes:
    catalog = read_po(io.BytesIO(po_text))
    found = [m for m in catalog if m.context == context]
    assert found, context
    found[0].string = string
    out = io.BytesIO()
    write_po(out, catalog)
    return out.getvalue()


def test_po_files_download_upload_and_per_language_completeness(
    coordinator: FlaskClient, services: Services
) -> None:
    page = coordinator.get("/menus/incident/1").get_data(as_text=True)
    assert "Languages and translators" in page and "offered" in page
    po = coordinator.get("/menus/incident/1/po?lang=fr")
    assert po.status_code == 200
    assert 'msgctxt "category/accident/label"' in po.get_data(as_text=True)
    assert coordinator.get("/menus/incident/1/po?lang=x!").status_code == 400

    def upload(version: int, data: bytes) -> Any:
        page = coordinator.get(f"/menus/incident/{version}")
        revision = re.search(r'name="revision" value="(\d+)"', page.get_data(as_text=True))
        return coordinator.post(
            f"/menus/incident/{version}/po",
            data={
                "csrf_token": csrf_token(page),
                "revision": revision.group(1) if revision else "",
                "po": (io.BytesIO(data), "fr.po"),
            },
            content_type="multipart/form-data",
        )

    too_long = _po_with(po.data, "category/accident/label", "Accident " + "très grave " * 20)
    refused = upload(1, too_long)
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "would add 1 problem(s)" in body and "category (fr)" in body
    with services.db.session() as session:
        assert len(queries.tree_versions(session, "incident")) == 1

    fixed = _po_with(po.data, "category/accident/label", "Accident minier")
    made = upload(1, fixed)  # from the published version: a new draft
    assert made.status_code == 302 and made.headers["Location"].endswith("/menus/incident/2")
    assert category_labels(services)["accident"]["label"]["fr"] == "Accident minier"
    again = upload(2, _po_with(po.data, "category/violence/label", "Violences armées"))
    assert again.status_code == 302 and again.headers["Location"].endswith("/menus/incident/2")
    assert category_labels(services)["violence"]["label"]["fr"] == "Violences armées"
    with services.db.session() as session:
        actions = [(e.action, e.version) for e in queries.tree_audit(session, "incident")]
    assert actions == [("po_import", 2), ("po_import", 2)]


def test_every_question_of_the_default_tree_opens_and_saves_unchanged(
    coordinator: FlaskClient, services: Services
) -> None:
    new_draft(coordinator)
    before = document(services)
    for node in before["nodes"]:
        url = f"/menus/incident/2/nodes/{node['id']}"
        data = node_form(coordinator, url)
        if node.get("skip"):
            data["skip-on"] = "1"
        assert coordinator.post(url, data={**data, "op": "save"}).status_code == 302, url
    assert document(services) == before  # the form loses nothing it does not show


def test_the_editor_pages_carry_the_security_headers_and_no_inline_code(
    coordinator: FlaskClient,
) -> None:
    new_draft(coordinator)
    for url in (
        "/menus/",
        "/menus/audit",
        "/menus/incident",
        "/menus/incident/2",
        "/menus/incident/diff?a=1&b=2",
        "/menus/incident/2/yaml",
        "/menus/incident/2/simulate?channel=sms",
        "/menus/incident/2/nodes/site",
        "/menus/incident/2/export.yaml",
        "/menus/incident/2/po?lang=ln",
    ):
        response = coordinator.get(url)
        assert response.status_code == 200, url
        assert_secured(response, url)
        if response.mimetype == "text/html":
            assert not INLINE.findall(response.get_data(as_text=True)), url
