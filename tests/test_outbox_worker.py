"""The outbox worker against a local stand-in for Africa's Talking's messaging API (127.0.0.1),
through the real SDK: success, failures inside HTTP 200, HTTP 500, timeouts, refused
connections; retries with backoff, never a second send, delivery reports, the sweep, and RQ.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from outbox import dispatch, jobs
from outbox.africastalking import interpret
from outbox.dispatch import Dispatcher, backoff, enqueue, job_queue
from outbox.sweep import sweep
from outbox.worker import make_worker
from services import EXTENSION_KEY, Services
from storage import operations
from storage.models import OutboxStatus

from .conftest import Backend, make_app
from .sms_support import (
    DELIVERY,
    HOLD_LIMIT,
    Answer,
    FakeAT,
    at_failure,
    at_success,
    incoming_form,
    outbox_row,
    outbox_rows,
)

PHONE = "+243812345678"


@pytest.fixture
def fake_at() -> Iterator[FakeAT]:
    with FakeAT() as fake:
        yield fake


def _at_config(url: str, **outbox: Any) -> dict[str, Any]:
    return {
        "outbox": {
            "backend": "africastalking",
            "max_attempts": 3,
            "retry_base_seconds": 30,
            **outbox,
        },
        "gateways": {
            "africastalking": {
                "username": "sandbox",
                "api_key": "test-api-key",
                "api_url": url,
                "timeout": [0.5, 0.3],
            }
        },
    }


@pytest.fixture
def at_app(backend: Backend, tmp_path: Path, fake_at: FakeAT) -> Flask:
    return make_app(backend, tmp_path, **_at_config(fake_at.url))


@pytest.fixture
def at_services(at_app: Flask) -> Services:
    found: Services = at_app.extensions[EXTENSION_KEY]
    return found


def _queue(services: Services, text: str = "Asante! Namba ya ripoti: 3002975.") -> int:
    with services.db.transaction() as session:
        row = dispatch.queue_message(
            session,
            services,
            idempotency_key=f"test:{text}:{services.clock.now()}",
            phone=PHONE,
            text=text,
            sender="21512",
        )
        return row.id


def _later(services: Services, seconds: float) -> None:
    assert services.clock.fixed is not None
    services.clock.fixed += timedelta(seconds=seconds)


def test_a_message_goes_out_once_through_the_sdk(at_services: Services, fake_at: FakeAT) -> None:
    row_id = _queue(at_services)
    fake_at.answers.append(Answer(201, at_success("ATXid_one")))
    assert Dispatcher(at_services).deliver(row_id) == OutboxStatus.SENT
    assert Dispatcher(at_services).deliver(row_id) == "skipped"  # a duplicate job sends nothing
    (request,) = fake_at.requests
    assert request["path"] == "/version1/messaging" and request["api_key"] == "test-api-key"
    assert request["form"] == {
        "username": "sandbox",
        "to": PHONE,
        "message": "Asante! Namba ya ripoti: 3002975.",
        "bulkSMSMode": "1",
        "from": "21512",
    }
    row = outbox_row(at_services, row_id)
    assert (row.status, row.attempts, row.backend) == (OutboxStatus.SENT, 1, "africastalking")
    assert (row.gateway_message_id, row.gateway_status, row.cost) == (
        "ATXid_one",
        "Success",
        "CDF 50.0000",
    )


def test_a_json_body_typed_otherwise_reaches_us_as_text_and_still_counts(
    at_services: Services, fake_at: FakeAT
) -> None:
    # The SDK parses JSON only for exactly "application/json"; this one comes back as a str.
    fake_at.answers.append(
        Answer(201, at_success("ATXid_text"), content_type="application/json; charset=utf-8")
    )
    row_id = _queue(at_services)
    assert Dispatcher(at_services).deliver(row_id) == OutboxStatus.SENT
    assert outbox_row(at_services, row_id).gateway_message_id == "ATXid_text"


def test_concurrent_jobs_for_one_row_send_it_once(at_services: Services, fake_at: FakeAT) -> None:
    row_id = _queue(at_services)
    # The gateway holds its answer until the five other jobs have tried: they all try while the
    # first one is sending, every time, not only when the timing happens to allow it.
    sending = threading.Event()
    fake_at.answers.append(Answer(201, at_success("ATXid_race"), hold=sending))
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def job() -> None:
        barrier.wait(timeout=HOLD_LIMIT)
        result = Dispatcher(at_services).deliver(row_id)
        with lock:
            results.append(result)
            if results.count("skipped") == 5:
                sending.set()

    threads = [threading.Thread(target=job) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * HOLD_LIMIT)
    assert sorted(results) == [OutboxStatus.SENT] + ["skipped"] * 5
    assert sending.is_set()  # the five were refused while the message was on its way
    assert len(fake_at.requests) == 1


def test_a_permanent_failure_inside_http_200_is_not_retried(
    at_services: Services, fake_at: FakeAT
) -> None:
    fake_at.answers.append(Answer(200, at_failure(403, "InvalidPhoneNumber")))
    row_id = _queue(at_services)
    assert Dispatcher(at_services).deliver(row_id) == OutboxStatus.FAILED
    row = outbox_row(at_services, row_id)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert row.failure_reason == "403 InvalidPhoneNumber"
    _later(at_services, 3600)
    assert sweep(at_services).enqueued == 0
    assert len(fake_at.requests) == 1


def test_transient_failures_back_off_then_succeed(at_services: Services, fake_at: FakeAT) -> None:
    fake_at.answers += [
        Answer(200, at_failure(405, "InsufficientBalance")),  # a failure inside HTTP 200
        Answer(500, "Internal Server Error", content_type="text/plain"),  # AfricasTalkingException
        Answer(201, at_success("ATXid_third")),
    ]
    row_id = _queue(at_services)
    start = at_services.clock.now()
    dispatcher = Dispatcher(at_services)

    assert dispatcher.deliver(row_id) == OutboxStatus.QUEUED
    row = outbox_row(at_services, row_id)
    assert row.failure_reason == "405 InsufficientBalance"
    assert row.next_attempt_at == start + timedelta(seconds=30)
    assert dispatcher.deliver(row_id) == "skipped"  # not due yet: nothing leaves
    assert sweep(at_services).enqueued == 0

    _later(at_services, 30)
    assert dispatcher.deliver(row_id) == OutboxStatus.QUEUED
    row = outbox_row(at_services, row_id)
    assert row.failure_reason is not None
    assert row.failure_reason.startswith("gateway refused the request: Internal Server Error")
    assert row.next_attempt_at == start + timedelta(seconds=30 + 60)

    _later(at_services, 60)
    assert dispatcher.deliver(row_id) == OutboxStatus.SENT
    row = outbox_row(at_services, row_id)
    assert (row.status, row.attempts, row.failure_reason) == (OutboxStatus.SENT, 3, None)
    assert len(fake_at.requests) == 3


def test_after_max_attempts_the_message_fails_with_the_last_reason(
    at_services: Services, fake_at: FakeAT
) -> None:
    fake_at.answers += [Answer(500, "oops", content_type="text/plain")] * 3
    row_id = _queue(at_services)
    dispatcher = Dispatcher(at_services)
    for expected in (OutboxStatus.QUEUED, OutboxStatus.QUEUED, OutboxStatus.FAILED):
        assert dispatcher.deliver(row_id) == expected
        _later(at_services, 120)  # past the backoff (30 s, then 60 s), within the max age
    row = outbox_row(at_services, row_id)
    assert row.status == OutboxStatus.FAILED and row.attempts == 3
    assert row.failure_reason == "gave up after 3 attempt(s): gateway refused the request: oops"


def test_a_timeout_is_retried(at_services: Services, fake_at: FakeAT) -> None:
    # The first answer is held until the client has given up (read timeout 0.3 s), so it is too
    # late whatever the machine's speed; the second comes at once.
    late = threading.Event()
    fake_at.answers += [Answer(201, at_success("ATXid_late"), hold=late), Answer(201, at_success())]
    row_id = _queue(at_services)
    dispatcher = Dispatcher(at_services)
    try:
        assert dispatcher.deliver(row_id) == OutboxStatus.QUEUED
    finally:
        late.set()
    assert outbox_row(at_services, row_id).failure_reason == "gateway timeout"
    _later(at_services, 30)
    assert dispatcher.deliver(row_id) == OutboxStatus.SENT
    assert outbox_row(at_services, row_id).gateway_message_id == "ATXid_ok1"


def test_a_refused_connection_is_retried(backend: Backend, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(backend, tmp_path, **_at_config(f"http://127.0.0.1:{port}/version1"))
    services: Services = app.extensions[EXTENSION_KEY]
    row_id = _queue(services)
    assert Dispatcher(services).deliver(row_id) == OutboxStatus.QUEUED
    assert outbox_row(services, row_id).failure_reason == "network error: ConnectionError"


def test_delivery_reports_follow_the_message(at_app: Flask, fake_at: FakeAT) -> None:
    services: Services = at_app.extensions[EXTENSION_KEY]
    client = at_app.test_client()
    fake_at.answers += [Answer(201, at_success("ATXid_d1")), Answer(201, at_success("ATXid_d2"))]
    first, second = _queue(services, "one"), _queue(services, "two")
    dispatcher = Dispatcher(services)
    assert dispatcher.deliver(first) == dispatcher.deliver(second) == OutboxStatus.SENT

    client.post(DELIVERY, data={"id": "ATXid_d1", "status": "Buffered"})
    assert outbox_row(services, first).status == OutboxStatus.SENT
    client.post(DELIVERY, data={"id": "ATXid_d1", "status": "Success"})
    client.post(
        DELIVERY,
        data={
            "id": "ATXid_d2",
            "status": "AbsentSubscriber",
            "failureReason": "DeliveryFailure",
            "retryCount": "2",
        },
    )
    assert outbox_row(services, first).status == OutboxStatus.DELIVERED
    row = outbox_row(services, second)
    assert (row.status, row.gateway_status, row.failure_reason) == (
        OutboxStatus.FAILED,
        "AbsentSubscriber",
        "DeliveryFailure",
    )


def test_rq_runs_the_reply_to_an_incoming_sms(app: Flask, services: Services) -> None:
    """Incoming SMS -> outbox row -> RQ job (after the commit) -> burst worker -> sent (console)."""
    response = app.test_client().post(
        "/sms/africastalking/incoming", data=incoming_form("REPORT", "ATXid_rq")
    )
    assert response.status_code == 200
    (row,) = outbox_rows(services)
    assert row.status == OutboxStatus.QUEUED
    assert job_queue(services).count == 1
    with app.app_context():
        assert make_worker(services).work(burst=True) is True
    assert job_queue(services).count == 0
    row = outbox_row(services, row.id)
    assert (row.status, row.backend, row.attempts) == (OutboxStatus.SENT, "console", 1)
    assert row.gateway_message_id is not None


def test_the_job_builds_its_own_app_outside_one(
    app: Flask, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a plain ``rq worker`` does: no app context, so the job makes one from config."""
    monkeypatch.setattr(jobs, "_standalone_app", lambda: app)
    row_id = _queue(services)
    assert jobs.deliver(row_id) == OutboxStatus.SENT


