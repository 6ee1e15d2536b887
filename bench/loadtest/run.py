"""The load benchmark (``make loadtest``): this service against the stack it runs on, over HTTP.

In one run, on the same gunicorn settings, PostgreSQL and a Redis server of its own:
1. a bare Flask "hello" and the **minimal hop** (bench/loadtest/minimal.py: parse the form, one
   Redis GET, one Redis SET, a short ``CON``), the ceiling of a stateless Flask + Redis design;
2. this service, complete French report sessions walked hop after hop by wrk (sessions.lua, one
   connection per wrk thread), as hops/s, latency percentiles, the submit hop's p50/p99, and the
   ratio to the minimal hop and to hello;
3. capacity, open loop: reporters who each hop every 5 s, in steps; the largest number served
   with p99 < 100 ms (latency counted from when each hop was due, so a queue is not hidden);
4. flood isolation: reporters walking sessions alone, then again while one number dials new
   sessions as fast as it can (refused by ``rate_limits`` after its first ones): both latencies;
5. Redis memory per live session: ``MEMORY USAGE`` over 1,000 sessions paused mid-report.

It fails loudly (exit 1) if any hop got a non-200, a screen was not ``CON``/``END``, or a session
did not end with its seven-digit reference. Figures depend on the machine and on what else runs:
compare the ratios, which are measured in the same run.

    make loadtest
    LOADTEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/kuf_load \\
        .venv/bin/python bench/loadtest/run.py --duration 20 --capacity 2000,4000,5000,6000
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(PROJECT))

import psutil  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage import migrate  # noqa: E402
from tests.infra.redis_server import RedisServer, free_port  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/kuf_loadtest"
PHONE_KEY = "loadtest-phone-key-0123456789-abcdefghij"
THINK_MS = 5000
HOPS = 11  # a complete report session: the dial and ten answers
CAPACITY_P99_MS = 100.0
# Mid-report for the memory figure: language, report, category, sub-category, province.
PAUSED_AT = ["2", "1", "1", "1", "4"]


class LoadtestFailed(RuntimeError):
    pass


def say(line: str = "") -> None:
    print(line, flush=True)


# Servers -------------------------------------------------------------------------------------


def prepare_database(url: str) -> None:
    """A clean schema of our own, migrated: create the database first if it does not exist."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:<port>
    pid: int  # gunicorn's master


