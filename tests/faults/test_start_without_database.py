"""gunicorn starts while PostgreSQL is hung (the proxy frozen) or unreachable (cut): it serves the
hops that need no database, from the tree versions every process keeps a copy of in Redis, says
"not ready" on ``/readyz``, and stores the report once the database is back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from services import EXTENSION_KEY, Services
from settings import PROJECT_DIR
from storage.models import Report

from ..conftest import Backend, app_config, make_app
from ..infra.redis_server import RedisServer, free_port
from ..infra.tcp_proxy import TcpProxy
from ..phone import TO_CONFIRM_FR, check_reply
from .conftest import close_app, process_environment, proxied
from .test_instances import post, serving

WAIT = 12.0  # the longest any one step may take (a gunicorn start on two busy cores: ~3 s)
TIMEOUTS = {"database": {"connect_timeout_seconds": 1, "statement_timeout_seconds": 1}}
USSD = "/ussd/africastalking"


class Gunicorn:
    def __init__(self, environment: dict[str, str], directory: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = directory / "gunicorn.log"
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "1",
                    "--control-socket",
                    str(directory / "gunicorn.ctl"),
                    "app:create_app()",
                ],
                cwd=PROJECT_DIR,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as answer:
                status: int = answer.status
                return status
        except urllib.error.HTTPError as error:
            return error.code

    def wait_until_serving(self) -> float:
        started = time.monotonic()
        while True:  # a condition with a deadline, not a race between two sleeps
            try:
                if self.get("/healthz") == 200:
                    return time.monotonic() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if self.process.poll() is not None or time.monotonic() - started > WAIT:
                raise AssertionError(f"gunicorn did not serve:\n{self.output()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the master and its worker
                self.process.wait(timeout=WAIT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class HttpPhone:
    """A handset over real HTTP: the cumulative ``text`` of one session, every reply checked."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.inputs: list[str] = []

    def post(self, base: str, *answers: str) -> str:
        body = ""
        for answer in answers or ("",):
            if answers:
                self.inputs.append(answer)
            form = {
                "sessionId": self.session_id,
                "serviceCode": "*384*44135#",
                "phoneNumber": "+243812345678",
                "networkCode": "63001",
                "text": "*".join(self.inputs),
            }
            status, body = post(base, USSD, form)
            assert status == 200, body
            check_reply(body)
        return body


@pytest.fixture
def running_app(
    pg_proxy: TcpProxy, clean_postgres: str, own_redis: RedisServer, tmp_path: Path
) -> Iterator[tuple[Flask, Backend]]:
    backend = Backend("fault", proxied(clean_postgres, pg_proxy), own_redis.url())
    app = make_app(backend, tmp_path / "running", **TIMEOUTS)
    yield app, backend
    pg_proxy.restore()
    close_app(app)


@pytest.mark.parametrize("fault", ["hung", "unreachable"])
def test_gunicorn_starts_and_serves_hops_without_the_database(
    fault: str,
    running_app: tuple[Flask, Backend],
    pg_proxy: TcpProxy,
    tmp_path: Path,
) -> None:
    app, backend = running_app
    services: Services = app.extensions[EXTENSION_KEY]
    with serving(app) as running:
        phone = HttpPhone(f"ATUid_start_{fault}")
        phone.post(running)
        phone.post(running, *TO_CONFIRM_FR[:3])  # French, report, accident: stored language

    if fault == "hung":
        pg_proxy.freeze()
    else:
        pg_proxy.cut()
    prefix = services.settings.redis_prefix
    config = app_config(backend, tmp_path, redis_prefix=prefix, **TIMEOUTS)
    server = Gunicorn(process_environment(config, tmp_path), tmp_path)
    try:
        server.wait_until_serving()  # within WAIT: start-up gives the database up quickly
        assert server.get("/readyz") == 503  # the balancer is told; the hops below still work
        started = time.monotonic()
        screen = phone.post(server.base, *TO_CONFIRM_FR[3:])
        assert screen.startswith("CON Vérifiez :"), screen  # the confirmation screen
        assert time.monotonic() - started < 5  # seven hops, none waiting for the database
        assert phone.post(server.base).startswith("CON ")  # a gateway retry: the same screen
        pg_proxy.restore()
        done = phone.post(server.base, "1")
        assert done.startswith("END Merci !"), done
        # This process only looks. Its pooled connections died with the cut, which on a fast
        # machine is less than IDLE_BEFORE_PING ago, so they are not pinged first
        # (storage/db.py ping_when_idle): new ones.
        services.db.engine.dispose()
        with services.db.session() as session:
            (report,) = session.scalars(select(Report))
        assert report.reference in done
    finally:
        pg_proxy.restore()
        server.stop()
    assert "Traceback" not in server.output()