def test_the_sweep_finds_lost_jobs_retries_and_dead_workers(
    at_app: Flask, at_services: Services, fake_at: FakeAT
) -> None:
    lost = _queue(at_services, "lost")  # committed, but its job never reached Redis
    stuck = _queue(at_services, "stuck")
    with at_services.db.transaction() as session:
        assert (
            operations.claim_outbox_message(session, stuck, at_services.clock.now()) is not None
        )  # a worker died
    queue = job_queue(at_services)
    queue.empty()  # type: ignore[no-untyped-call]  # rq leaves it unannotated
    assert sweep(at_services).enqueued == 0  # too early to call either lost

    _later(at_services, 301)
    report = sweep(at_services)
    assert (report.enqueued, report.requeued, report.failed) == (2, 1, 0)
    assert sorted(int(job.args[0]) for job in queue.get_jobs()) == sorted([lost, stuck])
    assert sweep(at_services).enqueued == 0  # enqueued once, not at every sweep
    with at_app.app_context():
        make_worker(at_services).work(burst=True)
    assert {outbox_row(at_services, i).status for i in (lost, stuck)} == {OutboxStatus.SENT}
    assert len(fake_at.requests) == 2
    assert outbox_row(at_services, stuck).attempts == 2


def test_a_message_past_its_max_age_is_expired_not_sent(
    at_services: Services, fake_at: FakeAT
) -> None:
    """By its job (a backlog drained late) and by the sweep (a dead worker's row, a backoff)."""
    by_job = _queue(at_services, "by job")
    by_sweep = _queue(at_services, "by sweep")
    with at_services.db.transaction() as session:  # a worker died sending it
        assert operations.claim_outbox_message(session, by_sweep, at_services.clock.now())
    queued = at_services.clock.now()
    _later(at_services, 3600)  # the max age (60 min)
    young = _queue(at_services, "young")
    report = sweep(at_services)  # the dead worker's row is released; 60 min old is not too old
    assert (report.requeued, report.expired) == (1, 0)
    _later(at_services, 1)
    assert Dispatcher(at_services).deliver(young) == OutboxStatus.SENT
    assert Dispatcher(at_services).deliver(by_job) == OutboxStatus.EXPIRED
    assert sweep(at_services).expired == 1  # the released one, before it went out again
    for row_id in (by_job, by_sweep):
        row = outbox_row(at_services, row_id)
        assert row.status == OutboxStatus.EXPIRED and row.updated_at > queued
        assert row.failure_reason == (
            "expired: not sent within 60 min of being queued (outbox.max_age_minutes)"
        )
    assert Dispatcher(at_services).deliver(by_sweep) == "skipped"
    assert len(fake_at.requests) == 1  # the young one only


