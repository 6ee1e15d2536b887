"""The dashboard, the exports and the API, on both backends: counts that match the reports,
filters shared with the inbox, visibility applied, streamed files that keep reporters' text inert
and never carry their number, and tokens that open the API and nothing else."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services import EXTENSION_KEY, Services
from storage import operations, queries
from storage.models import Organisation, Report
from web import passwords
from web.dashboard.controllers import counts_for

from .conftest import FIXED_NOW, Backend
from .web_support import People, csrf_token, login, make_report, web_app

HOSTILE_SITE = '<script>alert("site")</script><b>Kamituga</b>'
HOSTILE_DETAILS = '=HYPERLINK("http://evil.example","click") <img src=x onerror=alert(1)>'
PHONE = "+243812345678"
ZONE = "Africa/Lubumbashi"
# A filter that every report passes but that the kept counts do not answer: the view is counted
# from the reports and kept in Redis (the unfiltered view reads ``dashboard_counts`` instead).
EVERYTHING = queries.InboxFilter(received_from=datetime(2000, 1, 1, tzinfo=UTC))
EVERYTHING_URL = "/dashboard?received_from=2000-01-01"


@pytest.fixture
def app(backend: Backend, tmp_path: Path) -> Flask:
    return web_app(backend, tmp_path)


@pytest.fixture
def orgs(services: Services) -> dict[str, Organisation]:
    people = People(services)
    found = {
        "network": people.org("Network"),
        "bukavu": people.org("CSO Bukavu", provinces=["CD-SK"], categories=["accident"]),
        "goma": people.org("CSO Goma", provinces=["CD-NK"]),
    }
    people.user("coordinator@example.org", found["network"], "coordinator")
    people.user("analyst@example.org", found["bukavu"], "analyst")
    people.user("viewer@example.org", found["bukavu"], "viewer")
    people.user("goma@example.org", found["goma"], "analyst")
    return found


def logged_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def backdate(services: Services, report: Report, days: int) -> None:
    with services.db.transaction() as session:
        found = session.get(Report, report.id)
        assert found is not None
        found.created_at = FIXED_NOW - timedelta(days=days)


@pytest.fixture
def reports(services: Services) -> dict[str, Report]:
    """Two Sud-Kivu accidents (one old, one hostile), a Nord-Kivu roadblock by SMS in Swahili, and
    a duplicate of the first accident (counted once, with its group)."""
    old = make_report(services, phone=PHONE)
    backdate(services, old, 400)
    found = {
        "old": old,
        "hostile": make_report(services, phone=PHONE, site=HOSTILE_SITE, details=HOSTILE_DETAILS),
        "roadblock": make_report(
            services,
            phone="+243990000001",
            channel="sms",
            language="sw",
            category="taxation",
            subcategory="taxation.roadblock",
            province="CD-NK",
            territory="CD6105",
        ),
        "duplicate": make_report(services, phone="+243990000002"),
    }
    with services.db.transaction() as session:
        duplicate = session.get(Report, found["duplicate"].id)
        assert duplicate is not None
        duplicate.duplicate_of_id, duplicate.status = old.id, "closed"
    return found


# The dashboard ---------------------------------------------------------------------------------


def test_the_counts_follow_the_inbox_filter_and_count_each_group_once(
    services: Services, reports: dict[str, Report]
) -> None:
    with services.db.session() as session:
        counts = queries.dashboard_counts(
            session,
            queries.InboxFilter(),
            None,
            zone="Africa/Lubumbashi",
            now=FIXED_NOW,
        )
        assert counts.total == 3
        assert counts.by["category"] == [("accident", 2), ("taxation", 1)]
        assert counts.by["subcategory"] == [("accident.collapse", 2), ("taxation.roadblock", 1)]
        assert counts.by["province"] == [("CD-SK", 2), ("CD-NK", 1)]
        assert counts.by["territory"] == [("CD6201", 2), ("CD6105", 1)]
        assert counts.by["status"] == [("new", 3)]
        assert counts.by["verification"] == [("unverified", 3)]
        assert counts.by["channel"] == [("ussd", 2), ("sms", 1)]
        assert counts.by["language"] == [("fr", 2), ("sw", 1)]
        assert counts.by["month"] == [("2025-10", 1), ("2026-11", 2)]
        only_sms = queries.dashboard_counts(
            session,
            queries.InboxFilter(channel="sms"),
            None,
            zone="Africa/Lubumbashi",
            now=FIXED_NOW,
        )
        assert only_sms.total == 1 and only_sms.by["category"] == [("taxation", 1)]


def test_a_month_is_the_deployments_month(services: Services, reports: dict[str, Report]) -> None:
    """23:30 UTC on 31 October is already 1 November in Bukavu (UTC+2)."""
    with services.db.transaction() as session:
        found = session.get(Report, reports["roadblock"].id)
        assert found is not None
        found.created_at = found.created_at.replace(year=2026, month=10, day=31, hour=23, minute=30)
    with services.db.session() as session:
        counts = queries.dashboard_counts(
            session,
            queries.InboxFilter(channel="sms"),
            None,
            zone="Africa/Lubumbashi",
            now=FIXED_NOW,
        )
    assert counts.by["month"] == [("2026-11", 1)]


def test_the_dashboard_page_draws_its_charts_as_svg(
    app: Flask, orgs: dict[str, Organisation], reports: dict[str, Report]
) -> None:
    page = logged_in(app, "coordinator@example.org").get("/dashboard?province=CD-SK")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert body.count("<svg") == 9
    assert "<script" not in body and "style=" not in body  # the CSP allows neither
    assert "2 reports" in body
    # Each bar links to the inbox with the dashboard's filter and its own value.
    assert 'href="/reports?province=CD-SK&amp;category=accident"' in body
    drawn = body.split('<div class="charts">', 1)[1]
    assert "Taxes" not in drawn  # the roadblock is in Nord-Kivu: filtered out
    assert "Accident: Pit collapse" in drawn


def test_the_dashboard_shows_only_what_the_reader_may_see(
    backend: Backend, tmp_path: Path, services: Services, orgs: dict[str, Organisation]
) -> None:
    restricted = web_app(backend, tmp_path, visibility="restricted")
    restricted_services: Services = restricted.extensions[EXTENSION_KEY]
    make_report(restricted_services, province="CD-SK")
    make_report(restricted_services, province="CD-NK", territory="CD6105")
    body = logged_in(restricted, "goma@example.org").get("/dashboard").get_data(as_text=True)
    drawn = body.split('<div class="charts">', 1)[1]
    assert "1 report" in body and "Nord-Kivu" in drawn and "Sud-Kivu" not in drawn
    # A report outside its area forwarded to it (and no longer assigned to it) is its to see,
    # and counted: the restricted count reads the forwards first on PostgreSQL.
    sk = make_report(restricted_services, province="CD-SK", territory="CD6201")
    with restricted_services.db.transaction() as session:
        report = session.get(Report, sk.id)
        assert report is not None
        author = operations.Author(1, orgs["network"].id)
        for target in (orgs["goma"], orgs["bukavu"]):
            operations.forward_report(
                session,
                report,
                author,
                to_organisation_id=target.id,
                message="",
                now=FIXED_NOW,
            )
    body = logged_in(restricted, "goma@example.org").get("/dashboard").get_data(as_text=True)
    drawn = body.split('<div class="charts">', 1)[1]
    assert "2 reports" in body and "Nord-Kivu" in drawn and "Sud-Kivu" in drawn


# Exports ---------------------------------------------------------------------------------------


def download(client: FlaskClient, path: str) -> tuple[int, bytes, dict[str, str]]:
    response = client.get(path)
    return response.status_code, response.get_data(), dict(response.headers)


def xlsx_rows(data: bytes) -> list[list[str]]:
    """The sheet's rows as an XLSX reader sees them (cell text by position)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= names
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    ns = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    rows = []
    for row in sheet.iterfind(".//s:row", ns):
        cells: dict[int, str] = {}
        for cell in row.iterfind("s:c", ns):
            letters = "".join(ch for ch in cell.get("r", "") if ch.isalpha())
            index = 0
            for ch in letters:
                index = index * 26 + ord(ch) - 64
            assert cell.get("t") == "inlineStr"  # text, never a formula
            cells[index - 1] = "".join(t.text or "" for t in cell.iterfind(".//s:t", ns))
        rows.append([cells.get(i, "") for i in range(max(cells) + 1)])
    return rows


