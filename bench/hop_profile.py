"""Where a USSD hop's time goes: complete French report sessions called straight into the WSGI
app (no HTTP server, no test client), on PostgreSQL and a Redis server of its own, under
cProfile; prints the functions with the most time of their own and the most time under them.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/kuf_speed_load \\
        .venv/bin/python bench/hop_profile.py --sessions 300
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench" / "loadtest"))

from run import PHONE_KEY, prepare_database  # noqa: E402

from tests.infra.redis_server import RedisServer  # noqa: E402

ANSWERS = ["2", "1", "1", "1", "4", "5", "Kamituga", "1", "Trois blesses", "1"]


def environ(body: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/ussd/africastalking",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def bodies(sessions: int, run: str, first: int = 0) -> list[bytes]:
    out = []
    for n in range(first, first + sessions):
        for hop in range(len(ANSWERS) + 1):
            form = {
                "sessionId": f"PROF_{run}_{n}",
                "serviceCode": "*384*44135#",
                "phoneNumber": f"+24381{n:07d}",  # a new reporter each session
                "networkCode": "63001",
                "text": "*".join(ANSWERS[:hop]),
            }
            out.append(urlencode(form).encode())
    return out


@contextmanager
def hop_environment(secret: str) -> Iterator[RedisServer]:
    """A redis-server of its own and ``BENCH_DATABASE_URL`` reset, in the environment the app
    reads when it is made: for the length of the block."""
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kuf_loadtest"
    )
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp) / "redis") as server:
        prepare_database(database_url)
        os.environ.update(
            DATABASE_URL=database_url,
            REDIS_URL=server.url(0),
            SECRET_KEY=secret,
            PHONE_KEY=PHONE_KEY,
            KUFATILIA__LOG_LEVEL="WARNING",
            KUFATILIA__INSTANCE_PATH=str(Path(tmp) / "instance"),
        )
        yield server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--dump", help="also write the raw profile here (for pstats)")
    parser.add_argument(
        "--minimal",
        action="store_true",
        help="the minimal hop (bench/loadtest/minimal.py) instead of the service, for comparison",
    )
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="only the CPU time per hop, without cProfile's own cost (best of --rounds runs)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with hop_environment("profile") as server:
        if args.minimal:
            os.environ["MINIMAL_REDIS_URL"] = server.url(1)
            from minimal import create_app as create_minimal

            app = create_minimal()
        else:
            from app import create_app

            app = create_app()
        statuses: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            statuses.append(status)
            return None

        def call(body: bytes) -> bytes:
            return b"".join(app(environ(body), start_response))

        for body in bodies(20, "warm", args.sessions):
            call(body)
        requests = bodies(args.sessions, str(int(time.time())))
        if args.no_profile:
            runs = []
            for attempt in range(args.rounds):
                batch = bodies(args.sessions, f"{time.time()}{attempt}", (attempt + 2) * 10**6)
                started = time.process_time()
                for body in batch:
                    call(body)
                runs.append((time.process_time() - started) / len(batch) * 1000)
            bad = [s for s in statuses if not s.startswith("200")]
            print(
                f"CPU per hop (this process; best of {args.rounds} x {len(batch)} hops): "
                f"{min(runs):.3f} ms "
                f"({', '.join(f'{r:.3f}' for r in runs)}); non-200: {len(bad)}; "
                f"load average {os.getloadavg()[0]:.2f}"
            )
            return
        # CPU time of this process: what a hop costs the worker, not the waits for Redis and
        # PostgreSQL, which on a shared machine are mostly waits for a core.
        profile = cProfile.Profile(time.process_time)
        started = time.process_time()
        profile.enable()
        for body in requests:
            call(body)
        profile.disable()
        elapsed = time.process_time() - started
        bad = [s for s in statuses if not s.startswith("200")]
        print(
            f"{len(requests)} hops in {elapsed:.2f} s of CPU under cProfile: "
            f"{elapsed / len(requests) * 1000:.3f} ms per hop; non-200: {len(bad)}; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        if args.dump:
            profile.dump_stats(args.dump)
        for order in ("tottime", "cumulative"):
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats(order).print_stats(args.top)
            print(text.getvalue())


if __name__ == "__main__":
    main()
