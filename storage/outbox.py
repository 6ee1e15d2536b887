"""The outbox's one place for writes and reads: queue a message, claim it, record what happened.

Every change of ``status`` is a single conditional UPDATE (``... WHERE status = 'queued'``), so
whichever worker's UPDATE matches first owns the attempt and any other finds nothing to do. Callers
own the transaction (``Database.transaction``), as for ``storage.operations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from .models import OutboxMessage
from .phones import PhoneVault

QUEUED, SENDING, SENT, DELIVERED, FAILED = "queued", "sending", "sent", "delivered", "failed"
STATUSES = (QUEUED, SENDING, SENT, DELIVERED, FAILED)
REASON_MAX = 300


@dataclass(frozen=True)
class NewMessage:
    idempotency_key: str
    channel: str
    phone: str
    text: str
    encoding: str
    segments: int
    sender: str | None = None


@dataclass(frozen=True)
class Claim:
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


def add(
    session: Session, message: NewMessage, *, vault: PhoneVault, now: datetime
) -> OutboxMessage:
    """Queue a message; the caller dispatches it after its transaction commits."""
    row = OutboxMessage(
        idempotency_key=message.idempotency_key,
        channel=message.channel,
        phone_hash=vault.hash(message.phone),
        phone_encrypted=vault.encrypt(message.phone),
        sender=message.sender or None,
        text=message.text,
        encoding=message.encoding,
        segments=message.segments,
        status=QUEUED,
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


def claim(session: Session, message_id: int, now: datetime) -> Claim | None:
    """Move a due ``queued`` row to ``sending``; None when another worker (or nobody) should."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == QUEUED,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            status=SENDING,
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
    return Claim(
        id=message_id,
        attempt=row.attempts,
        phone_encrypted=row.phone_encrypted,
        text=row.text,
        sender=row.sender,
    )


def _finish_attempt(session: Session, claim: Claim, **values: object) -> bool:
    """Apply the attempt's result, unless the row has moved on since (the sweep took it back)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == claim.id,
            OutboxMessage.status == SENDING,
            OutboxMessage.attempts == claim.attempt,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def mark_sent(
    session: Session,
    claim: Claim,
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
        status=SENT,
        sent_at=now,
        updated_at=now,
        backend=backend,
        gateway_message_id=gateway_message_id,
        gateway_status=gateway_status,
        cost=cost,
        failure_reason=None,
    )


def mark_retry(
    session: Session,
    claim: Claim,
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
        status=QUEUED,
        next_attempt_at=next_attempt_at,
        enqueued_at=None,
        updated_at=now,
        backend=backend,
        gateway_status=gateway_status,
        failure_reason=_reason(reason),
    )


def mark_failed(
    session: Session,
    claim: Claim,
    *,
    now: datetime,
    backend: str,
    reason: str,
    gateway_status: str | None = None,
) -> bool:
    return _finish_attempt(
        session,
        claim,
        status=FAILED,
        updated_at=now,
        backend=backend,
        gateway_status=gateway_status,
        failure_reason=_reason(reason),
    )


def take_due(session: Session, *, now: datetime, stale_before: datetime, limit: int) -> list[int]:
    """Queued rows that are due and not (or no longer believed to be) in the job queue.

    They are marked as enqueued now; the caller enqueues them after the commit. Two sweepers may
    both pick a row: the second job then finds nothing to claim, so that costs nothing.
    """
    ids = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == QUEUED,
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
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == QUEUED)
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def release_stuck(
    session: Session, *, now: datetime, claimed_before: datetime, max_attempts: int, requeue: bool
) -> tuple[int, int]:
    """Rows left in ``sending`` by a worker that died mid-attempt: (re-queued, failed).

    Whether the gateway took the message is unknown. ``requeue`` chooses at-least-once (send
    again, perhaps twice) over at-most-once (mark failed, perhaps never delivered).
    """
    stuck = and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_at < claimed_before)
    reason = "interrupted while sending: the gateway may or may not have it"
    requeued = 0
    if requeue:
        requeued = _rowcount(
            session.execute(
                update(OutboxMessage)
                .where(stuck, OutboxMessage.attempts < max_attempts)
                .values(
                    status=QUEUED,
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
            .values(status=FAILED, updated_at=now, failure_reason=reason)
            .execution_options(synchronize_session=False)
        )
    )
    return requeued, failed


def record_delivery(
    session: Session,
    *,
    gateway_message_id: str,
    status: str,
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
    if status == DELIVERED:
        condition = found
        values.update(status=DELIVERED, delivered_at=now, failure_reason=None)
    elif status == FAILED:
        condition = and_(found, OutboxMessage.status != DELIVERED)
        values.update(status=FAILED, failure_reason=_reason(failure_reason or gateway_status))
    else:
        condition = and_(found, OutboxMessage.status.in_((SENDING, SENT)))
        values.update(status=SENT)
    changed = _rowcount(
        session.execute(
            update(OutboxMessage)
            .where(condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    )
    return changed


# Reads ---------------------------------------------------------------------------------------


def known_gateway_id(session: Session, gateway_message_id: str) -> bool:
    return (
        session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.gateway_message_id == gateway_message_id)
        )
        is not None
    )


def get(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def listing(
    session: Session,
    *,
    status: str | None = None,
    phone_hash: str | None = None,
    after_id: int = 0,
    limit: int = 50,
    newest_first: bool = True,
) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.id > after_id)
    if status:
        query = query.where(OutboxMessage.status == status)
    if phone_hash:
        query = query.where(OutboxMessage.phone_hash == phone_hash)
    order = OutboxMessage.id.desc() if newest_first else OutboxMessage.id
    return list(session.scalars(query.order_by(order).limit(limit)))


def counts(session: Session, ids: Sequence[int] | None = None) -> dict[str, int]:
    """How many rows are in each status (optionally among ``ids``)."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    return {status: count for status, count in session.execute(query).tuples()}
