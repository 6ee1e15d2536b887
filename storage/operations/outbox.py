"""The outbox's writes: queue a message, claim it, record what became of it.

Every change of ``status`` is a single conditional UPDATE (``... WHERE status = 'queued'``), so
whichever worker's UPDATE matches first owns the attempt and any other finds nothing to do. Callers
own the transaction (``Database.transaction``). Its reads are in ``storage.queries.outbox``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from ..models import OutboxMessage, OutboxStatus
from ..phones import PhoneVault

REASON_MAX = 300


@dataclass(frozen=True)
class SealedPhone:
    """A number already hashed and encrypted, e.g. copied from a report: a message to a reporter
    is queued from the web without anyone decrypting it; only the sending job does."""

    hash: str
    encrypted: str


@dataclass(frozen=True)
class NewOutboxMessage:
    idempotency_key: str
    channel: str
    phone: str | SealedPhone
    text: str
    encoding: str
    segments: int
    sender: str | None = None


@dataclass(frozen=True)
class OutboxClaim:
    """A row this worker now owns for one attempt."""

    id: int
    attempt: int
    phone_encrypted: str
    text: str
    sender: str | None


def _reason(text: str | None) -> str | None:
    return text[:REASON_MAX] if text else None


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


def queue_outbox_message(
    session: Session, message: NewOutboxMessage, *, vault: PhoneVault, now: datetime
) -> OutboxMessage:
    """Queue a message; the caller dispatches it after its transaction commits."""
    if isinstance(message.phone, SealedPhone):
        phone_hash, phone_encrypted = message.phone.hash, message.phone.encrypted
    else:
        phone_hash, phone_encrypted = vault.hash(message.phone), vault.encrypt(message.phone)
    row = OutboxMessage(
        idempotency_key=message.idempotency_key,
        channel=message.channel,
        phone_hash=phone_hash,
        phone_encrypted=phone_encrypted,
        sender=message.sender or None,
        text=message.text,
        encoding=message.encoding,
        segments=message.segments,
        status=OutboxStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        # Marked as handed to the queue now: the sweep only re-queues it if that got lost.
        enqueued_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def claim_outbox_message(session: Session, message_id: int, now: datetime) -> OutboxClaim | None:
    """Move a due ``queued`` row to ``sending``; None when another worker (or nobody) should."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            status=OutboxStatus.SENDING,
            attempts=OutboxMessage.attempts + 1,
            claimed_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        return None
    row = session.execute(
        select(
            OutboxMessage.attempts,
            OutboxMessage.phone_encrypted,
            OutboxMessage.text,
            OutboxMessage.sender,
        ).where(OutboxMessage.id == message_id)
    ).one()
    return OutboxClaim(
        id=message_id,
        attempt=row.attempts,
        phone_encrypted=row.phone_encrypted,
        text=row.text,
        sender=row.sender,
    )