def records(fmt: str, data: bytes) -> list[dict[str, str]]:
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))
    if fmt == "jsonl":
        return [json.loads(line) for line in data.decode("utf-8").splitlines()]
    header, *rows = xlsx_rows(data)
    return [dict(zip(header, row + [""] * (len(header) - len(row)), strict=True)) for row in rows]


def no_trace_of_reporters(services: Services, data: bytes, reports: dict[str, Report]) -> None:
    text = data.decode("utf-8", errors="replace")
    for report in reports.values():
        assert report.reporter_hash not in text
        assert report.reporter_encrypted[:20] not in text
    for phone in (PHONE, "+243990000001", "812345678", "990000001"):
        assert phone not in text


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_the_full_export_is_the_filtered_inbox_with_reporters_text_inert(
    app: Flask,
    services: Services,
    orgs: dict[str, Organisation],
    reports: dict[str, Report],
    fmt: str,
) -> None:
    client = logged_in(app, "analyst@example.org")
    status, data, headers = download(client, f"/reports/export.{fmt}?province=CD-SK")
    assert status == 200
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["X-Content-Type-Options"] == "nosniff"
    found = records(fmt, data)
    assert [r["reference"] for r in found] == [
        reports["old"].reference,
        reports["hostile"].reference,
    ]
    hostile = found[1]
    assert hostile["category_label"] == "Accident" and hostile["territory"] == "Bukavu"
    if fmt == "jsonl":
        assert hostile["site"] == HOSTILE_SITE  # the data as typed...
        assert b"<script" not in data and b"<img" not in data  # ...and no tag in the file
    else:
        # A spreadsheet shows the formula as text, and the tags as the characters typed.
        assert hostile["details"] == "'" + HOSTILE_DETAILS
        assert hostile["site"] == HOSTILE_SITE
    no_trace_of_reporters(services, data, reports)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_the_public_safe_export(
    app: Flask,
    services: Services,
    orgs: dict[str, Organisation],
    reports: dict[str, Report],
    fmt: str,
) -> None:
    client = logged_in(app, "viewer@example.org")  # anyone who reads reports may have this one
    status, data, _headers = download(client, f"/reports/export.{fmt}?public=1")
    assert status == 200
    found = records(fmt, data)
    # Six months' delay: only the report received 400 days ago is out.
    assert len(found) == 1
    (record,) = found
    assert set(record) == {
        "received_on",
        "category",
        "category_label",
        "subcategory",
        "subcategory_label",
        "province",
        "province_name",
        "territory_pcode",
        "territory",
        "occurred_on",
        "occurred_until",
        "status",
        "verification",
    }
    assert record["received_on"] == (FIXED_NOW - timedelta(days=400)).date().isoformat()
    assert record["territory"] == "Bukavu"
    for report in reports.values():
        assert report.reference.encode() not in data  # no reference to type back on a phone
    assert b"Kamituga" not in data and b"pit collapsed" not in data
    no_trace_of_reporters(services, data, reports)


