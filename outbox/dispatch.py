"""From a committed outbox row to a sent SMS.

``queue_message`` writes the row inside the caller's transaction; ``enqueue`` hands committed
rows to RQ. ``Dispatcher.deliver`` is one attempt: claim the row (``queued -> sending``, one
conditional UPDATE, committed before anything leaves), send outside any transaction, then record
the result (``sent``, back to ``queued`` with a backoff, or ``failed``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

import redis
from rq import Queue
from sqlalchemy.orm import Session

from menus import gsm
from services import Services
from storage import operations
from storage.models import OutboxMessage, OutboxStatus

from .backends import Backend, SendResult, build_backend

log = logging.getLogger(__name__)

JOB = "outbox.jobs.deliver"
_BACKEND_KEY = "outbox.backend"


def queue_message(
    session: Session,
    services: Services,
    *,
    idempotency_key: str,
    phone: str | operations.SealedPhone,
    text: str,
    sender: str | None = None,
    channel: str = "sms",
) -> OutboxMessage:
    """Queue ``text`` for ``phone`` in the caller's transaction; ``enqueue`` it after the commit."""
    encoding = gsm.sms_encoding(text)
    return operations.queue_outbox_message(
        session,
        operations.NewOutboxMessage(
            idempotency_key=idempotency_key,
            channel=channel,
            phone=phone,
            text=text,
            encoding=encoding.name,
            segments=encoding.segments,
            sender=sender,
        ),
        vault=services.vault,
        now=services.clock.now(),
    )


def queue_name(services: Services) -> str:
    """Our Redis prefix keeps the queue apart from another deployment's on the same server."""
    return services.settings.redis_prefix + services.settings.outbox.queue


def job_queue(services: Services, connection: redis.Redis | None = None) -> Queue:
    return Queue(queue_name(services), connection=connection or services.redis)


def enqueue(services: Services, ids: Iterable[int]) -> int:
    """Hand committed rows to the workers. Never raises: a lost hand-off is the sweep's job."""
    ids = list(ids)
    if not ids:
        return 0
    job_timeout = services.settings.outbox.job_timeout_seconds
    try:
        queue = job_queue(services)
        for message_id in ids:
            queue.enqueue(
                JOB,
                message_id,
                job_timeout=job_timeout,
                result_ttl=0,
                failure_ttl=7 * 24 * 3600,
                description=f"outbox message {message_id}",
            )
    except redis.RedisError:
        log.warning("could not enqueue outbox message(s) %s: the sweep will", ids, exc_info=True)
        return 0
    return len(ids)


def backoff(attempt: int, base: float, ceiling: float) -> timedelta:
    """Seconds before attempt ``attempt + 1``: base, 2 x base, 4 x base, ... at most ``ceiling``."""
    return timedelta(seconds=min(ceiling, base * 2 ** max(attempt - 1, 0)))


def max_age(services: Services) -> timedelta:
    """How long after it was queued a message may still be sent (``outbox.max_age_minutes``)."""
    return timedelta(minutes=services.settings.outbox.max_age_minutes)


def expiry_reason(age: timedelta) -> str:
    minutes = round(age.total_seconds() / 60)
    return f"expired: not sent within {minutes} min of being queued (outbox.max_age_minutes)"


def backend_for(services: Services) -> Backend:
    """One backend per process (the SDK keeps its session in module globals)."""
    found = services.extras.get(_BACKEND_KEY)
    if found is None:
        found = build_backend(services.settings)
        services.extras[_BACKEND_KEY] = found
    backend: Backend = found  # type: ignore[assignment]
    return backend


class Dispatcher:
    def __init__(self, services: Services, backend: Backend | None = None) -> None:
        self.services = services
        self.backend = backend or backend_for(services)
        config = services.settings.outbox
        self.max_attempts = config.max_attempts
        self.retry_base = config.retry_base_seconds
        self.retry_ceiling = config.retry_max_seconds
        self.max_age = max_age(services)

    def deliver(self, message_id: int) -> str:
        """One sending attempt; returns the row's new status, or ``skipped`` when not ours."""
        services = self.services
        now = services.clock.now()
        with services.db.transaction() as session:
            expired = operations.expire_outbox_messages(
                session,
                created_before=now - self.max_age,
                now=now,
                reason=expiry_reason(self.max_age),
                message_id=message_id,
            )
            claim = None if expired else operations.claim_outbox_message(session, message_id, now)
        if expired:
            log.warning("outbox message %s expired: not sent late", message_id)
            return OutboxStatus.EXPIRED
        if claim is None:
            return "skipped"
        try:
            phone = services.vault.decrypt(claim.phone_encrypted)
        except ValueError:
            result = SendResult.failed("cannot decrypt the phone number (PHONE_KEY changed?)")
        else:
            try:
                result = self.backend.send(phone, claim.text, claim.sender)
            except Exception as exc:  # a backend bug must not leave the row in "sending"
                log.exception("backend %s failed on outbox message %s", self.backend.name, claim.id)
                result = SendResult.retry(f"backend error: {type(exc).__name__}")
        return self._record(claim, result)

    def _record(self, claim: operations.OutboxClaim, result: SendResult) -> str:
        now = self.services.clock.now()
        name = self.backend.name
        with self.services.db.transaction() as session:
            if result.outcome == "sent":
                status = OutboxStatus.SENT
                applied = operations.mark_outbox_sent(
                    session,
                    claim,
                    now=now,
                    backend=name,
                    gateway_message_id=result.gateway_message_id,
                    gateway_status=result.gateway_status,
                    cost=result.cost,
                )
            elif result.outcome == "retry" and claim.attempt < self.max_attempts:
                status = OutboxStatus.QUEUED
                applied = operations.mark_outbox_retry(
                    session,
                    claim,
                    now=now,
                    backend=name,
                    reason=result.reason or "retry",
                    gateway_status=result.gateway_status,
                    next_attempt_at=now
                    + backoff(claim.attempt, self.retry_base, self.retry_ceiling),
                )
            else:
                status = OutboxStatus.FAILED
                reason = result.reason or "failed"
                if result.outcome == "retry":
                    reason = f"gave up after {claim.attempt} attempt(s): {reason}"
                applied = operations.mark_outbox_failed(
                    session,
                    claim,
                    now=now,
                    backend=name,
                    reason=reason,
                    gateway_status=result.gateway_status,
                )
        if not applied:
            # The sweep took the row back while we were sending (slower than sending_timeout).
            log.warning("outbox message %s: attempt %s finished too late", claim.id, claim.attempt)
            return "late"
        log.log(
            logging.INFO if status != OutboxStatus.FAILED else logging.WARNING,
            "outbox message %s attempt %s: %s%s",
            claim.id,
            claim.attempt,
            status,
            f" ({result.reason})" if result.reason else "",
        )
        return status
