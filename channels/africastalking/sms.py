"""Africa's Talking SMS: incoming messages and delivery reports. A thin translation only.

Incoming (form-encoded): ``from, to, text, date, id`` and optionally ``linkId, networkCode``;
``date`` as ``2017-05-03T06:04:45Z`` or ``2017-05-03 06:04:45`` (UTC). AT retries every minute
until it gets a 200, for up to 12 hours, so the answer is 200 as soon as the message is stored,
and a 503 when it could not be (the retry then brings it again). Replies leave via the outbox.

Delivery reports: ``id, status`` and optionally ``phoneNumber, networkCode, failureReason,
retryCount``; an unknown status is a 400.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Response, request

from outbox import delivery
from services import current_services
from storage import phones
from storage.models import OutboxStatus
from storage.sessions import SessionBusy

from ..http import bad_request, form_fields, plain, require_token
from ..sms import SmsService
from ..turn import SmsDeliveryReport, SmsMessage

log = logging.getLogger(__name__)
GATEWAY = "africastalking"
MAX_ID = 100
MAX_SHORTCODE = 32

# AT's delivery statuses -> ours. Sent/Submitted/Buffered: on its way; Success: on the handset.
STATUSES = {
    "Sent": OutboxStatus.SENT,
    "Submitted": OutboxStatus.SENT,
    "Buffered": OutboxStatus.SENT,
    "Success": OutboxStatus.DELIVERED,
    "Rejected": OutboxStatus.FAILED,
    "Failed": OutboxStatus.FAILED,
    "AbsentSubscriber": OutboxStatus.FAILED,
    "Expired": OutboxStatus.FAILED,
}

blueprint = Blueprint("africastalking_sms", __name__)


def _token() -> str:
    return str(
        current_services().settings.get("gateways", GATEWAY, "callback_token", default="") or ""
    )


def parse_date(value: str) -> datetime:
    """AT's timestamp, in UTC; ``ValueError`` when it is not one."""
    value = value.strip()
    if len(value) < 19:
        raise ValueError(value)
    found = datetime.fromisoformat(value)  # 3.11 reads both "...T...Z" and "... ..."
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


@blueprint.post("/sms/africastalking/incoming")
def incoming() -> Response:
    require_token(_token())
    fields = form_fields(("from", "to", "id", "date"), ("text", "linkId", "networkCode"))
    if isinstance(fields, str):
        return bad_request(fields)
    if "text" not in request.form:
        return bad_request("missing field(s): text")
    message_id = fields["id"].strip()
    if len(message_id) > MAX_ID:
        return bad_request(f"id is longer than {MAX_ID} characters")
    shortcode = fields["to"].strip()
    if len(shortcode) > MAX_SHORTCODE:
        return bad_request(f"to is longer than {MAX_SHORTCODE} characters")
    try:
        sent_at = parse_date(fields["date"])
    except ValueError:
        return bad_request("date must be 'YYYY-MM-DDTHH:MM:SSZ' or 'YYYY-MM-DD HH:MM:SS' (UTC)")
    message = SmsMessage(
        gateway=GATEWAY,
        message_id=message_id,
        sender=fields["from"],
        recipient=shortcode,
        text=fields["text"],
        sent_at=sent_at,
        network=fields["networkCode"].strip()[:16],
        link_id=fields["linkId"].strip(),
    )
    try:
        result = SmsService(current_services()).handle(message)
    except phones.InvalidPhoneNumber:
        # Not a phone we could answer (an operator's alphanumeric sender, a truncated number):
        # a 200 ends AT's retries, which could never succeed; nothing is stored or sent.
        log.warning(
            "SMS %s ignored: sender %s is not a valid phone number",
            message_id,
            phones.mask(message.sender),
        )
        return plain("OK ignored: from is not a valid phone number\n")
    except SessionBusy:
        log.warning("SMS %s: conversation busy, left for AT's retry", message_id)
        return plain("busy: please retry\n", 503)
    except Exception:
        log.exception("SMS %s could not be handled; AT will retry it", message_id)
        return plain("temporarily unavailable: please retry\n", 503)
    return plain("OK duplicate\n" if result.duplicate else "OK\n")


@blueprint.post("/sms/africastalking/delivery")
def delivery_report() -> Response:
    require_token(_token())
    fields = form_fields(
        ("id", "status"), ("phoneNumber", "networkCode", "failureReason", "retryCount")
    )
    if isinstance(fields, str):
        return bad_request(fields)
    gateway_status = fields["status"].strip()
    status = STATUSES.get(gateway_status)
    if status is None:
        return bad_request(f"unknown status '{gateway_status[:40]}'")
    retries = fields["retryCount"].strip()
    if retries and not retries.isdigit():
        return bad_request("retryCount must be a number")
    report = SmsDeliveryReport(
        gateway=GATEWAY,
        message_id=fields["id"].strip()[:MAX_ID],
        status=status,
        gateway_status=gateway_status,
        failure_reason=fields["failureReason"].strip()[:200] or None,
        retry_count=int(retries) if retries else None,
    )
    try:
        known = delivery.record(current_services(), report)
    except Exception:
        log.exception("delivery report for %s could not be stored", report.message_id)
        return plain("temporarily unavailable: please retry\n", 503)
    return plain("OK\n" if known else "OK unknown id\n")
