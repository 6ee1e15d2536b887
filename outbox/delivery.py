"""Delivery reports: the gateway tells us what became of a message it accepted."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from services import Services
from storage import operations, queries
from storage.models import OutboxStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryReport:
    """What a gateway says became of a message it accepted, in our terms.

    ``status`` is ours (sent, delivered or failed); ``gateway_status`` is the gateway's own word
    for it, kept for the record.
    """

    gateway: str
    message_id: str
    status: OutboxStatus
    gateway_status: str
    failure_reason: str | None = None
    retry_count: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def record(services: Services, report: DeliveryReport) -> bool:
    """Apply the report to the row sent with that gateway id; False when no row has that id.

    An unknown id is not an error: the gateway account may also send for other applications,
    and a report can overtake our own record of the send by a few milliseconds.
    """
    with services.db.transaction() as session:
        changed = operations.record_delivery_report(
            session,
            gateway_message_id=report.message_id,
            status=report.status,
            gateway_status=report.gateway_status,
            failure_reason=report.failure_reason,
            now=services.clock.now(),
        )
        known = changed > 0 or queries.outbox_gateway_id_known(session, report.message_id)
    if not known:
        log.info("delivery report for unknown message id %s ignored", report.message_id)
    return known
