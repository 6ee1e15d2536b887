"""What the benchmarks share: an app on a given backend, a baseline, and the figures."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from services import EXTENSION_KEY
from storage import migrate

PHONE_KEY = "bench-phone-key-0123456789-abcdefghijkl"


def backends(tmp: str) -> list[tuple[str, str, str]]:
    """(label, database URL, Redis URL): the embedded defaults, and the servers when configured."""
    found = [("embedded (SQLite + embedded Redis)", f"sqlite:///{tmp}/bench.db", "")]
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        found.append(
            ("servers (PostgreSQL + Redis)", os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
        )
    else:
        print("(servers: set DATABASE_URL and REDIS_URL to measure PostgreSQL + Redis too)")
    return found


@contextmanager
def bench_app(database_url: str, redis_url: str, instance: Path) -> Iterator[Flask]:
    migrate.upgrade(database_url)
    prefix = f"bench:{os.getpid()}:"
    app = create_app(
        {
            "instance_path": str(instance),
            "database_url": database_url,
            "redis_url": redis_url,
            "redis_prefix": prefix,
            "log_level": "WARNING",
            "SECRET_KEY": "bench",
            "PHONE_KEY": PHONE_KEY,
        }
    )
    try:
        yield app
    finally:
        services = app.extensions[EXTENSION_KEY]
        for key in services.redis.scan_iter(match=prefix + "*"):
            services.redis.delete(key)
        services.close()


def baseline_ms(client: FlaskClient) -> float:
    """Flask's own floor for one request through the same client: GET /health."""
    started = time.perf_counter()
    client.get("/health")
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def report(title: str, groups: dict[str, list[float]], baseline: list[float]) -> dict[str, Any]:
    base = statistics.median(baseline)
    print(f"\n{title}")
    print(f"  baseline GET /health      median {base:7.3f} ms")
    figures: dict[str, Any] = {"baseline_ms": base}
    for name, values in groups.items():
        rows = {
            "median": statistics.median(values),
            "p90": percentile(values, 0.90),
            "p99": percentile(values, 0.99),
            "max": max(values),
        }
        for stat, value in rows.items():
            label = f"{name} {stat}"
            print(f"  {label:25} {value:7.3f} ms = {value / base:6.1f} x baseline")
        figures[name] = rows
    return figures
