"""The CSO platform's analysis at scale, on PostgreSQL: the dashboard, the streamed exports, and
each page's weight, at a million generated reports (bench/inbox.py builds the database).

    .venv/bin/python bench/analysis.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kuf_bench \
        --reports 1000000            # builds the database (dropped and rebuilt: its name must contain "bench")
    .venv/bin/python bench/analysis.py --database-url ... --reuse   # the one a previous run built

Prints, for whole requests through the app as a logged-in user: the dashboard's p50/p95 (no
filter, one filter, two, restricted visibility): counted whole (the first view of a filter, nothing
kept), after a follow-up on one report (its month counted again, the rest kept in Redis) and with
nothing changed; each export format's rate (reports/s, MB/s) over
every report, with the process's resident memory before, at the first and last tenth of the
stream, and its peak (sampled every 50 ms); and the weight of each page with what it loads.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import inbox
import psutil
from sqlalchemy import create_engine, select, text

from app import create_app
from services import EXTENSION_KEY
from storage import migrate, operations
from storage.models import Report, User


def build_app(url: str, redis_url: str, visibility: str = "pooled") -> Any:
    return create_app(
        {
            "database_url": url,
            "redis_url": redis_url,
            "redis_prefix": "bench-platform:",
            "log_level": "WARNING",
            "SECRET_KEY": "b",
            "PHONE_KEY": "x" * 40,
            "instance_path": tempfile.mkdtemp(),
            "web": {"visibility": visibility},
        }
    )


def logged_in(app: Any, email: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"email": email, "password": inbox.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.status_code
    return client


def dashboard(app: Any, restricted: Any, runs: int) -> list[tuple[str, float, float]]:
    coordinator = logged_in(app, "coord@bench.example")
    analyst = logged_in(restricted, "analyst@bench.example")
    cases = [
        ("dashboard: no filter", coordinator, "/dashboard"),
        ("dashboard: status = new", coordinator, "/dashboard?status=new"),
        (
            "dashboard: province + category",
            coordinator,
            "/dashboard?province=CD-SK&category=labour",
        ),
        ("dashboard: one CSO (restricted)", analyst, "/dashboard"),
    ]

    def forget() -> None:
        # Each app may have a Redis of its own (the embedded one): clear both.
        for each in (app, restricted):
            services = each.extensions[EXTENSION_KEY]
            pattern = services.settings.redis_prefix + "dashboard:*"
            for key in services.redis.scan_iter(match=pattern):
                services.redis.delete(key)

    results: dict[str, tuple[float, float]] = {}
    for name, client, url in cases:

        def call(client: Any = client, url: str = url) -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        def cold(client: Any = client, url: str = url) -> None:
            forget()  # nothing kept: the first view of this filter
            call(client, url)

        call()  # templates compiled, the index's pages read once
        results[name + " (counted whole)"] = inbox.timed(cold, runs)
        call()  # counted and kept
        results[name + " (nothing changed)"] = inbox.timed(call, runs)
    # Then one follow-up before each view, on a report of the last three months (where the
    # work is): the months changed in the last two minutes are counted again at each view.
    newest = max_report_id(app)
    for name, client, url in cases:
        client.get(url)  # counted and kept again (each case's whole count forgot the others')
        samples = []
        for _ in range(runs):
            change(app, random.randint(newest - 25_000, newest))  # not timed
            began = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - began) * 1000)
        samples.sort()
        results[name + " (after a change)"] = (
            statistics.median(samples),
            samples[round(0.95 * (runs - 1))],
        )
    return [(name, p50, p95) for name, (p50, p95) in sorted(results.items())]


def max_report_id(app: Any) -> int:
    services = app.extensions[EXTENSION_KEY]
    with services.db.session() as session:
        return int(session.scalar(text("SELECT max(id) FROM reports")) or 0)


def change(app: Any, report_id: int) -> None:
    """A follow-up action recorded on one report, as the report page does: its month is counted
    again at the next view."""
    services = app.extensions[EXTENSION_KEY]
    with services.db.transaction() as session:
        report = session.scalars(select(Report).where(Report.id == report_id).limit(1)).first()
        user = session.scalars(select(User).where(User.role == "coordinator").limit(1)).one()
        if report is None:
            return
        now = services.clock.now()
        operations.record_action(
            session,
            report,
            operations.Author(user.id, user.organisation_id),
            action_type="dialogue",
            action_date=now.date(),
            notes="bench",
            now=now,
        )


class MemoryWatch:
    """This process's resident memory, sampled every 50 ms while an export streams."""

    def __init__(self) -> None:
        self.process = psutil.Process(os.getpid())
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        return int(self.process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(0.05)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def export(app: Any, fmt: str, total: int) -> dict[str, float]:
    client = logged_in(app, "coord@bench.example")
    watch = MemoryWatch()
    before = watch.rss()
    size = 0
    chunks = 0
    early = late = 0
    with watch:
        started = time.perf_counter()
        response = client.get(f"/reports/export.{fmt}", buffered=False)
        first = time.perf_counter() - started
        estimated = total * {"csv": 330, "jsonl": 520, "xlsx": 150}[fmt]
        for chunk in response.iter_encoded():
            size += len(chunk)
            chunks += 1
            if not early and size > estimated * 0.1:
                early = watch.rss()
            if size > estimated * 0.9:
                late = watch.rss()
        response.close()
        seconds = time.perf_counter() - started
    mb = 1024 * 1024
    return {
        "seconds": seconds,
        "first_chunk_ms": first * 1000,
        "reports_per_s": total / seconds,
        "mb_per_s": size / mb / seconds,
        "size_mb": size / mb,
        "rss_before_mb": before / mb,
        "rss_early_mb": (early or before) / mb,
        "rss_late_mb": (late or before) / mb,
        "rss_peak_mb": watch.peak / mb,
    }


def weights(app: Any) -> dict[str, int]:
    """Bytes of each page and of everything it loads (the stylesheet: no script, image or font)."""
    client = logged_in(app, "coord@bench.example")
    css = len(client.get("/assets/app.css").get_data())
    with app.app_context():
        services = app.extensions[EXTENSION_KEY]
        with services.db.session() as session:
            reference = session.execute(text("SELECT reference FROM reports LIMIT 1")).scalar()
    pages = [
        "/login",
        "/reports",
        "/reports?category=accident&province=CD-SK&status=new",
        f"/reports/{reference}",
        "/dashboard",
        "/dashboard?province=CD-SK",
        "/account",
        "/account/notifications",
        "/admin/organisations",
    ]
    found = {}
    for path in pages:
        client_for = app.test_client() if path == "/login" else client
        response = client_for.get(path)
        assert response.status_code == 200, (path, response.status_code)
        found[path] = len(response.get_data()) + css
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10, help="requests timed per dashboard case")
    parser.add_argument("--formats", default="csv,xlsx,jsonl", help="empty: no export")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--reuse", action="store_true", help="the database a previous run built")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        sys.exit("the bench needs PostgreSQL (--database-url postgresql+psycopg://...)")
    if args.reuse:
        # A database built before the latest migrations: bring its schema up first.
        migrate.upgrade(args.database_url)
    else:
        inbox.reset(args.database_url)
        loaded = inbox.load(args.database_url, args.reports, args.seed)
        print(
            f"{args.reports} reports: COPY {loaded['load_seconds']} s, indexes {loaded['index_seconds']} s"
        )
    engine = create_engine(args.database_url)
    with engine.connect() as conn:
        total = conn.execute(
            text("SELECT count(*) FROM reports WHERE duplicate_of_id IS NULL")
        ).scalar_one()
    engine.dispose()
    print(f"{total} reports listed (each duplicate group once); load average {os.getloadavg()}")
    app = build_app(args.database_url, args.redis_url)
    restricted = build_app(args.database_url, args.redis_url, "restricted")
    print(f"\n{'case':<40} {'p50 ms':>8} {'p95 ms':>8}   ({args.runs} requests each)")
    for name, p50, p95 in dashboard(app, restricted, args.runs):
        print(f"{name:<40} {p50:>8.1f} {p95:>8.1f}")
    print("\nexports of every report, streamed:")
    for fmt in [f for f in args.formats.split(",") if f]:
        figures = export(app, fmt, total)
        print(
            f"  {fmt:<5} {figures['seconds']:7.1f} s  {figures['reports_per_s']:8.0f} reports/s"
            f"  {figures['mb_per_s']:5.1f} MB/s  {figures['size_mb']:7.1f} MB"
            f"  first chunk {figures['first_chunk_ms']:6.0f} ms"
            f"  RSS before {figures['rss_before_mb']:.0f} MB, at 10% {figures['rss_early_mb']:.0f},"
            f" at 90% {figures['rss_late_mb']:.0f}, peak {figures['rss_peak_mb']:.0f} MB"
        )
    print("\npage weight with everything it loads (HTML + stylesheet):")
    for path, size in weights(app).items():
        print(f"  {size / 1024:7.1f} KB  {path}")
    for each in (app, restricted):
        each.extensions[EXTENSION_KEY].close()


if __name__ == "__main__":
    main()
