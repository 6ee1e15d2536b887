"""The outbox worker is killed (``kill -9``) while a message is on its way to the gateway.

The real ``flask worker`` runs as a process of its own, on the test's own Redis and a database on
disk (SQLite, and PostgreSQL when ``DATABASE_URL`` is set), sending through the real Africa's
Talking SDK to a stand-in on 127.0.0.1 that holds its answer: so the worker is known to be
between "sending" and "sent" when it is killed. After a restart:

- no message is lost: the interrupted one goes out again (at-least-once: the gateway may have
  had it already; README, Operations) and a message queued meanwhile goes out once;
- a message older than ``outbox.max_age_minutes`` is never sent late: it is marked ``expired``
  with its reason, and counted in ``/metrics``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from ops.metrics import collected
from outbox.dispatch import enqueue, queue_message
from services import EXTENSION_KEY, Services
from settings import PROJECT_DIR
from storage.models import OutboxMessage, OutboxStatus

from ..conftest import Backend, app_config, make_app
from ..infra.redis_server import RedisServer
from ..sms_support import Answer, FakeAT, at_success, outbox_row
from .conftest import close_app, process_environment

PHONE = "+243812345678"
WAIT = 12.0  # seconds any one step may take (a worker start on two busy cores takes ~3 s)
MAX_AGE_MINUTES = 60
OUTBOX: dict[str, Any] = {
    "backend": "africastalking",
    "sweep_interval_seconds": 0.2,
    # An attempt older than this belongs to a dead worker: short, so that the test stays short.
    "sending_timeout_seconds": 0.5,
    "max_age_minutes": MAX_AGE_MINUTES,
}


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "clean_postgres"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def fake_at() -> Iterator[FakeAT]:
    with FakeAT() as fake:
        yield fake


class Worker:
    """``flask worker`` in a process of its own, configured as the test's app is."""

    def __init__(self, config: dict[str, Any], tmp_path: Path) -> None:
        self.environment = process_environment(config, tmp_path)
        self.log = tmp_path / "worker.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "worker"],
                cwd=PROJECT_DIR,
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=WAIT) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # a job in progress finishes first
        try:
            self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=WAIT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _until(condition: Callable[[], bool], what: str, worker: Worker) -> None:
    """Wait for a condition, with a deadline (not a race between two sleeps)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT} s\n{worker.output()}")
        time.sleep(0.05)


@pytest.fixture
def setup(
    database: str, own_redis: RedisServer, fake_at: FakeAT, tmp_path: Path
) -> Iterator[tuple[Flask, Worker]]:
    extra = {
        "outbox": OUTBOX,
        "gateways": {
            "africastalking": {
                "username": "sandbox",
                "api_key": "test-api-key",
                "api_url": fake_at.url,
                "timeout": [2.0, 20.0],  # the held answer is not a timeout: the kill comes first
            }
        },
    }
    backend = Backend("fault", database, own_redis.url())
    app = make_app(backend, tmp_path, **extra)
    services: Services = app.extensions[EXTENSION_KEY]
    services.clock.fixed = None  # the worker's clock is the real one: so is the test's
    prefix = services.settings.redis_prefix
    worker = Worker(app_config(backend, tmp_path, redis_prefix=prefix, **extra), tmp_path)
    try:
        yield app, worker
    finally:
        worker.stop()
        close_app(app)


def _queue(services: Services, key: str, text: str, *, age: timedelta | None = None) -> int:
    with services.db.transaction() as session:
        row = queue_message(
            session, services, idempotency_key=key, phone=PHONE, text=text, sender="21512"
        )
        if age is not None:  # queued that long ago (while the worker was down, say)
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(created_at=services.clock.now() - age)
            )
        row_id = row.id
    enqueue(services, [row_id])
    return row_id


def _sent_texts(fake_at: FakeAT) -> list[str]:
    with fake_at.lock:
        return [request["form"].get("message", "") for request in fake_at.requests]


def _kill_mid_send(services: Services, fake_at: FakeAT, worker: Worker, text: str) -> int:
    """Queue ``text``, start the worker, and kill it while the gateway holds its answer."""
    held = threading.Event()
    fake_at.answers.append(Answer(201, at_success("ATXid_lost"), hold=held))
    row_id = _queue(services, "interrupted", text)
    worker.start()
    _until(lambda: _sent_texts(fake_at) == [text], "the worker sends", worker)
    assert outbox_row(services, row_id).status == OutboxStatus.SENDING
    worker.kill()
    held.set()  # the answer now goes to a dead process
    return row_id


def test_a_worker_killed_mid_send_loses_no_message(
    setup: tuple[Flask, Worker], fake_at: FakeAT
) -> None:
    app, worker = setup
    services: Services = app.extensions[EXTENSION_KEY]
    interrupted = _kill_mid_send(services, fake_at, worker, "Merci. Quel territoire ?")
    meanwhile = _queue(services, "meanwhile", "Asante! Namba ya ripoti: 3002975.")

    worker.start()
    rows = (interrupted, meanwhile)
    _until(
        lambda: all(outbox_row(services, i).status == OutboxStatus.SENT for i in rows),
        "both messages sent after the restart",
        worker,
    )
    assert outbox_row(services, interrupted).attempts == 2
    assert outbox_row(services, meanwhile).attempts == 1
    # The interrupted message went out twice (the gateway may have taken the first): the
    # documented at-least-once case, and the only duplicate.
    assert sorted(_sent_texts(fake_at)) == sorted(
        [
            "Merci. Quel territoire ?",
            "Merci. Quel territoire ?",
            "Asante! Namba ya ripoti: 3002975.",
        ]
    )
    worker.stop()
    assert "Traceback" not in worker.output()


def test_a_message_older_than_its_max_age_is_not_sent_late(
    setup: tuple[Flask, Worker], fake_at: FakeAT
) -> None:
    app, worker = setup
    services: Services = app.extensions[EXTENSION_KEY]
    interrupted = _kill_mid_send(services, fake_at, worker, "Quel territoire ?")
    # The worker stays down past the max age: the interrupted message and one queued while it
    # was down are too old now; one queued just before the restart is not.
    too_old = timedelta(minutes=MAX_AGE_MINUTES, seconds=1)
    with services.db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == interrupted)
            .values(created_at=services.clock.now() - too_old)
        )
    stale = _queue(services, "stale", "Quelle province ?", age=too_old)
    fresh = _queue(services, "fresh", "Asante! Namba ya ripoti: 3002975.")

    worker.start()
    _until(lambda: outbox_row(services, fresh).status == OutboxStatus.SENT, "fresh sent", worker)
    _until(
        lambda: (
            {outbox_row(services, i).status for i in (interrupted, stale)} == {OutboxStatus.EXPIRED}
        ),
        "old messages expired",
        worker,
    )
    for row_id in (interrupted, stale):
        reason = outbox_row(services, row_id).failure_reason or ""
        assert reason.startswith("expired: not sent within 60 min of being queued"), reason
    # Nothing old went out after the restart: the interrupted attempt is the only send of it.
    assert sorted(_sent_texts(fake_at)) == [
        "Asante! Namba ya ripoti: 3002975.",
        "Quel territoire ?",
    ]
    worker.stop()

    (outbox,) = [f for f in collected(app) if f.name == "kufatilia_outbox_messages"]
    counts = {sample.labels["status"]: sample.value for sample in outbox.samples}
    assert counts["expired"] == 2 and counts["sent"] == 1