def _finish_attempt(session: Session, claim: OutboxClaim, **values: object) -> bool:
    """Apply the attempt's result, unless the row has moved on since (the sweep took it back)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == claim.id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.attempts == claim.attempt,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def mark_outbox_sent(
    session: Session,
    claim: OutboxClaim,
    *,
    now: datetime,
    backend: str,
    gateway_message_id: str | None,
    gateway_status: str | None,
    cost: str | None,
) -> bool:
    return _finish_attempt(
        session,
        claim,
        status=OutboxStatus.SENT,
        sent_at=now,
        updated_at=now,
        backend=backend,
        gateway_message_id=gateway_message_id,
        gateway_status=gateway_status,
        cost=cost,
        failure_reason=None,
    )


def mark_outbox_retry(
    session: Session,
    claim: OutboxClaim,
    *,
    now: datetime,
    next_attempt_at: datetime,
    backend: str,
    reason: str,
    gateway_status: str | None = None,
) -> bool:
    """Back to ``queued`` for a later attempt; the sweep hands it to the queue when it is due."""
    return _finish_attempt(
        session,
        claim,
        status=OutboxStatus.QUEUED,
        next_attempt_at=next_attempt_at,
        enqueued_at=None,
        updated_at=now,
        backend=backend,
        gateway_status=gateway_status,
        failure_reason=_reason(reason),
    )


def mark_outbox_failed(
    session: Session,
    claim: OutboxClaim,
    *,
    now: datetime,
    backend: str,
    reason: str,
    gateway_status: str | None = None,
) -> bool:
    return _finish_attempt(
        session,
        claim,
        status=OutboxStatus.FAILED,
        updated_at=now,
        backend=backend,
        gateway_status=gateway_status,
        failure_reason=_reason(reason),
    )


def expire_outbox_messages(
    session: Session,
    *,
    created_before: datetime,
    now: datetime,
    reason: str,
    message_id: int | None = None,
) -> int:
    """Queued rows created before ``created_before`` become ``expired``: never sent late (a
    question that arrives an hour after the reporter's message confuses more than it helps).
    Only ``queued`` rows: one being sent finishes its attempt. Returns how many expired."""
    condition = and_(
        OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.created_at < created_before
    )
    if message_id is not None:
        condition = and_(condition, OutboxMessage.id == message_id)
    return _rowcount(
        session.execute(
            update(OutboxMessage)
            .where(condition)
            .values(status=OutboxStatus.EXPIRED, updated_at=now, failure_reason=_reason(reason))
            .execution_options(synchronize_session=False)
        )
    )


def take_due_outbox_messages(
    session: Session, *, now: datetime, stale_before: datetime, limit: int
) -> list[int]:
    """Queued rows that are due and not (or no longer believed to be) in the job queue.

    They are marked as enqueued now; the caller enqueues them after the commit. Two sweepers may
    both pick a row: the second job then finds nothing to claim, so that costs nothing.
    """
    ids = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == OutboxStatus.QUEUED,
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.enqueued_at.is_(None), OutboxMessage.enqueued_at < stale_before),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.QUEUED)
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def release_stuck_outbox_messages(
    session: Session, *, now: datetime, claimed_before: datetime, max_attempts: int, requeue: bool
) -> tuple[int, int]:
    """Rows left in ``sending`` by a worker that died mid-attempt: (re-queued, failed).

    Whether the gateway took the message is unknown. ``requeue`` chooses at-least-once (send
    again, perhaps twice) over at-most-once (mark failed, perhaps never delivered).
    """
    stuck = and_(
        OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < claimed_before
    )
    reason = "interrupted while sending: the gateway may or may not have it"
    requeued = 0
    if requeue:
        requeued = _rowcount(
            session.execute(
                update(OutboxMessage)
                .where(stuck, OutboxMessage.attempts < max_attempts)
                .values(
                    status=OutboxStatus.QUEUED,
                    next_attempt_at=now,
                    enqueued_at=None,
                    updated_at=now,
                    failure_reason=reason,
                )
                .execution_options(synchronize_session=False)
            )
        )
    failed = _rowcount(
        session.execute(
            update(OutboxMessage)
            .where(stuck)
            .values(status=OutboxStatus.FAILED, updated_at=now, failure_reason=reason)
            .execution_options(synchronize_session=False)
        )
    )
    return requeued, failed


def record_delivery_report(
    session: Session,
    *,
    gateway_message_id: str,
    status: OutboxStatus,
    gateway_status: str,
    failure_reason: str | None,
    now: datetime,
) -> int:
    """Apply a gateway's delivery report to the row it sent; returns how many rows changed.

    Reports can arrive out of order: ``delivered`` is final, and an intermediate ``sent`` never
    overwrites a final state.
    """
    found = OutboxMessage.gateway_message_id == gateway_message_id
    values: dict[str, object] = {"gateway_status": gateway_status[:32], "updated_at": now}
    if status == OutboxStatus.DELIVERED:
        condition = found
        values.update(status=OutboxStatus.DELIVERED, delivered_at=now, failure_reason=None)
    elif status == OutboxStatus.FAILED:
        condition = and_(found, OutboxMessage.status != OutboxStatus.DELIVERED)
        values.update(
            status=OutboxStatus.FAILED, failure_reason=_reason(failure_reason or gateway_status)
        )
    else:
        condition = and_(found, OutboxMessage.status.in_((OutboxStatus.SENDING, OutboxStatus.SENT)))
        values.update(status=OutboxStatus.SENT)
    changed = _rowcount(
        session.execute(
            update(OutboxMessage)
            .where(condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    )
    return changed
