"""The outbox's reads: one message, a listing, counts by status. Its writes are in
``storage.operations.outbox``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import OutboxMessage, OutboxStatus


def outbox_gateway_id_known(session: Session, gateway_message_id: str) -> bool:
    return (
        session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.gateway_message_id == gateway_message_id)
        )
        is not None
    )


def outbox_key_used(session: Session, idempotency_key: str) -> bool:
    """Whether a message was ever queued for this cause (sent or not)."""
    found = session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)
    )
    return found is not None


def outbox_message(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def outbox_messages(
    session: Session,
    *,
    status: OutboxStatus | None = None,
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


def outbox_counts(session: Session, ids: Sequence[int] | None = None) -> dict[OutboxStatus, int]:
    """How many rows are in each status (optionally among ``ids``)."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    # Rows unpack as typed tuples (Result.tuples() is deprecated since SQLAlchemy 2.1).
    return {status: count for status, count in session.execute(query)}
