"""Starting and stopping like a service, for real: ``flask dev`` (what ``make run`` runs) in a
process of its own, stopped by Ctrl-C (SIGINT to its process group, as a terminal sends it), by
SIGTERM, and by ``kill -9``; afterwards nothing it started may be left running, and the next
start must work. And a configuration error is one line and a non-zero exit, without traceback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from settings import PROJECT_DIR

from .conftest import PHONE_KEY

START_TIMEOUT = 60.0  # generous: two cores shared by several test runs


def _environment(instance: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("KUFATILIA") and name not in ("DATABASE_URL", "REDIS_URL")
    }
    environment.update(
        KUFATILIA__INSTANCE_PATH=str(instance),
        KUFATILIA__LOG_LEVEL="WARNING",
        SECRET_KEY="test-secret",
        PHONE_KEY=PHONE_KEY,
    )
    return environment


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", *args]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    port: int
    instance: Path
    log: Path

    def get(self, path: str) -> tuple[int, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as reply:
            return reply.status, reply.read().decode()

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.port}{path}", data=data, timeout=10
        ) as reply:
            return reply.status, reply.read().decode()

    def redis_pid(self) -> int:
        record = json.loads((self.instance / "redis.json").read_text(encoding="utf-8"))
        pid: int = record["pid"]
        return pid

    def worker(self) -> psutil.Process:
        (child,) = [
            p for p in psutil.Process(self.process.pid).children() if "worker" in p.cmdline()
        ]
        return child

    def stop(self, how: signal.Signals) -> int:
        if how == signal.SIGINT:
            os.killpg(self.process.pid, how)  # the terminal's Ctrl-C: the whole foreground group
        else:
            self.process.send_signal(how)
        return self.process.wait(timeout=START_TIMEOUT)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start(instance: Path, *, sigint_ignored: bool = False) -> Running:
    """``flask dev`` as ``make run`` starts it; ``sigint_ignored`` as a script's background job
    (``make run &``) inherits it: Ctrl-C must stop it all the same."""
    environment = _environment(instance)
    subprocess.run(
        _flask("db", "upgrade"), cwd=PROJECT_DIR, env=environment, check=True, capture_output=True
    )
    port = _free_port()
    log = instance / f"dev-{port}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            _flask("dev", "--port", str(port)),
            cwd=PROJECT_DIR,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own, as a terminal's job has
            preexec_fn=_ignore_sigint if sigint_ignored else None,
        )
    running = Running(process, port, instance, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:  # waiting for a condition, with a deadline: not a race between two sleeps
        try:
            if running.get("/health")[0] == 200:
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"flask dev did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    return running


def _started_for(process: psutil.Process, instance: Path) -> bool:
    """Whether ``process`` was started for this instance: ``flask dev``, its worker and its
    Redis all carry the instance's path in their environment."""
    try:
        return process.environ().get("KUFATILIA__INSTANCE_PATH") == str(instance)
    except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
        return False


def ours_left(instance: Path, *pids: int) -> list[str]:
    """Every process of this instance still running: the given ones, any process started for the
    instance (its environment names it), and any redis-server whose command line names its
    socket."""
    registry = instance / "redis.json"
    socket_path = json.loads(registry.read_text())["socket"] if registry.exists() else None
    left = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        command = " ".join(process.info["cmdline"] or [])
        if process.info["status"] == psutil.STATUS_ZOMBIE or process.pid == os.getpid():
            continue
        if (
            process.info["pid"] in pids
            or (socket_path and socket_path in command)
            or _started_for(process, instance)
        ):
            left.append(f"{process.info['pid']} {command}")
    return left


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "instance"
    folder.mkdir()
    yield folder
    # Whatever a failed test left: stop it, so that one failure does not leak into the next run.
    for line in ours_left(folder):
        psutil.Process(int(line.split()[0])).kill()


def _dial(running: Running) -> str:
    form = {
        "sessionId": "ATUid_service",
        "serviceCode": "*384*44135#",
        "phoneNumber": "+243812345678",
        "networkCode": "63001",
        "text": "",
    }
    status, body = running.post("/ussd/africastalking", form)
    assert status == 200
    return body


