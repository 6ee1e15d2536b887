"""Is each part the service needs answering? Each check runs with a deadline, so that a hung
database or a frozen Redis makes ``/readyz`` say so in time instead of hanging with it."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from outbox.dispatch import job_queue
from services import Services

# Shared and small on purpose: while a part hangs, its checks pile up here and later ones time
# out at once, rather than each probe leaving one more thread blocked on the same socket.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")
DEADLINE_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    part: str
    ok: bool
    detail: str


def _database(services: Services) -> str:
    with services.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return "ok"


def _redis(services: Services) -> str:
    services.redis.ping()
    return "ok"


def _outbox_queue(services: Services) -> str:
    # Readiness of the web process does not depend on a worker being up (a dead worker must not
    # take every web host out of the balancer); the queue's depth is there for the operator.
    return f"ok ({job_queue(services).count} queued)"


CHECKS: dict[str, Callable[[Services], str]] = {
    "database": _database,
    "redis": _redis,
    "outbox_queue": _outbox_queue,
}


def run_checks(services: Services, deadline: float = DEADLINE_SECONDS) -> list[Check]:
    futures = {part: _POOL.submit(check, services) for part, check in CHECKS.items()}
    done, _ = concurrent.futures.wait(futures.values(), timeout=deadline)
    results = []
    for part, future in futures.items():
        if future not in done:
            future.cancel()
            results.append(Check(part, False, f"no answer within {deadline:g} s"))
            continue
        error = future.exception()
        if error is not None:
            # The class only: a driver's message can carry a host, a user or worse.
            results.append(Check(part, False, f"error: {type(error).__name__}"))
        else:
            results.append(Check(part, True, future.result()))
    return results