@dataclass(frozen=True)
class Gunicorn:
    workers: int
    worker_class: str
    threads: int

    @contextmanager
    def serve(self, target: str, env: dict[str, str], ready_path: str) -> Iterator[Served]:
        port = free_port()
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers", str(self.workers),
            "--worker-class", self.worker_class,
            "--threads", str(self.threads),
            "--bind", f"127.0.0.1:{port}",
            "--backlog", "4096",
            # Longer than any pause between two hops on one wrk connection: a server that closes
            # an idle connection while wrk waits out a delay makes wrk send two requests at once
            # and pair their answers wrongly (a wrk limitation).
            "--keep-alive", "300",
            "--log-level", "warning",
            "--pythonpath", str(HERE),
            target,
        ]  # fmt: skip
        process = subprocess.Popen(command, cwd=PROJECT, env={**os.environ, **env})
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(base + ready_path, timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise LoadtestFailed(f"gunicorn {target} did not start")
                time.sleep(0.2)
            yield Served(base, process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# CPU per hop, by process -------------------------------------------------------------------


class CpuMeter:
    """CPU seconds the gunicorn workers, our redis-server and the PostgreSQL backends serving our
    database use over a run: on a shared machine the ratio of hops/s moves with what else runs,
    the CPU a hop costs each process much less, and it says which part limits the hops."""

    def __init__(self, served: Served, redis_pid: int, database_url: str) -> None:
        self.served, self.redis_pid = served, redis_pid
        self.database = make_url(database_url).database
        self.admin = create_engine(make_url(database_url).set(database="postgres"))

    def _seconds(self, pids: list[int]) -> float:
        total = 0.0
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def read(self) -> dict[str, float]:
        master = psutil.Process(self.served.pid)
        workers = [self.served.pid] + [p.pid for p in master.children(recursive=True)]
        with self.admin.connect() as conn:
            backends = list(
                conn.scalars(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                    {"name": self.database},
                )
            )
        return {
            "gunicorn": self._seconds(workers),
            "redis": self._seconds([self.redis_pid]),
            "postgres": self._seconds(backends),
        }

    @contextmanager
    def measuring(self, into: dict[str, float]) -> Iterator[None]:
        before = self.read()
        yield
        after = self.read()
        into.update({part: after[part] - before.get(part, 0.0) for part in after})


def cpu_per_hop(used: dict[str, float], hops: int) -> float:
    """µs of CPU per hop, all the measured processes together."""
    return sum(used.values()) / hops * 1e6


def cpu_line(label: str, used: dict[str, float], hops: int) -> str:
    parts = "  ".join(f"{part} {seconds / hops * 1e6:6.0f}" for part, seconds in used.items())
    return f"  {label:22} {parts}  total {cpu_per_hop(used, hops):6.0f} µs of CPU per hop"


# wrk ------------------------------------------------------------------------------------------


def wrk_command(url: str, script: str, seconds: int, threads: int, *args: str) -> list[str]:
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(threads),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
    ]
    return [*command, "-s", str(HERE / script), url, "--", *args]


def wrk(url: str, script: str, seconds: int, threads: int, *args: str) -> dict[str, Any]:
    command = wrk_command(url, script, seconds, threads, *args)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    return figures_of(done.returncode, done.stdout, done.stderr)


def figures_of(returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
    found = re.search(r"^LOADTEST (\{.*\})$", stdout, re.MULTILINE)
    if returncode != 0 or found is None:
        raise LoadtestFailed(f"wrk failed ({returncode}): {stdout}\n{stderr}")
    figures: dict[str, Any] = json.loads(found.group(1))
    figures["rate"] = figures["requests"] / figures["seconds"]
    return figures


def check(label: str, figures: dict[str, Any], *, sessions: bool) -> None:
    problems = []
    if figures["non200"]:
        problems.append(f"{figures['non200']} hops answered non-200")
    if figures["bad"]:
        problems.append(f"{figures['bad']} bad screens or sessions ({figures['first_bad']})")
    if figures["timeouts"]:
        problems.append(f"{figures['timeouts']} requests timed out")
    if sessions and not figures["sessions"]:
        problems.append("no session completed")
    if problems:
        raise LoadtestFailed(f"{label}: " + "; ".join(problems))


def line(label: str, f: dict[str, Any], unit: str = "hops/s") -> str:
    return (
        f"  {label:22} {f['rate']:8.0f} {unit:6}  p50 {f['p50']:6.2f}  p90 {f['p90']:6.2f}  "
        f"p99 {f['p99']:6.2f}  max {f['max']:7.2f} ms"
    )


# Redis memory per session ---------------------------------------------------------------------


def post(base: str, form: dict[str, str]) -> str:
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(base + "/ussd/africastalking", data=data, timeout=10) as answer:
        body: str = answer.read().decode()
        if answer.status != 200 or not body.startswith("CON "):
            raise LoadtestFailed(f"memory step: {answer.status} {body[:80]}")
        return body


def paused_sessions(base: str, count: int) -> None:
    def walk(n: int) -> None:
        inputs: list[str] = []
        form = {
            "sessionId": f"ATUid_mem_{n}",
            "serviceCode": "*384*44135#",
            "phoneNumber": f"+24399{n:07d}",
            "networkCode": "63001",
        }
        post(base, {**form, "text": ""})
        for answer in PAUSED_AT:
            inputs.append(answer)
            post(base, {**form, "text": "*".join(inputs)})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(walk, range(count)))


def memory_per_session(server: RedisServer, count: int) -> dict[str, float]:
    client = server.client()
    by_kind: dict[str, int] = {}
    for key in client.scan_iter(count=1000):
        name = key.decode()
        # kuf:ussd:s:<conversation> -> "ussd:s"; kuf:ussd:resume:<hash> -> "ussd:resume";
        # kuf:lang:<hash> -> "lang" (the phone's cached language) and kuf:rl:<hash> -> "rl"
        # (its rate-limit counters), one each per phone
        parts = name.split(":")
        if parts[1] == "trees":
            continue  # the published trees' cache: one per service, not per session
        kind = parts[1] if parts[1] in ("lang", "rl") else ":".join(parts[1:3])
        by_kind[kind] = by_kind.get(kind, 0) + int(client.memory_usage(key, samples=0) or 0)
    return {kind: total / count for kind, total in sorted(by_kind.items())}


# Flood isolation ------------------------------------------------------------------------------


def flood_isolation(base: str, run: str, seconds: int, walkers: int, flooders: int) -> None:
    """Reporters walking complete sessions (closed loop), alone and then while one number dials
    new sessions on ``flooders`` connections as fast as they are answered."""
    alone = wrk(base, "sessions.lua", seconds, walkers, "service", run + "fa", "40")
    check("walkers alone", alone, sessions=True)
    flood = subprocess.Popen(
        wrk_command(base, "sessions.lua", seconds + 4, flooders, "flood", run + "ff", "41"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)  # the flood is under way, and past its first sessions, before we measure
    beside = wrk(base, "sessions.lua", seconds, walkers, "service", run + "fb", "42")
    out, err = flood.communicate(timeout=seconds + 120)
    flooded = figures_of(flood.returncode, out, err)
    check("walkers beside a flood", beside, sessions=True)
    check("flood", flooded, sessions=True)
    say(
        f"\nflood isolation: {walkers} connections walking sessions; one number dialling on "
        f"{flooders} connections"
    )
    say(line("walkers alone", alone))
    say(line("walkers beside flood", beside))
    say(line("the flooding number", flooded, "req/s"))
    say(
        f"  the flood was refused {flooded['sessions']} times of {flooded['hops']} "
        f"(rate_limits.ussd_sessions_per_hour)"
    )


@dataclass
class Round:
    """One closed-loop round: the minimal hop, then the service right after it."""

    minimal: dict[str, Any]
    service: dict[str, Any]
    minimal_cpu: dict[str, float]
    service_cpu: dict[str, float]

    @property
    def ratio(self) -> float:
        return float(self.service["rate"] / self.minimal["rate"])

    def cpu(self) -> tuple[float, float]:
        """µs of CPU per hop: the minimal hop's, the service's."""
        return (
            cpu_per_hop(self.minimal_cpu, self.minimal["requests"]),
            cpu_per_hop(self.service_cpu, self.service["requests"]),
        )


# A round in which one server's CPU per hop is this far above its median over the rounds was
# disturbed by something else on the machine (seen: the minimal hop at 930-945 µs and half its
# hops/s, against 600-670 in the rounds around it, which made the ratio 1.6-1.7).
DISTURBED = 1.25


def disturbed(rounds: list[Round]) -> dict[int, str]:
    """The rounds to leave out of the median, by index, each with the reason."""
    found: dict[int, str] = {}
    for side, label in ((0, "minimal hop"), (1, "service")):
        costs = [one.cpu()[side] for one in rounds]
        median = statistics.median(costs)
        for n, cost in enumerate(costs):
            if cost > DISTURBED * median:
                found[n] = (
                    f"the {label} at {cost:.0f} µs of CPU per hop, {cost / median:.2f} × its median"
                )
    return found


def closed_loop_round(
    n: int,
    minimal_served: Served,
    served: Served,
    redis_pid: int,
    database_url: str,
    seconds: int,
    threads: int,
    run: str,
) -> Round:
    """Each connection walks complete sessions, its next hop sent as soon as it has the answer;
    the minimal hop first, then the service (new phones each round: no rate limit is reached)."""
    minimal_cpu: dict[str, float] = {}
    service_cpu: dict[str, float] = {}
    with CpuMeter(minimal_served, redis_pid, database_url).measuring(minimal_cpu):
        minimal = wrk(
            minimal_served.base, "sessions.lua", seconds, threads, "minimal", f"{run}m{n}",
            str(60 + n),
        )  # fmt: skip
    check("minimal hop", minimal, sessions=True)
    with CpuMeter(served, redis_pid, database_url).measuring(service_cpu):
        service = wrk(
            served.base, "sessions.lua", seconds, threads, "service", f"{run}s{n}", str(50 + n)
        )
    check("service", service, sessions=True)
    return Round(minimal, service, minimal_cpu, service_cpu)


# The run ------------------------------------------------------------------------------------


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds per closed-loop run")
    parser.add_argument("--threads", type=int, default=8, help="wrk threads = connections")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="closed-loop rounds (minimal hop, then service); the median ratio is reported",
    )
    # Two workers per core, two threads each. A hop waits on Redis and, at the submit, on
    # PostgreSQL's commit reaching the disk: with one single-threaded worker per core a core
    # idles through every such wait (on 2 cores, closed loop: 2 workers served 1,213-1,278
    # hops/s, 4 workers 1,416-1,500, 8 no more). A kept-alive connection stays with the worker
    # that accepted it, so in the open loop one worker may hold more than its share of the
    # reporters: a second thread lets it answer one while another waits (5,000 reporters held
    # with p99 24-57 ms on 4 x 2; on 4 x 1 one run of four fell behind at 5,000). Closed-loop
    # figures are the same on 4 x 1 and 4 x 2. gthread, not sync: a sync worker blocks on a
    # kept-alive connection that has not sent its next request yet, which the open-loop pacing
    # does between every two hops. README, Load benchmark.
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers"
    )
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--worker-threads", type=int, default=2, help="gunicorn --threads")
    parser.add_argument(
        "--capacity",
        default="3000,4000,5000,6000,7000",
        help="open-loop steps (reporters); empty to skip",
    )
    parser.add_argument(
        "--capacity-window",
        type=int,
        default=20,
        help="seconds measured per open-loop step, after a warm-up of one session's length",
    )
    parser.add_argument("--capacity-connections", type=int, default=32)
    parser.add_argument("--memory-sessions", type=int, default=1000)
    parser.add_argument(
        "--flood",
        default="2,6",
        help="flood isolation: walking reporters (connections), flooding connections; empty "
        "to skip",
    )
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        raise LoadtestFailed("wrk is not installed (Debian: apt-get install wrk)")
    database_url = os.environ.get("LOADTEST_DATABASE_URL", DEFAULT_DATABASE)
    server_model = Gunicorn(args.workers, args.worker_class, args.worker_threads)
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=PROJECT
    ).stdout.strip()
    say(f"loadtest at {revision}: {os.cpu_count()} cores, load average {load_average()}")
    say(
        f"gunicorn {args.workers} {args.worker_class} worker(s) x {args.worker_threads} thread(s); "
        f"wrk {args.threads} threads x 1 connection; {args.duration} s per run"
    )

    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp) / "redis") as redis_server:
        prepare_database(database_url)
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server.url(0),
            "MINIMAL_REDIS_URL": redis_server.url(1),
            "SECRET_KEY": "loadtest",
            "PHONE_KEY": PHONE_KEY,
            "KUFATILIA__LOG_LEVEL": "WARNING",
            "KUFATILIA__INSTANCE_PATH": str(Path(tmp) / "instance"),
        }
        run = str(int(time.time()))
        assert redis_server.process is not None
        redis_pid = redis_server.process.pid
        with (
            server_model.serve("minimal:create_app()", env, "/hello") as minimal_served,
            server_model.serve("app:create_app()", env, "/health") as served,
        ):
            hello_url = minimal_served.base + "/hello"
            wrk(hello_url, "hello.lua", 3, args.threads)  # warm-up
            hello = wrk(hello_url, "hello.lua", args.duration, args.threads)
            check("hello", hello, sessions=False)
            base = served.base
            wrk(base, "sessions.lua", 3, args.threads, "service", run + "w", "2")  # warm-up
            rounds = [
                closed_loop_round(
                    n, minimal_served, served, redis_pid, database_url, args.duration,
                    args.threads, run,
                )
                for n in range(args.rounds)
            ]  # fmt: skip
            say("\nclosed loop (each connection sends its next hop as soon as it has the answer)")
            say(f"  {args.rounds} rounds, each the minimal hop then the service, back to back:")
            left_out = disturbed(rounds) if len(rounds) >= 3 else {}
            for n, one in enumerate(rounds):
                minimal_cost, service_cost = one.cpu()
                say(
                    f"  round {n + 1}: minimal {one.minimal['rate']:5.0f} hops/s "
                    f"({minimal_cost:4.0f} µs CPU), "
                    f"service {one.service['rate']:5.0f} hops/s "
                    f"({service_cost:4.0f} µs CPU): "
                    f"ratio {one.ratio:.2f}"
                    + (f"  (disturbed, left out: {left_out[n]})" if n in left_out else "")
                )
            # The round of the median ratio (the machine's speed drifts between runs: a ratio
            # of two runs far apart in time measures the drift as much as the service), over the
            # rounds no other work on the machine disturbed.
            # Of an even number, the lower of the two middle rounds: never the kinder figure.
            counted = [one for n, one in enumerate(rounds) if n not in left_out]
            middle = sorted(counted, key=lambda one: one.ratio)[(len(counted) - 1) // 2]
            minimal, service = middle.minimal, middle.service
            say(f"  the median round (ratio {middle.ratio:.2f}):")
            say(line("bare Flask hello", hello, "req/s"))
            say(line("minimal hop", minimal))
            say(line("service hop", service))
            say(
                f"  {'service submit hop':22} {'':15}  p50 {service['submit_p50']:6.2f}  "
                f"{'':11}p99 {service['submit_p99']:6.2f} ms  ({service['submit_n']} sessions)"
            )
            say(
                f"  ratio: service / minimal hop = {middle.ratio:.2f} (median of {len(counted)}: "
                f"{', '.join(f'{one.ratio:.2f}' for one in counted)}"
                + (f"; {len(left_out)} disturbed round(s) left out" if left_out else "")
                + "); "
                f"service / hello = {service['rate'] / hello['rate']:.2f}; "
                f"minimal / hello = {minimal['rate'] / hello['rate']:.2f}"
            )
            say("\nwhere a hop's CPU goes (the median round; wrk's own CPU not counted)")
            say(cpu_line("minimal hop", middle.minimal_cpu, minimal["requests"]))
            say(cpu_line("service hop", middle.service_cpu, service["requests"]))

            steps = [int(s) for s in args.capacity.split(",") if s.strip()]
            if steps:
                say(
                    f"\nopen loop: reporters hopping every {THINK_MS / 1000:.0f} s (p99 from due time)"
                )
                capacity = 0
                for step, reporters in enumerate(steps):
                    connections = min(args.capacity_connections, reporters)
                    # Never fewer reporters than the step asks (5,000 on 32 connections is
                    # 5,024, not 4,992).
                    per_connection = max(1, math.ceil(reporters / connections))
                    warmup = HOPS * THINK_MS // 1000
                    figures = wrk(
                        base, "sessions.lua", warmup + args.capacity_window, connections,
                        "service", f"{run}c{reporters}", str(10 + step), str(THINK_MS),
                        str(per_connection),
                    )  # fmt: skip
                    check(f"capacity {reporters}", figures, sessions=True)
                    figures["rate"] = figures["counted"] / (figures["seconds"] - warmup)
                    held = figures["p99"] < CAPACITY_P99_MS
                    say(
                        line(f"{connections * per_connection} reporters", figures)
                        + ("" if held else "  <- p99 over 100 ms")
                    )
                    if held:
                        capacity = connections * per_connection
                    else:
                        break
                say(
                    f"  capacity: {capacity} concurrent reporters with p99 < {CAPACITY_P99_MS:.0f} ms"
                )

            if args.flood:
                walkers, flooders = (int(n) for n in args.flood.split(","))
                flood_isolation(base, run, args.duration, walkers, flooders)

            if args.memory_sessions:
                redis_server.client().flushall()
                paused_sessions(base, args.memory_sessions)
                per_kind = memory_per_session(redis_server, args.memory_sessions)
                say(
                    f"\nRedis MEMORY USAGE per live session ({args.memory_sessions} paused mid-report)"
                )
                for kind, size in per_kind.items():
                    say(f"  {kind:22} {size:7.0f} B")
                say(f"  {'total':22} {sum(per_kind.values()):7.0f} B")
    say(f"\nload average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LoadtestFailed as failure:
        print(f"\nLOADTEST FAILED: {failure}", file=sys.stderr, flush=True)
        sys.exit(1)
