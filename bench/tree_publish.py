"""How long another process takes to serve a newly published tree, and what the "which version is
current" check costs a hop.

A watcher process builds its own app on the same database and Redis and asks for the current
tree in a loop, as a web worker does on every hop; this process publishes new versions and the
watcher reports when it first served each. Then the check's cost: ``trees.current()`` between
checks (a lock and a dictionary lookup) and at a check (one Redis GET; the database only when the
publish counter moved).

    .venv/bin/python bench/tree_publish.py --rounds 10
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import backends, bench_app

from services import EXTENSION_KEY, Services
from storage import operations, queries

TREE = "incident"


def watch(database_url: str, redis_url: str, prefix: str, instance: str) -> None:
    """The other process: print when each new version is first served, until stdin closes (so
    that it ends normally and the embedded Redis it shares is shut down by its last user)."""
    from common import PHONE_KEY

    from app import create_app

    app = create_app(
        {
            "instance_path": instance,
            "database_url": database_url,
            "redis_url": redis_url,
            "redis_prefix": prefix,
            "log_level": "WARNING",
            "SECRET_KEY": "bench",
            "PHONE_KEY": PHONE_KEY,
        }
    )
    services: Services = app.extensions[EXTENSION_KEY]
    trees = services.trees
    stop = threading.Event()

    def stop_at_end_of_input() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=stop_at_end_of_input, daemon=True).start()
    seen = trees.current(TREE).version
    print(f"ready {seen}", flush=True)
    while not stop.is_set():
        version = trees.current(TREE).version
        if version != seen:
            seen = version
            print(f"seen {version} {time.time():.6f}", flush=True)
        time.sleep(0.001)  # a busy worker asks far more often; this only bounds the CPU
    services.close()


def _publish_next(services: Services, round_no: int) -> tuple[int, float]:
    with services.db.session() as session:
        current = queries.published_versions(session)[TREE]
        document = copy.deepcopy(queries.tree_document(session, TREE, current))
    assert document is not None
    main = next(n for n in document["nodes"] if n["id"] == "main")
    main["options"][0]["label"]["fr"] = f"Signaler un incident ({round_no})"
    now = services.clock.now()
    with services.db.transaction() as session:
        version = operations.create_draft(session, document, by="bench", now=now).version
    with services.db.transaction() as session:
        operations.publish_version(session, services.checker, TREE, version, by="bench", now=now)
    committed = time.time()
    services.trees.announce()
    return version, committed


def _check_cost(services: Services) -> tuple[float, float]:
    trees = services.trees
    rounds = 20000
    started = time.perf_counter()
    for _ in range(rounds):
        trees.current(TREE)
    between = (time.perf_counter() - started) / rounds
    saved, trees.check_every = trees.check_every, 0.0  # every call checks the counter
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        trees.current(TREE)
    at_check = (time.perf_counter() - started) / rounds
    trees.check_every = saved
    return between, at_check


def run(label: str, database_url: str, redis_url: str, rounds: int, instance: Path) -> None:
    with bench_app(database_url, redis_url, instance) as app:
        services: Services = app.extensions[EXTENSION_KEY]
        watcher = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--watch",
                database_url,
                redis_url,
                services.sessions.prefix,
                str(instance),  # the same embedded Redis, as `make run` shares it
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert watcher.stdout is not None
        try:
            assert watcher.stdout.readline().startswith("ready")
            delays = []
            for round_no in range(rounds):
                time.sleep(random.uniform(0.2, 1.2))  # publish at any point of its check cycle
                version, committed = _publish_next(services, round_no)
                line = watcher.stdout.readline().split()
                assert line[:2] == ["seen", str(version)], line
                delays.append(float(line[2]) - committed)
        finally:
            assert watcher.stdin is not None
            watcher.stdin.close()
            try:
                watcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                watcher.kill()
                watcher.wait()
        between, at_check = _check_cost(services)
    print(f"\n{label}: another process serves a publish after (s), {rounds} publishes")
    print(
        f"  median {statistics.median(delays):.3f}  max {max(delays):.3f}  "
        f"min {min(delays):.3f}  (check interval {services.trees.check_every} s)"
    )
    print(f"  trees.current() between checks: {between * 1e6:.2f} µs per call")
    print(f"  trees.current() at a check (Redis GET of the counter): {at_check * 1e6:.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--watch", nargs=4, metavar=("DB", "REDIS", "PREFIX", "INSTANCE"))
    args = parser.parse_args()
    if args.watch:
        watch(*args.watch)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for label, database_url, redis_url in backends(tmp):
            run(label, database_url, redis_url, args.rounds, Path(tmp) / label.split()[0])


if __name__ == "__main__":
    main()