def test_at_most_once_fails_what_a_dead_worker_left(backend: Backend, tmp_path: Path) -> None:
    app = make_app(backend, tmp_path, outbox={"stuck_sending": "fail"})
    services: Services = app.extensions[EXTENSION_KEY]
    row_id = _queue(services)
    with services.db.transaction() as session:
        operations.claim_outbox_message(session, row_id, services.clock.now())
    _later(services, 301)
    assert sweep(services).failed == 1
    row = outbox_row(services, row_id)
    assert row.status == OutboxStatus.FAILED and "interrupted" in (row.failure_reason or "")


def test_flask_worker_burst_sends_what_is_queued(app: Flask, services: Services) -> None:
    ids = [_queue(services, f"message {n}") for n in range(3)]
    assert enqueue(services, ids) == 3
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert {outbox_row(services, i).status for i in ids} == {OutboxStatus.SENT}


def test_a_misconfigured_backend_stops_the_worker_at_start(
    backend: Backend, tmp_path: Path
) -> None:
    app = make_app(backend, tmp_path, outbox={"backend": "africastalking"})  # no api_key
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "api_key" in result.output


@pytest.mark.parametrize(
    ("attempt", "seconds"), [(1, 30), (2, 60), (3, 120), (4, 240), (8, 3600), (20, 3600)]
)
def test_backoff_doubles_up_to_a_ceiling(attempt: int, seconds: int) -> None:
    assert backoff(attempt, 30, 3600) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("result", "outcome", "detail"),
    [
        (at_success("ATXid_a"), "sent", "ATXid_a"),
        (
            '{"SMSMessageData":{"Message":"Sent to 1/1","Recipients":[{"statusCode":101,'
            '"number":"+243812345678","status":"Success","cost":"CDF 50","messageId":"ATXid_b"}]}}',
            "sent",
            "ATXid_b",
        ),
        (at_success("ATXid_q", code=102, status="Queued"), "sent", "ATXid_q"),
        (at_failure(401, "RiskHold"), "retry", "401 RiskHold"),
        (at_failure(402, "InvalidSenderId"), "failed", "402 InvalidSenderId"),
        (at_failure(403, "InvalidPhoneNumber"), "failed", "403 InvalidPhoneNumber"),
        (at_failure(404, "UnsupportedNumberType"), "failed", "404 UnsupportedNumberType"),
        (at_failure(405, "InsufficientBalance"), "retry", "405 InsufficientBalance"),
        (at_failure(406, "UserInBlacklist"), "failed", "406 UserInBlacklist"),
        (at_failure(407, "CouldNotRoute"), "retry", "407 CouldNotRoute"),
        (at_failure(409, "DoNotDisturbRejection"), "failed", "409 DoNotDisturbRejection"),
        (at_failure(500, "InternalServerError"), "retry", "500 InternalServerError"),
        (at_failure(501, "GatewayError"), "retry", "501 GatewayError"),
        (at_failure(502, "RejectedByGateway"), "retry", "502 RejectedByGateway"),
        (
            {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}},
            "failed",
            "not sent: InvalidSenderId",
        ),
        (
            {"SMSMessageData": {"Message": "", "Recipients": []}},
            "retry",
            "not sent: no recipient in the response",
        ),
        ("<html>Bad gateway</html>", "retry", "unreadable gateway response"),
        ({"unexpected": True}, "retry", "gateway response without SMSMessageData"),
        ([1, 2], "retry", "unexpected gateway response"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_every_send_result_shape(result: object, outcome: str, detail: str) -> None:
    found = interpret(result)
    assert found.outcome == outcome
    if outcome == "sent":
        assert found.gateway_message_id == detail
    else:
        assert found.reason is not None and found.reason.startswith(detail)
        assert "243812345678" not in found.reason
