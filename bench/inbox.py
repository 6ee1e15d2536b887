"""The CSO inbox and report page at scale, on PostgreSQL.

    .venv/bin/python bench/inbox.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kuf_bench \
        --reports 1000000

Builds a database of N generated reports (COPY, indexes built after the load), then times whole
requests through the app (query and rendering, as a logged-in user): the inbox's first page with
no filter, with each single filter, with three combined, a deep page (by cursor), the restricted
visibility of one organisation, and report pages. Prints p50 and p95 per case, in milliseconds.

The database named by --database-url is dropped and rebuilt: its name must contain "bench".
References in generated data are 8 digits (seven-digit references only cover ~900,000 reports).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import create_engine, make_url, text

from app import create_app
from services import EXTENSION_KEY
from storage import migrate, operations
from web import passwords

PASSWORD = "bench password 1"
CATEGORIES = {
    "accident": [
        "accident.collapse",
        "accident.flooding",
        "accident.explosives",
        "accident.injury_death",
    ],
    "violence": [
        "violence.armed_group",
        "violence.attack",
        "violence.security_forces",
        "violence.sexual",
    ],
    "taxation": ["taxation.illegal_tax", "taxation.roadblock", "taxation.extortion"],
    "labour": [
        "labour.child_under_15",
        "labour.child_15_18",
        "labour.forced",
        "labour.pregnant_women",
    ],
    "fraud": ["fraud.smuggling", "fraud.origin", "fraud.bribery"],
    "environment": ["environment.mercury", "environment.water", "environment.land_forest"],
    "conflict": ["conflict.miners", "conflict.community", "conflict.company"],
    "other": [],
}
WORDS = [
    "puits",
    "effondré",
    "creuseurs",
    "blessés",
    "militaires",
    "taxe",
    "barrière",
    "enfants",
    "mercure",
    "rivière",
    "coopérative",
    "police",
    "chef",
    "site",
    "village",
    "nuit",
    "matin",
    "shimo",
    "wachimbaji",
    "askari",
    "kodi",
    "watoto",
    "zebaki",
    "mto",
    "usiku",
    "pit",
    "collapse",
    "miners",
    "soldiers",
    "roadblock",
    "children",
    "water",
    "night",
    "cooperative",
    "injured",
    "dead",
    "gold",
    "coltan",
    "cassitérite",
    "or",
    "dhahabu",
    "armed",
    "group",
    "wanamgambo",
    "attaque",
    "pillage",
]
SITE_STEMS = [
    "Kamituga",
    "Mukungwe",
    "Lugushwa",
    "Misisi",
    "Rubaya",
    "Bisie",
    "Nyabibwe",
    "Luhihi",
    "Kalimbi",
    "Twangiza",
    "Mongbwalu",
    "Iga",
    "Barrière",
    "Kilo",
    "Watsa",
    "Durba",
    "Kolwezi",
    "Kambove",
    "Mwenga",
    "Shabunda",
    "Walikale",
    "Omate",
    "Nzibira",
]
STATUSES = (
    ["new"] * 20 + ["monitoring"] * 30 + ["resolved"] * 30 + ["persistent"] * 10 + ["closed"] * 10
)
VERIFICATIONS = (
    ["unverified"] * 50 + ["verified"] * 35 + ["could_not_verify"] * 10 + ["false_report"] * 5
)
N_ORGS = 22


def places() -> list[tuple[str, str, str, str]]:
    """(province ISO, province p-code, territoire p-code, territoire name) from the public data."""
    import csv

    data = Path(__file__).resolve().parent.parent / "menus" / "data"
    with (data / "provinces.csv").open(encoding="utf-8") as handle:
        province_pcodes = {row["iso"]: row["pcode"] for row in csv.DictReader(handle)}
    with (data / "territories.csv").open(encoding="utf-8") as handle:
        return [
            (row["province_iso"], province_pcodes[row["province_iso"]], row["pcode"], row["name"])
            for row in csv.DictReader(handle)
        ]


def reset(url: str) -> None:
    database = make_url(url).database or ""
    if "bench" not in database:
        sys.exit(f"refusing to rebuild {database!r}: a bench database's name contains 'bench'")
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    migrate.upgrade(url)


def rows(n: int, seed: int, org_ids: list[int]) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    where = places()
    start = datetime(2017, 1, 1, tzinfo=UTC)
    span = (datetime(2026, 11, 1, tzinfo=UTC) - start).total_seconds()
    answers = json.dumps({"category": {"key": "category", "value": "generated"}})
    for i in range(1, n + 1):
        created = start + timedelta(seconds=span * i / n + rng.random())  # ids follow time
        category = rng.choice(list(CATEGORIES))
        subs = CATEGORIES[category]
        province, province_pcode, territory_pcode, territory = rng.choice(where)
        occurred = (
            (created - timedelta(days=rng.randint(0, 7))).date() if rng.random() < 0.95 else None
        )
        status = rng.choice(STATUSES)
        details = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 30)))
        site = f"{rng.choice(SITE_STEMS)} {rng.randint(1, 150)}" if rng.random() < 0.8 else None
        yield (
            i,
            f"{10_000_000 + i:08d}",
            created,
            rng.choice(("ussd", "ussd", "ussd", "sms", "sms")),
            "africastalking",
            f"bench:{i}",
            rng.choice(("sw", "sw", "sw", "fr", "fr", "en")),
            "incident",
            1,
            category,
            rng.choice(subs) if subs else None,
            province,
            province_pcode,
            province,
            territory,
            territory_pcode,
            site,
            occurred,
            details,
            answers,
            "63001",
            status,
            "not_actionable" if status == "closed" else None,
            rng.choice(VERIFICATIONS),
            rng.choice(org_ids) if rng.random() < 0.6 else None,
            f"{rng.getrandbits(256):064x}",
            "generated",
        )


COLUMNS = (
    "id, reference, created_at, channel, gateway, conversation_key, language, tree_id, "
    "tree_version, category, subcategory, province_iso, province_pcode, province_name, territory, "
    "territory_pcode, site, occurred_on, details, answers, network_code, status, closed_reason, "
    "verification, assigned_org_id, reporter_hash, reporter_encrypted"
)


def load(url: str, n: int, seed: int) -> dict[str, Any]:
    """Organisations, users, N reports by COPY (indexes dropped first, rebuilt after), forwards."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    now = datetime.now(UTC)
    app = create_app(
        {
            "database_url": url,
            "log_level": "WARNING",
            "SECRET_KEY": "b",
            "PHONE_KEY": "x" * 40,
            "instance_path": tempfile.mkdtemp(),
        }
    )
    services = app.extensions[EXTENSION_KEY]
    hasher = passwords.hasher(services.settings.web)
    with services.db.transaction() as session:
        network = operations.create_organisation(session, name="Network", now=now)
        orgs = [
            operations.create_organisation(
                session,
                name=f"CSO {i}",
                provinces=[["CD-SK", "CD-NK", "CD-IT", "CD-HU"][i % 4]],
                now=now,
            )
            for i in range(N_ORGS)
        ]
        operations.create_user(
            session,
            email="coord@bench.example",
            password_hash=hasher.hash(PASSWORD),
            organisation=network,
            role="coordinator",
            now=now,
        )
        operations.create_user(
            session,
            email="analyst@bench.example",
            password_hash=hasher.hash(PASSWORD),
            organisation=orgs[1],
            role="analyst",
            now=now,
        )
        org_ids = [o.id for o in orgs]
    services.close()
    started = time.perf_counter()
    with psycopg.connect(plain, autocommit=True) as conn:
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reports' "
            "AND indexname NOT IN ('reports_pkey')"
        ).fetchall()
        constraints = [
            name
            for (name,) in conn.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'reports'::regclass AND contype = 'u'"
            ).fetchall()
        ]
        unique_defs: dict[str, str] = {}
        for name in constraints:
            found = conn.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", (name,)
            ).fetchone()
            assert found is not None
            unique_defs[name] = found[0]
        for name in constraints:
            conn.execute(f'ALTER TABLE reports DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            if name not in constraints:
                conn.execute(f'DROP INDEX IF EXISTS "{name}"')
        with conn.cursor().copy(f"COPY reports ({COLUMNS}) FROM STDIN") as copy:
            for row in rows(n, seed, org_ids):
                copy.write_row(row)
        loaded = time.perf_counter()
        for name, definition in unique_defs.items():
            conn.execute(f'ALTER TABLE reports ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            if name not in constraints:
                conn.execute(definition)
        conn.execute(f"SELECT setval('reports_id_seq', {n})")
        # One report in ten was forwarded once: the restricted visibility's EXISTS has work to do.
        conn.execute(
            "INSERT INTO report_events (report_id, at, kind, target_org_id) "
            "SELECT id, created_at, 'forwarded', assigned_org_id FROM reports "
            "WHERE assigned_org_id IS NOT NULL AND id % 10 = 0"
        )
        # 1% are duplicates of the report before them.
        conn.execute(
            "UPDATE reports SET duplicate_of_id = id - 1, status = 'closed', closed_reason = 'duplicate' "
            "WHERE id % 100 = 0"
        )
        conn.execute("VACUUM ANALYZE")
    return {
        "load_seconds": round(loaded - started, 1),
        "index_seconds": round(time.perf_counter() - loaded, 1),
        "org_ids": org_ids,
    }


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def measure(
    url: str, redis_url: str, n: int, runs: int, org_ids: list[int]
) -> list[tuple[str, float, float]]:
    app = create_app(
        {
            "database_url": url,
            "redis_url": redis_url,
            "redis_prefix": "bench-web:",
            "log_level": "WARNING",
            "SECRET_KEY": "b",
            "PHONE_KEY": "x" * 40,
            "instance_path": tempfile.mkdtemp(),
            "web": {"visibility": "restricted"},
        }
    )
    rng = random.Random(7)
    where = places()
    results: list[tuple[str, float, float]] = []

    def client_for(email: str) -> Any:
        client = app.test_client()
        page = client.get("/login")
        token = (
            page.get_data(as_text=True)
            .split('name="csrf_token" type="hidden" value="')[1]
            .split('"')[0]
        )
        response = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, response.status_code
        return client

    coordinator = client_for("coord@bench.example")
    analyst = client_for("analyst@bench.example")

    def get(client: Any, make_url_: Callable[[], str]) -> Callable[[], Any]:
        def call() -> Any:
            response = client.get(make_url_())
            assert response.status_code == 200, response.status_code
            return response

        return call

    def month() -> str:
        day = date(2017, 1, 1) + timedelta(days=rng.randint(0, 3500))
        return f"{day.isoformat()}&received_to={(day + timedelta(days=30)).isoformat()}"

    def occurred_month() -> str:
        day = date(2017, 1, 1) + timedelta(days=rng.randint(0, 3500))
        return (
            f"occurred_from={day.isoformat()}&occurred_to={(day + timedelta(days=30)).isoformat()}"
        )

    cases: list[tuple[str, Any, Callable[[], str]]] = [
        ("no filter", coordinator, lambda: "/reports"),
        (
            "status",
            coordinator,
            lambda: f"/reports?status={rng.choice(['new', 'persistent', 'closed'])}",
        ),
        (
            "verification",
            coordinator,
            lambda: f"/reports?verification={rng.choice(['verified', 'false_report'])}",
        ),
        ("category", coordinator, lambda: f"/reports?category={rng.choice(list(CATEGORIES))}"),
        (
            "sub-category",
            coordinator,
            lambda: f"/reports?subcategory={rng.choice(CATEGORIES['labour'])}",
        ),
        ("province", coordinator, lambda: f"/reports?province={rng.choice(where)[0]}"),
        ("territoire", coordinator, lambda: f"/reports?territory={rng.choice(where)[2]}"),
        ("site contains", coordinator, lambda: f"/reports?site={rng.choice(SITE_STEMS)[:5]}"),
        ("channel", coordinator, lambda: f"/reports?channel={rng.choice(['sms', 'ussd'])}"),
        ("language", coordinator, lambda: f"/reports?language={rng.choice(['en', 'fr'])}"),
        ("assigned organisation", coordinator, lambda: f"/reports?assigned={rng.choice(org_ids)}"),
        ("occurred (a month)", coordinator, lambda: f"/reports?{occurred_month()}"),
        ("received (a month)", coordinator, lambda: f"/reports?received_from={month()}"),
        ("search in details", coordinator, lambda: f"/reports?q={rng.choice(WORDS)}"),
        (
            "search, two words",
            coordinator,
            lambda: f"/reports?q={rng.choice(WORDS)}+{rng.choice(WORDS)}",
        ),
        (
            "category + province + status",
            coordinator,
            lambda: (
                f"/reports?category={rng.choice(list(CATEGORIES))}&province={rng.choice(where)[0]}&status={rng.choice(['new', 'resolved'])}"
            ),
        ),
        (
            "status + channel + received",
            coordinator,
            lambda: f"/reports?status=new&channel=sms&received_from={month()}",
        ),
        (
            "verification + territoire + search",
            coordinator,
            lambda: (
                f"/reports?verification=verified&territory={rng.choice(where)[2]}&q={rng.choice(WORDS)}"
            ),
        ),
        (
            "sub-category + language + assigned",
            coordinator,
            lambda: (
                f"/reports?subcategory={rng.choice(CATEGORIES['violence'])}&language=fr&assigned={rng.choice(org_ids)}"
            ),
        ),
        ("sorted by incident date", coordinator, lambda: "/reports?sort=occurred_desc"),
        ("restricted visibility (one CSO)", analyst, lambda: "/reports"),
        ("restricted + status", analyst, lambda: "/reports?status=new"),
    ]
    for name, client, make in cases:
        call = get(client, make)
        call()  # warm: the first request of a kind pays for template compilation
        p50, p95 = timed(call, runs)
        results.append((f"inbox: {name}", p50, p95))

    # A deep page: the cursor of page 20, then that page timed.
    url = "/reports"
    for _ in range(20):
        body = coordinator.get(url).get_data(as_text=True)
        url = body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    p50, p95 = timed(get(coordinator, lambda: url), runs)
    results.append(("inbox: page 21 (keyset)", p50, p95))

    p50, p95 = timed(
        get(coordinator, lambda: f"/reports/{10_000_000 + rng.randint(1, n):08d}"), runs
    )
    results.append(("report page", p50, p95))
    app.extensions[EXTENSION_KEY].close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", required=True, help="PostgreSQL; its name must contain 'bench'"
    )
    parser.add_argument("--redis-url", default="", help="default: the embedded Redis")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30, help="requests timed per case")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database built by a previous run"
    )
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        sys.exit("the bench needs PostgreSQL (--database-url postgresql+psycopg://...)")
    if args.reuse:
        # A database built before the latest migrations: bring its schema up first.
        migrate.upgrade(args.database_url)
        engine = create_engine(args.database_url)
        with engine.connect() as conn:
            org_ids = [
                row[0]
                for row in conn.execute(
                    text("SELECT id FROM organisations WHERE name LIKE 'CSO %'")
                )
            ]
            count = conn.execute(text("SELECT max(id) FROM reports")).scalar() or 0
        engine.dispose()
        print(f"reusing {count} reports")
        args.reports = count
    else:
        reset(args.database_url)
        loaded = load(args.database_url, args.reports, args.seed)
        org_ids = loaded["org_ids"]
        print(
            f"{args.reports} reports: COPY {loaded['load_seconds']} s, indexes {loaded['index_seconds']} s"
        )
    results = measure(args.database_url, args.redis_url, args.reports, args.runs, org_ids)
    print(
        f"\n{'case':<48} {'p50 ms':>8} {'p95 ms':>8}   ({args.runs} requests each, whole request: query + page)"
    )
    for name, p50, p95 in results:
        print(f"{name:<48} {p50:>8.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