def test_only_those_who_work_on_reports_get_the_full_export(
    app: Flask, orgs: dict[str, Organisation], reports: dict[str, Report]
) -> None:
    viewer = logged_in(app, "viewer@example.org")
    assert viewer.get("/reports/export.csv").status_code == 403
    assert app.test_client().get("/reports/export.csv").status_code == 302  # to the login page
    assert viewer.get("/reports/export.pdf").status_code == 404


def test_an_export_streams_in_chunks(
    app: Flask, services: Services, orgs: dict[str, Organisation]
) -> None:
    for n in range(300):
        # Text a compressor cannot shrink much: the XLSX's zip must stream too.
        noise = "".join(hashlib.sha256(f"{n}:{i}".encode()).hexdigest() for i in range(30))
        make_report(services, details=f"Rapport {n}: {noise}")
    client = logged_in(app, "analyst@example.org")
    for fmt in ("csv", "xlsx", "jsonl"):
        response = client.get(f"/reports/export.{fmt}", buffered=False)
        assert response.is_streamed
        chunks = list(response.iter_encoded())
        response.close()
        assert len(chunks) > 2, fmt  # not one body built in memory
        assert len(records(fmt, b"".join(chunks))) == 300


# The API ---------------------------------------------------------------------------------------


def token_for(services: Services, organisation: Organisation) -> str:
    token, token_hash, prefix = passwords.new_api_token()
    with services.db.transaction() as session:
        operations.create_api_token(
            session,
            organisation=organisation,
            token_hash=token_hash,
            prefix=prefix,
            now=services.clock.now(),
        )
    return token


