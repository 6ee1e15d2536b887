"""What the hop metrics cost per hop: the request counter, the endpoint latency histogram and the
hop histogram by channel and kind (``ops/metrics.py``), as ``_finish`` records them, in one
process and in gunicorn's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``: values in mmap'd
files). prometheus_client picks its value class when imported, so each mode runs in a process of
its own.

    .venv/bin/python bench/hop_metrics.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

ROUNDS = 50_000


def measure(with_hops: bool) -> float:
    """Microseconds per hop for what ``Metrics._finish`` records (without the hop histogram:
    what it recorded before)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry()
    buckets = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
    requests = Counter("r", "r", ["endpoint", "status"], registry=registry)
    latency = Histogram("l", "l", ["endpoint"], buckets=buckets, registry=registry)
    hops = Histogram("h", "h", ["channel", "kind"], buckets=buckets, registry=registry)
    kinds = ["menu", "list", "input", "confirm", "submit", "language"]
    started = time.perf_counter()
    for n in range(ROUNDS):
        requests.labels(endpoint="/ussd/africastalking", status="200").inc()
        latency.labels(endpoint="/ussd/africastalking").observe(0.004)
        if with_hops:
            hops.labels(channel="ussd", kind=kinds[n % 6]).observe(0.004)
    return (time.perf_counter() - started) / ROUNDS * 1e6


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        # Alternated, the best of five each: the machine is shared, and noise only adds time.
        without: list[float] = []
        with_hops: list[float] = []
        for _ in range(5):
            without.append(measure(False))
            with_hops.append(measure(True))
        print(f"{min(without):.2f} {min(with_hops):.2f}")
        return
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for mode, extra in (
            ("one process", {}),
            ("multiprocess", {"PROMETHEUS_MULTIPROC_DIR": directory}),
        ):
            env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
            done = subprocess.run(
                [sys.executable, __file__, "--child"],
                env={**env, **extra},
                capture_output=True,
                text=True,
                check=True,
            )
            before, after = (float(v) for v in done.stdout.split())
            results[mode] = (before, after)
    print(f"hop metrics per hop ({ROUNDS:,} hops; load average {os.getloadavg()[0]:.2f}):")
    for mode, (before, after) in results.items():
        print(
            f"  {mode:14} request counter + endpoint histogram {before:6.2f} µs; "
            f"+ hop histogram {after:6.2f} µs (the hop histogram: {after - before:5.2f} µs)"
        )


if __name__ == "__main__":
    main()
