"""Where a USSD hop's CPU goes, part by part: complete French report sessions called straight
into the WSGI app (as ``hop_profile.py`` does, on PostgreSQL and a redis-server of its own),
with the calling thread's CPU time taken around each of the hop's main functions.

cProfile charges every call its own overhead, which inflates code made of many small calls, and
a sampling profiler counts the waits on sockets; this counts only CPU, and only around the
functions listed in ``PARTS``. Times are inclusive (a part includes the parts it calls) and each
timed call adds about a microsecond of its own. Per hop: the best of ``--rounds`` runs.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/kuf_speed_load \\
        .venv/bin/python bench/hop_breakdown.py
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))
sys.path.insert(0, str(PROJECT / "bench" / "loadtest"))

from hop_profile import bodies, environ, hop_environment  # noqa: E402

# (module, attribute path): the parts timed.
PARTS = [
    ("channels.africastalking.fast", "UssdFastPath.__call__"),
    ("channels.africastalking.fast", "UssdFastPath._fields"),
    ("channels.africastalking.fast", "UssdFastPath._respond"),
    ("channels.ussd", "UssdService.handle"),
    ("channels.ussd", "UssdService._advance"),
    ("channels.ussd", "UssdService._save"),
    ("channels.conversation", "Conversations.caller"),
    ("channels.conversation", "Conversations.context"),
    ("channels.conversation", "Conversations.commit"),
    ("channels.conversation", "Conversations.remembered_language"),
    ("channels.conversation", "Conversations.remember_language"),
    ("channels.conversation", "TurnWrites.record"),
    ("channels.sessions", "UssdSession.from_json"),
    ("channels.sessions", "UssdSession.to_json"),
    ("storage.sessions", "SessionStore.open_turn"),
    ("storage.sessions", "SessionStore.close_turn"),
    ("storage.sessions", "encode"),
    ("storage.sessions", "_readable"),
    ("storage.lean_scripts", "LeanScripts.call"),
    ("storage.lean_scripts", "pack"),
    ("storage.lean_scripts", "_exchange"),
    ("menus.engine", "step"),
    ("menus.engine", "start"),
    ("menus.views", "view"),
]


class FailureCount(logging.Handler):
    """Errors logged while the sessions run: a hop that failed still answers 200 ("service
    unavailable"), so the status alone would not tell."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class Timer:
    def __init__(self) -> None:
        self.cpu: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def around(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        clock = time.thread_time_ns

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return function(*args, **kwargs)
            finally:
                self.cpu[label] += clock() - started
                self.calls[label] += 1

        return timed

    def install(self) -> None:
        for module_name, path in PARTS:
            owner: Any = importlib.import_module(module_name)
            *outer, name = path.split(".")
            for step in outer:
                owner = getattr(owner, step)
            label = f"{module_name}.{path}"
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            if isinstance(original, staticmethod):
                setattr(owner, name, staticmethod(self.around(label, original.__func__)))
            elif isinstance(original, classmethod):
                setattr(owner, name, classmethod(self.around(label, original.__func__)))
            else:
                setattr(owner, name, self.around(label, original))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with hop_environment("breakdown"):
        failures = FailureCount()
        logging.getLogger().addHandler(failures)
        timer = Timer()
        timer.install()  # before the app is made: the fast path keeps bound methods
        from app import create_app

        app = create_app()
        statuses: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            statuses.append(status)

        def call(body: bytes) -> None:
            b"".join(app(environ(body), start_response))

        for body in bodies(20, "warm", args.sessions):
            call(body)
        best: tuple[float, Counter[str], Counter[str], int] | None = None
        for attempt in range(args.rounds):
            timer.cpu.clear()
            timer.calls.clear()
            batch = bodies(args.sessions, f"{time.time()}{attempt}", (attempt + 2) * 10**6)
            started = time.thread_time_ns()
            for body in batch:
                call(body)
            per_hop = (time.thread_time_ns() - started) / len(batch) / 1000
            if best is None or per_hop < best[0]:
                best = (per_hop, Counter(timer.cpu), Counter(timer.calls), len(batch))
        assert best is not None
        per_hop, cpu, calls, hops = best
        bad = [s for s in statuses if not s.startswith("200")]
        print(
            f"CPU per hop, this thread: {per_hop:.1f} µs (best of {args.rounds} x {hops} hops, "
            f"timing included); non-200: {len(bad)}; load average {os.getloadavg()[0]:.2f}"
        )
        if failures.count or bad:
            sys.exit(f"{failures.count} errors logged, {len(bad)} non-200: the figures are void")
        for label, spent in cpu.most_common():
            print(
                f"  {label:58s} {spent / hops / 1000:7.1f} µs/hop  {calls[label] / hops:5.2f} calls"
            )


if __name__ == "__main__":
    main()