def api(client: FlaskClient, path: str, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(path, headers=headers)
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def test_the_api_pages_by_cursor_with_the_inbox_filters(
    client: FlaskClient,
    services: Services,
    orgs: dict[str, Organisation],
    reports: dict[str, Report],
) -> None:
    token = token_for(services, orgs["network"])
    status, body = api(client, "/api/v1/reports?limit=1&sort=received_asc", token)
    assert status == 200 and set(body) == {"items", "next"}
    seen = [body["items"][0]["reference"]]
    while body["next"]:
        status, body = api(
            client, f"/api/v1/reports?limit=1&sort=received_asc&after={body['next']}", token
        )
        seen += [item["reference"] for item in body["items"]]
    heads = [reports[k].reference for k in ("old", "hostile", "roadblock")]
    assert seen == heads  # oldest first, each group once
    status, body = api(client, "/api/v1/reports?category=taxation&channel=sms", token)
    assert [item["reference"] for item in body["items"]] == [reports["roadblock"].reference]
    assert body["next"] is None
    item = body["items"][0]
    assert item["language"] == "sw" and item["territory"] == "Lubero"
    assert "reporter_hash" not in json.dumps(body) and PHONE not in json.dumps(body)
    status, body = api(client, "/api/v1/reports?status=lost&colour=red", token)
    assert status == 400 and set(body["fields"]) == {"status", "colour"}


def test_the_api_applies_the_organisations_visibility(
    backend: Backend, tmp_path: Path, services: Services, orgs: dict[str, Organisation]
) -> None:
    restricted = web_app(backend, tmp_path, visibility="restricted")
    restricted_services: Services = restricted.extensions[EXTENSION_KEY]
    in_goma = make_report(restricted_services, province="CD-NK", territory="CD6105")
    make_report(restricted_services, province="CD-SK")
    client = restricted.test_client()
    status, body = api(client, "/api/v1/reports", token_for(restricted_services, orgs["goma"]))
    assert status == 200
    assert [item["reference"] for item in body["items"]] == [in_goma.reference]


def test_the_api_needs_a_valid_token(
    client: FlaskClient, services: Services, orgs: dict[str, Organisation]
) -> None:
    token = token_for(services, orgs["bukavu"])
    assert api(client, "/api/v1/reports", None)[0] == 401
    assert api(client, "/api/v1/reports", "kuf_not-a-token")[0] == 401
    response = client.get("/api/v1/reports", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    with services.db.transaction() as session:
        found = queries.api_token_by_hash(session, passwords.hash_api_token(token))
        assert found is not None
        operations.revoke_api_token(session, found, services.clock.now())
    assert api(client, "/api/v1/reports", token)[0] == 401
    # A token opens the API only: the pages still want a login.
    response = client.get("/reports", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302


def test_the_openapi_document(client: FlaskClient) -> None:
    status, body = api(client, "/api/v1/openapi.json", None)
    assert status == 200 and body["openapi"].startswith("3.")
    operation = body["paths"]["/api/v1/reports"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"status", "category", "province", "territory", "q", "after", "limit"} <= names
    assert set(operation["responses"]) == {"200", "400", "401"}
    report = body["components"]["schemas"]["Report"]["properties"]
    assert "reference" in report and not any("reporter" in name for name in report)


def test_the_dashboard_counts_again_as_soon_as_anything_changes(
    app: Flask, services: Services, orgs: dict[str, Organisation], reports: dict[str, Report]
) -> None:
    """Counts are kept in Redis for the data they were counted on, and no longer."""
    client = logged_in(app, "coordinator@example.org")

    def statuses() -> str:
        body = client.get(EVERYTHING_URL).get_data(as_text=True)
        return body.split('id="statuses"', 1)[1].split("</figure>", 1)[0]

    assert ">New<" in statuses() and "Being monitored" not in statuses()
    prefix = services.settings.redis_prefix + "dashboard:"
    assert list(services.redis.scan_iter(match=prefix + "*"))  # counted once, kept
    reference = reports["hostile"].reference
    url = f"/reports/{reference}"
    token = csrf_token(client.get(url))
    response = client.post(url + "/status", data={"status": "monitoring", "csrf_token": token})
    assert response.status_code == 302
    assert "Being monitored" in statuses()  # the follow-up changed the data's version
    make_report(services, province="CD-SK")
    body = client.get(EVERYTHING_URL).get_data(as_text=True)
    assert "4 reports" in body  # and so does a new report


def test_the_kept_counts_are_brought_up_to_date_month_by_month(
    app: Flask,
    services: Services,
    orgs: dict[str, Organisation],
    reports: dict[str, Report],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a change only the months it touched are counted again, and the counts are those a
    whole count gives. The roadblock, received at 23:30 UTC on 31 October, is a November report
    in Bukavu: counting November again must find it."""
    with services.db.transaction() as session:
        found = session.get(Report, reports["roadblock"].id)
        assert found is not None
        found.created_at = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    counted: list[list[str] | None] = []
    real = queries.count_months

    def spy(*args: Any, **kwargs: Any) -> Any:
        months = kwargs.get("months")
        counted.append(None if months is None else list(months))
        return real(*args, **kwargs)

    monkeypatch.setattr(queries, "count_months", spy)
    client = logged_in(app, "coordinator@example.org")

    def shown() -> queries.Counts:
        """The counts the page drew from (what counts_for returned), and a whole count's."""
        with app.test_request_context():
            kept = counts_for(EVERYTHING, None)
        with services.db.session() as session:
            whole = real(session, EVERYTHING, None, zone=ZONE, now=services.clock.now())
        assert kept == queries.tally_months(whole).counts()
        return kept

    services.clock.fixed = FIXED_NOW + timedelta(hours=1)  # the reports came an hour ago
    assert shown().by["month"] == [("2025-10", 1), ("2026-11", 2)]
    assert counted == [None]  # the first view counts everything
    shown()
    assert counted == [None]  # nothing changed since: nothing counted
    # A follow-up on the old report: its month only is counted again.
    url = f"/reports/{reports['old'].reference}"
    response = client.post(
        url + "/status", data={"status": "monitoring", "csrf_token": csrf_token(client.get(url))}
    )
    assert response.status_code == 302
    counts = shown()
    assert counted[1:] == [["2025-10"]]
    assert dict(counts.by["status"]) == {"new": 2, "monitoring": 1}
    # A new report and a merge: the months they touched, and the duplicate leaves the counts.
    services.clock.fixed = FIXED_NOW + timedelta(hours=2)
    make_report(services, province="CD-NK", territory="CD6105")
    url = f"/reports/{reports['roadblock'].reference}"
    response = client.post(
        url + "/merge",
        data={"original": reports["old"].reference, "csrf_token": csrf_token(client.get(url))},
    )
    assert response.status_code == 302
    counts = shown()
    assert counted[2:] == [["2025-10", "2026-11"]]
    assert counts.total == 3 and counts.by["month"] == [("2025-10", 1), ("2026-11", 2)]
    assert dict(counts.by["province"]) == {"CD-SK": 2, "CD-NK": 1}


def test_counts_kept_by_someone_else_meanwhile_are_not_overwritten(
    app: Flask, services: Services, reports: dict[str, Report]
) -> None:
    """Two views updating at once: the second to store finds another base and stores nothing,
    so the kept total and the kept months always agree."""
    from web.dashboard.controllers import _store

    with app.test_request_context():
        counts_for(EVERYTHING, None)
        (key,) = services.redis.scan_iter(match=services.settings.redis_prefix + "dashboard:*")
        kept = services.redis.hgetall(key)
        for base in ("", "2020-01-01T00:00:00+00:00"):
            _store(key, base, FIXED_NOW, queries.Tally(), {}, whole=True)
            assert services.redis.hgetall(key) == kept
        at = kept[b"at"]
        assert isinstance(at, bytes)
        _store(key, at.decode(), FIXED_NOW, queries.Tally(), {}, whole=True)
        assert services.redis.hgetall(key) == {
            b"at": FIXED_NOW.isoformat().encode(),
            b"tally": b'{"pairs": [], "months": {}}',
        }


@pytest.mark.parametrize("visibility", ["pooled", "restricted"])
def test_flask_dashboard_warm_counts_ahead_of_every_reader(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, visibility: str
) -> None:
    """After ``flask dashboard warm`` (cron), nobody's unfiltered dashboard counts the whole."""
    app = web_app(backend, tmp_path, visibility=visibility)
    services: Services = app.extensions[EXTENSION_KEY]
    people = People(services)
    goma = people.org("CSO Goma", provinces=["CD-NK"])
    people.user("coordinator@example.org", people.org("Network"), "coordinator")
    people.user("goma@example.org", goma, "analyst")
    make_report(services, province="CD-NK", territory="CD6105")
    make_report(services, province="CD-SK")
    services.clock.fixed = FIXED_NOW + timedelta(hours=1)  # the reports came an hour ago
    result = app.test_cli_runner().invoke(args=["dashboard", "warm"])
    assert result.exit_code == 0, result.output
    counted = {line.split(" (")[0] for line in result.output.splitlines()}
    merged = "kept counts: 4 row(s) merged"  # the two share their category and month rows
    if visibility == "pooled":
        assert counted == {merged, "the whole network: 2 report(s)"}
    else:  # each organisation its own view, even one whose area is everywhere
        assert counted == {
            merged,
            "the whole network: 2 report(s)",
            "CSO Goma: 1 report(s)",
            "Network: 2 report(s)",
        }
    whole: list[bool] = []
    real = queries.count_months

    def spy(*args: Any, **kwargs: Any) -> Any:
        whole.append(kwargs.get("months") is None)
        return real(*args, **kwargs)

    monkeypatch.setattr(queries, "count_months", spy)
    for email in ("coordinator@example.org", "goma@example.org"):
        page = logged_in(app, email).get("/dashboard")
        assert page.status_code == 200
    assert whole == []  # nothing counted at all: nothing changed since the warm-up
    services.close()
