"""The counts the database keeps for the unfiltered dashboard (``dashboard_counts``, written by
triggers on ``reports``): after every kind of write they are what counting the reports from
scratch gives, by key and as the page shows them, in any time zone; compaction changes no count,
even beside a writer; the migration fills them for the reports already stored."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from services import EXTENSION_KEY, Services
from storage import migrate, operations, queries
from storage.models import DashboardCount, Report
from web.dashboard import controllers

from .conftest import FIXED_NOW, Backend, require_servers
from .infra.scratch_database import scratch_database
from .web_support import People, login, make_report, web_app

ZONES = ("Africa/Lubumbashi", "Africa/Kinshasa", "UTC", "America/Bogota")
KEY = (
    "grp",
    "category",
    "subcategory",
    "province",
    "territory",
    "status",
    "verification",
    "channel",
    "language",
)


def expected(reports: list[Report], layout: str = "by status") -> dict[tuple[Any, ...], int]:
    """The kept rows' sums as they must be, worked out here from the reports themselves: the
    small dimensions with each other group over all time, and alone by UTC month (``"first"``:
    migration a5d2e8c4f1b7's layout, every group by month)."""
    found: dict[tuple[Any, ...], int] = {}
    for r in reports:
        if r.duplicate_of_id is not None:
            continue
        month = r.created_at.astimezone(UTC).strftime("%Y-%m")
        small = (r.status, r.verification, r.channel, r.language)
        if layout == "first":
            keys = [
                (month, 0, r.category or "", r.subcategory or "", "", "", "", "", "", ""),
                (month, 1, "", "", r.province_iso or "", r.territory_pcode or "", "", "", "", ""),
                (month, 2, "", "", "", "", *small),
            ]
        else:
            keys = [
                ("", 0, r.category or "", r.subcategory or "", "", "", *small),
                ("", 1, "", "", r.province_iso or "", r.territory_pcode or "", *small),
                (month, 2, "", "", "", "", *small),
            ]
        for key in keys:
            found[key] = found.get(key, 0) + 1
    return found


# Filters the kept counts answer, each compared with a count from scratch.
SMALL_FILTERS = (
    queries.InboxFilter(),
    queries.InboxFilter(status="new"),
    queries.InboxFilter(status="closed"),
    queries.InboxFilter(verification="verified"),
    queries.InboxFilter(channel="sms", language="sw"),
    queries.InboxFilter(status="monitoring", verification="unverified", channel="ussd"),
)


def kept(session: Session) -> dict[tuple[Any, ...], int]:
    columns = [DashboardCount.month, *[getattr(DashboardCount, k) for k in KEY]]
    rows = session.execute(
        select(*columns, func.sum(DashboardCount.n))
        .group_by(*columns)
        .having(func.sum(DashboardCount.n) != 0)
    )
    return {tuple(row[:-1]): int(row[-1]) for row in rows}


def assert_exact(services: Services) -> None:
    """The kept rows, and the page's counts in several zones, against counts from scratch."""
    now = services.clock.now()
    with services.db.session() as session:
        reports = list(session.scalars(select(Report)))
        assert kept(session) == expected(reports)
        for zone in ZONES:
            for f in SMALL_FILTERS:
                assert queries.kept_counts_answer(f, None)
                whole = queries.dashboard_counts(session, f, None, zone=zone, now=now)
                kept_view = queries.kept_counts(session, f, zone=zone, now=now).counts()
                assert kept_view == whole, (zone, f)


@pytest.fixture
def author(services: Services) -> operations.Author:
    people = People(services)
    network = people.org("Network")
    user = people.user("coordinator@example.org", network, "coordinator")
    return operations.Author(user.id, network.id)


def _get(session: Session, report: Report) -> Report:
    found = session.get(Report, report.id)
    assert found is not None
    return found


def test_the_kept_counts_are_a_count_from_scratch_after_every_kind_of_write(
    services: Services, author: operations.Author
) -> None:
    assert_exact(services)  # nothing stored, nothing kept
    # The intake: a full report, one by SMS in Swahili elsewhere, one in the reporter's own words
    # (no category, no place), one without territoire.
    a = make_report(services)
    b = make_report(
        services,
        channel="sms",
        language="sw",
        category="taxation",
        subcategory="taxation.roadblock",
        province="CD-NK",
        territory="CD6105",
    )
    c = make_report(services, category=None, subcategory=None, province=None, territory=None)
    d = make_report(services, territory=None)
    assert_exact(services)
    now = services.clock.now()
    with services.db.transaction() as session:  # corrections: category, then the place
        operations.correct_report(
            session,
            _get(session, c),
            author,
            values={"category": "violence", "subcategory": "violence.attack"},
            reason="read the details",
            now=now,
        )
    assert_exact(services)
    with services.db.transaction() as session:
        operations.correct_report(
            session,
            _get(session, a),
            author,
            values={"province_iso": "CD-NK", "territory_pcode": ""},
            reason="phoned back",
            now=now,
        )
    assert_exact(services)
    with services.db.transaction() as session:  # verification, status, an action
        operations.verify_report(
            session, _get(session, b), author, verification="verified", note="", now=now
        )
        operations.change_status(session, _get(session, b), author, status="monitoring", now=now)
        operations.record_action(
            session,
            _get(session, b),
            author,
            action_type="dialogue",
            action_date=now.date(),
            notes="",
            now=now,
        )
    assert_exact(services)
    with services.db.transaction() as session:  # assignment: counted nowhere, changes nothing
        partner = operations.create_organisation(session, name="Partner", now=now)
        operations.forward_report(
            session, _get(session, d), author, to_organisation_id=partner.id, message="", now=now
        )
    assert_exact(services)
    # Merges: d into a; then a (now a group's head) into b, so d follows a into b's group.
    with services.db.transaction() as session:
        operations.mark_duplicate(
            session, _get(session, d), _get(session, a), author, note="", now=now
        )
    assert_exact(services)
    with services.db.transaction() as session:
        operations.mark_duplicate(
            session, _get(session, a), _get(session, b), author, note="", now=now
        )
        assert _get(session, d).duplicate_of_id == b.id
    assert_exact(services)
    # Writes outside the operations: a report received in another month (and across the zone's
    # month boundary), a bulk UPDATE, a duplicate made a head again, a DELETE.
    with services.db.transaction() as session:
        _get(session, c).created_at = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
        _get(session, b).created_at = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
    assert_exact(services)
    with services.db.transaction() as session:
        session.execute(update(Report).where(Report.status == "new").values(status="closed"))
    assert_exact(services)
    with services.db.transaction() as session:
        session.execute(update(Report).where(Report.id == a.id).values(duplicate_of_id=None))
    assert_exact(services)
    e = make_report(services)
    with services.db.transaction() as session:
        session.execute(delete(Report).where(Report.id == e.id))
    assert_exact(services)
    with services.db.session() as session:
        assert queries.kept_counts(session, zone="UTC", now=now).counts().total == 3  # a, b, c


def test_the_months_are_the_deployments_months(services: Services) -> None:
    """The table counts by UTC month; the page by the zone's. 23:30 UTC on 31 October is
    November in Bukavu and Kinshasa; 02:00 UTC on 1 November is still October in Bogota."""
    late, early = make_report(services), make_report(services)
    with services.db.transaction() as session:
        _get(session, late).created_at = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
        _get(session, early).created_at = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    now = services.clock.now()
    with services.db.session() as session:

        def months(zone: str) -> list[tuple[str | None, int]]:
            return queries.kept_counts(session, zone=zone, now=now).counts().by["month"]

        assert months("Africa/Lubumbashi") == [("2026-11", 2)]
        assert months("UTC") == [("2026-10", 1), ("2026-11", 1)]
        assert months("America/Bogota") == [("2026-10", 2)]
    assert_exact(services)


def test_compaction_merges_rows_and_changes_no_count(
    services: Services, author: operations.Author
) -> None:
    reports = [make_report(services) for _ in range(4)]
    now = services.clock.now()
    for status in ("monitoring", "resolved", "monitoring"):
        with services.db.transaction() as session:
            for report in reports:
                operations.change_status(
                    session, _get(session, report), author, status=status, now=now
                )
    with services.db.session() as session:
        # 12 rows at intake (3 keys), then each status change 6 rows per report (-1 for the old
        # status, +1 for the new, in each group): 84 rows, all read by the unfiltered view.
        rows = session.scalar(select(func.count()).select_from(DashboardCount))
        assert rows == queries.kept_counts(session, zone="UTC", now=now).rows == 84
    with services.db.transaction() as session:
        assert operations.compact_dashboard_counts(session) == 84
    with services.db.session() as session:
        # The "new" and "resolved" keys add up to 0 and are gone: one row per key left.
        assert session.scalar(select(func.count()).select_from(DashboardCount)) == 3
        assert len(kept(session)) == 3
    assert_exact(services)
    with services.db.transaction() as session:  # nothing left to merge
        assert operations.compact_dashboard_counts(session) == 0


def test_the_dashboard_page_reads_the_kept_counts_and_compacts_them(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unfiltered page, and one filtered by status, count no report (``count_months`` is
    never called), show what a count from scratch shows, and merge the kept rows past
    ``KEPT_ROWS``."""
    app: Flask = web_app(backend, tmp_path)
    services: Services = app.extensions[EXTENSION_KEY]
    people = People(services)
    network = people.org("Network")
    user = people.user("coordinator@example.org", network, "coordinator")
    author = operations.Author(user.id, network.id)
    for province in ("CD-SK", "CD-SK", "CD-NK"):
        make_report(services, province=province)
    with services.db.transaction() as session:
        report = session.scalars(select(Report).limit(1)).one()
        operations.change_status(session, report, author, status="monitoring", now=FIXED_NOW)

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the unfiltered dashboard counted the reports")

    monkeypatch.setattr(queries, "count_months", refused)
    monkeypatch.setattr(controllers, "KEPT_ROWS", 1)
    client = app.test_client()
    assert login(client, "coordinator@example.org").status_code == 302
    body = client.get("/dashboard").get_data(as_text=True)
    assert "3 reports" in body
    drawn = body.split('id="statuses"', 1)[1].split("</figure>", 1)[0]
    assert ">New<" in drawn and "Being monitored" in drawn
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(DashboardCount)) == len(
            kept(session)
        )
    assert_exact(services)
    # Filtered by status (the small dimensions): still no report counted.
    body = client.get("/dashboard?status=new").get_data(as_text=True)
    assert "2 reports" in body
    drawn = body.split('id="provinces"', 1)[1].split("</figure>", 1)[0]
    assert "Sud-Kivu" in drawn and "Nord-Kivu" in drawn
    assert not list(services.redis.scan_iter(match=services.settings.redis_prefix + "dashboard:*"))


def test_a_compaction_beside_an_open_write_loses_nothing(
    backend: Backend, services: Services, author: operations.Author
) -> None:
    """A report stored in a transaction still open while another compacts: its rows are not
    the compaction's to take, and stay counted once it commits (PostgreSQL: SQLite has one
    writer at a time)."""
    if backend.name != "servers":
        pytest.skip("SQLite lets one transaction write at a time")
    first = make_report(services)
    with services.db.transaction() as session:
        operations.change_status(
            session, _get(session, first), author, status="monitoring", now=FIXED_NOW
        )
    stored = threading.Event()
    compacted = threading.Event()

    def writer() -> None:
        with services.db.transaction() as session:
            make = operations.Submission(
                language="fr",
                tree_id="incident",
                tree_version=1,
                answers={},
                channel="ussd",
                gateway="africastalking",
                conversation_key="beside:1",
                network_code=None,
            )
            operations.create_report(
                session,
                make,
                phone="+243812345678",
                vault=services.vault,
                now=FIXED_NOW,
                local_today=FIXED_NOW.date(),
                new_reference=services.new_reference,
            )
            report = _get(session, first)
            operations.change_status(session, report, author, status="resolved", now=FIXED_NOW)
            stored.set()
            assert compacted.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    assert stored.wait(30)
    try:
        with services.db.transaction() as session:
            operations.compact_dashboard_counts(session)
    finally:
        compacted.set()
        thread.join(30)
    assert_exact(services)
    with services.db.transaction() as session:
        operations.compact_dashboard_counts(session)
    assert_exact(services)
    with services.db.session() as session:
        assert dict(
            queries.kept_counts(session, zone="UTC", now=FIXED_NOW).counts().by["status"]
        ) == {"resolved": 1, "new": 1}


def test_truncate_empties_the_kept_counts(backend: Backend, services: Services) -> None:
    if backend.name != "servers":
        pytest.skip("SQLite has no TRUNCATE")
    make_report(services)
    with services.db.transaction() as session:
        session.execute(text("TRUNCATE reports CASCADE"))
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(DashboardCount)) == 0


def test_the_migration_counts_the_reports_already_stored(postgres_or_sqlite_scratch: str) -> None:
    url = postgres_or_sqlite_scratch
    migrate.upgrade(url, "f3a7c1e5b9d2")  # the revision before the kept counts
    engine = create_engine(url)
    rows = [
        # (created_at, category, subcategory, province, territory, status, channel, language, dup)
        (
            datetime(2026, 10, 31, 23, 30),
            "accident",
            "accident.collapse",
            "CD-SK",
            "CD6201",
            "new",
            "ussd",
            "fr",
            None,
        ),
        (datetime(2026, 11, 2, 8, 0), None, None, None, None, "monitoring", "sms", "sw", None),
        (datetime(2025, 1, 5, 8, 0), "taxation", None, "CD-NK", None, "closed", "sms", "en", None),
        (
            datetime(2026, 11, 3, 8, 0),
            "accident",
            "accident.collapse",
            "CD-SK",
            "CD6201",
            "closed",
            "ussd",
            "fr",
            1,
        ),
    ]
    try:
        with engine.begin() as conn:
            for n, (at, cat, sub, prov, terr, status, channel, lang, dup) in enumerate(rows, 1):
                conn.execute(
                    text(
                        "INSERT INTO reports (id, reference, created_at, channel, gateway, "
                        "conversation_key, language, tree_id, tree_version, category, subcategory, "
                        "province_iso, territory_pcode, answers, status, reporter_hash, "
                        "reporter_encrypted, verification, duplicate_of_id) VALUES (:id, :ref, :at, "
                        ":channel, 'g', :key, :lang, 't', 1, :cat, :sub, :prov, :terr, '{}', :status, "
                        "'h', 'e', 'unverified', :dup)"
                    ),
                    {
                        "id": n,
                        "ref": f"{n:07d}",
                        "at": at if url.startswith("sqlite") else at.replace(tzinfo=UTC),
                        "channel": channel,
                        "key": f"k{n}",
                        "lang": lang,
                        "cat": cat,
                        "sub": sub,
                        "prov": prov,
                        "terr": terr,
                        "status": status,
                        "dup": dup,
                    },
                )
        migrate.upgrade(url)
        with Session(engine) as session:
            reports = list(session.scalars(select(Report)))
            assert len(reports) == 4
            assert kept(session) == expected(reports)
            months = queries.kept_counts(session, zone="Africa/Lubumbashi", now=FIXED_NOW)
            assert months.counts().by["month"] == [("2025-01", 1), ("2026-11", 2)]
        migrate.downgrade(url, "a5d2e8c4f1b7")  # back to every group by month
        with Session(engine) as session:
            assert kept(session) == expected(reports, "first")
        migrate.upgrade(url)
        with Session(engine) as session:
            assert kept(session) == expected(reports)
    finally:
        engine.dispose()


@pytest.fixture
def postgres_or_sqlite_scratch(backend: Backend, tmp_path: Path) -> Any:
    """An empty database of the backend's kind, of this test's own."""
    if backend.name != "servers":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    database_url, _ = require_servers()
    with scratch_database(database_url, "kuf_counts") as url:
        yield url