def test_ctrl_c_stops_the_server_the_worker_and_the_embedded_redis(instance: Path) -> None:
    first = start(instance, sigint_ignored=True)
    assert _dial(first).startswith("CON Lugha")  # Redis answers: the session was stored
    redis_pid, worker = first.redis_pid(), first.worker()
    assert first.stop(signal.SIGINT) == 0
    assert ours_left(instance, redis_pid, worker.pid) == []
    assert not (instance / "redis.json").exists()
    assert "stopped: web server, worker, Redis" in first.log.read_text()

    # A second run starts cleanly, with a server of its own; SIGTERM stops it the same way.
    second = start(instance)
    assert second.redis_pid() != redis_pid
    assert _dial(second).startswith("CON ")
    redis_pid, worker = second.redis_pid(), second.worker()
    assert second.stop(signal.SIGTERM) == 0
    assert ours_left(instance, redis_pid, worker.pid) == []


def test_after_kill_9_the_worker_stops_and_the_next_run_cleans_up(instance: Path) -> None:
    crashed = start(instance)
    orphan, worker = crashed.redis_pid(), crashed.worker()
    assert crashed.stop(signal.SIGKILL) == -signal.SIGKILL
    worker.wait(timeout=START_TIMEOUT)  # it notices its parent is gone and stops by itself
    assert psutil.Process(orphan).is_running()  # nobody stopped Redis: the next start must

    # `make run` starts with `flask db upgrade`: it adopts the orphan (its owner is dead) and
    # stops it when it exits; `flask dev` then starts a server of its own.
    again = start(instance)
    assert not psutil.pid_exists(orphan)
    assert _dial(again).startswith("CON ")
    redis_pid = again.redis_pid()
    assert again.stop(signal.SIGINT) == 0
    assert ours_left(instance, orphan, redis_pid) == []


PRODUCTION = (
    {"KUFATILIA_ENV": "production"},
    "Error: configuration: production needs SECRET_KEY, PHONE_KEY, DATABASE_URL (PostgreSQL) and "
    "REDIS_URL in the environment (PHONE_KEY: at least 32 random characters)",
)
ONE_MISSING = (
    {
        "KUFATILIA_ENV": "production",
        "SECRET_KEY": "s",
        "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/kufatilia",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    },
    "Error: configuration: production needs PHONE_KEY in the environment (PHONE_KEY: at least 32 "
    "random characters)",
)
NOT_A_NUMBER = (
    {"KUFATILIA__USSD__SESSION_TTL": "abc", "SECRET_KEY": "s", "PHONE_KEY": PHONE_KEY},
    "Error: configuration: ussd.session_ttl (KUFATILIA__USSD__SESSION_TTL): expected a whole "
    "number, got 'abc'",
)


@pytest.mark.parametrize(
    ("command", "environment", "line"),
    [
        (("run",), *PRODUCTION),
        (("reports", "list"), *PRODUCTION),
        (("worker", "--burst"), *PRODUCTION),
        (("run",), *ONE_MISSING),
        (("dev",), *NOT_A_NUMBER),
    ],
)
def test_a_configuration_error_is_one_line_and_a_failure(
    tmp_path: Path, command: tuple[str, ...], environment: dict[str, str], line: str
) -> None:
    base = _environment(tmp_path / "instance")
    for name in ("SECRET_KEY", "PHONE_KEY"):
        base.pop(name)
    result = subprocess.run(
        _flask(*command),
        cwd=PROJECT_DIR,
        env={**base, **environment},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == line
    assert "Traceback" not in result.stdout + result.stderr


def test_gunicorn_refuses_a_bad_configuration_without_a_traceback(tmp_path: Path) -> None:
    environment = _environment(tmp_path / "instance")
    for name in ("SECRET_KEY", "PHONE_KEY"):
        environment.pop(name)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--bind",
            f"127.0.0.1:{_free_port()}",
            "--control-socket",
            str(tmp_path / "gunicorn.ctl"),
            "app:create_app()",
        ],
        cwd=PROJECT_DIR,
        env={**environment, "KUFATILIA_ENV": "production"},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )
    assert result.returncode == 4  # gunicorn's "App failed to load": it does not respawn workers
    lines = result.stderr.splitlines()
    assert "configuration: production needs SECRET_KEY, PHONE_KEY" in "\n".join(lines)
    assert "Traceback" not in result.stderr
    assert "Reason: App failed to load." in result.stderr
