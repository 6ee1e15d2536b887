"""Time per USSD hop in the app, over full report sessions.

Each session is a complete French report through ``POST /ussd/africastalking`` (Flask's test
client: the whole request path without a network). Run on the embedded defaults and, with
DATABASE_URL and REDIS_URL set, on those servers. Figures in ms and as ratios to ``GET /health``
measured in the same run, so runs on different machines compare.

    make bench
    .venv/bin/python bench/ussd_hop.py --sessions 300
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import backends, baseline_ms, bench_app, report

# language, main menu, category, sub-category, province, territory, site, when, details (typed
# straight at "anything to add?", which takes them), confirm
SESSION_INPUTS = ["2", "1", "1", "1", "4", "5", "Kamituga", "1", "Trois blesses", "1"]


def run(label: str, database_url: str, redis_url: str, sessions: int, instance: Path) -> None:
    with bench_app(database_url, redis_url, instance) as app:
        client = app.test_client()
        hops: list[float] = []
        first: list[float] = []
        final: list[float] = []
        baseline: list[float] = []
        for n in range(sessions):
            inputs: list[str] = []
            steps = [None, *SESSION_INPUTS]
            session_id = f"BENCH_{n}_{time.monotonic_ns()}"
            for index, value in enumerate(steps):
                if value is not None:
                    inputs.append(value)
                form = {
                    "sessionId": session_id,
                    "serviceCode": "*384*44135#",
                    "phoneNumber": f"+24381{n:07d}",
                    "networkCode": "63001",
                    "text": "*".join(inputs),
                }
                started = time.perf_counter()
                response = client.post("/ussd/africastalking", data=form)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.data
                hops.append(elapsed)
                if index == 0:
                    first.append(elapsed)
                if index == len(steps) - 1:
                    final.append(elapsed)
                    assert response.get_data(as_text=True).startswith("END Merci"), response.data
                baseline.append(baseline_ms(client))
        report(
            f"USSD, {label}: {sessions} full report sessions, {len(hops)} hops",
            {"every hop": hops, "first hop": first, "submit hop": final},
            baseline,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label, database_url, redis_url in backends(tmp):
            run(label, database_url, redis_url, args.sessions, Path(tmp) / "instance")


if __name__ == "__main__":
    main()
