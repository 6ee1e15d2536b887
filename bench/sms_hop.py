"""Time per incoming SMS over full report conversations, and outbox dispatch throughput.

Each conversation is a complete Swahili report by SMS through ``POST /sms/africastalking/incoming``
(several answers in one message where a miner would send them). Dispatch is timed with the console
backend, through RQ's SimpleWorker and through the dispatcher alone. Figures in ms and as ratios
to ``GET /health`` measured in the same run.

    make bench
    .venv/bin/python bench/sms_hop.py --conversations 200 --dispatch 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import backends, baseline_ms, bench_app, report

from outbox.dispatch import Dispatcher, enqueue, job_queue, queue_message
from outbox.worker import make_worker
from services import EXTENSION_KEY

REPORT = [
    "RIPOTI",
    "1 1 1",
    "4",
    "5",
    "Kamituga 2 mine ya dhahabu",
    "2",
    "Watu watatu wamekufa, shimo limeporomoka",
    "1",
]


def run(
    label: str, database_url: str, redis_url: str, conversations: int, dispatch: int, instance: Path
) -> None:
    with bench_app(database_url, redis_url, instance) as app:
        services = app.extensions[EXTENSION_KEY]
        client = app.test_client()
        timings: list[float] = []
        baseline: list[float] = []
        run_id = time.monotonic_ns()
        for n in range(conversations):
            for step, text in enumerate(REPORT):
                form = {
                    "from": f"+24382{n:07d}",
                    "to": "21512",
                    "text": text,
                    "id": f"B{run_id}-{n}-{step}",
                    "date": "2026-11-24 09:30:00",
                    "networkCode": "63001",
                }
                started = time.perf_counter()
                response = client.post("/sms/africastalking/incoming", data=form)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.get_data(as_text=True)
                baseline.append(baseline_ms(client))
        report(
            f"SMS, {label}: {conversations} full reports, {len(timings)} incoming messages",
            {"incoming SMS": timings},
            baseline,
        )

        # Dispatch: drop the replies queued above and time a clean batch.
        queue = job_queue(services)
        queue.delete(delete_jobs=True)
        with services.db.transaction() as session:
            ids = [
                queue_message(
                    session,
                    services,
                    idempotency_key=f"bench-{run_id}-{i}",
                    phone="+243812345678",
                    text="Asante! Ripoti imepokelewa. Namba: 3002975.",
                ).id
                for i in range(dispatch)
            ]
        half = dispatch // 2
        enqueue(services, ids[:half])
        started = time.perf_counter()
        with app.app_context():
            make_worker(services).work(burst=True, logging_level="ERROR")
        rq_rate = half / (time.perf_counter() - started)
        dispatcher = Dispatcher(services)
        started = time.perf_counter()
        for message_id in ids[half:]:
            assert dispatcher.deliver(message_id) == "sent"
        direct_rate = (dispatch - half) / (time.perf_counter() - started)
        queue.delete(delete_jobs=True)
        print(
            f"  dispatch (console backend): RQ SimpleWorker {rq_rate:.0f} msg/s over {half}; "
            f"dispatcher alone {direct_rate:.0f} msg/s over {dispatch - half}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--dispatch", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label, database_url, redis_url in backends(tmp):
            run(
                label,
                database_url,
                redis_url,
                args.conversations,
                args.dispatch,
                Path(tmp) / "instance",
            )


if __name__ == "__main__":
    main()
