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

from flask import Blueprint, Response

from outbox import delivery
from services import current_services
from storage import phones
from storage.models import OutboxStatus
from storage.sessions import SessionBusy

from ..http import TEXT_LIMIT, Field, bad_request, hop, plain, read_form
from ..setup import current_channels
from ..turn import SmsMessage
from .gateway import (
    DATE,
    DATE_FORMATS,
    GATEWAY,
    NETWORK_CODE,
    PHONE,
    check_callback_token,
    parse_date,
)

log = logging.getLogger(__name__)
MESSAGE_ID = 100  # sms_incoming.message_id, outbox_messages.gateway_message_id
SHORTCODE = 32  # sms_incoming.shortcode, outbox_messages.sender

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

INCOMING = (
    Field("from", PHONE, required=True),
    Field("to", SHORTCODE, required=True),
    Field("id", MESSAGE_ID, required=True),
    Field("date", DATE, required=True),
    Field("text", TEXT_LIMIT, required=True, reporters_text=True),
    Field("linkId", 100),
    Field("networkCode", NETWORK_CODE),
)
DELIVERY = (
    Field("id", MESSAGE_ID, required=True),
    Field("status", 32, required=True),
    Field("phoneNumber", PHONE),
    Field("networkCode", NETWORK_CODE),
    Field("retryCount", 10),
    Field("failureReason", 200, cut=True),  # kept only for the record
)

blueprint = Blueprint("africastalking_sms", __name__)
blueprint.before_request(check_callback_token)


@blueprint.post("/sms/africastalking/incoming")
def incoming() -> Response:
    fields = read_form(INCOMING)
    if isinstance(fields, str):
        return bad_request(fields)
    try:
        sent_at = parse_date(fields["date"])
    except ValueError:
        return bad_request(f"date must be {DATE_FORMATS}")
    message = SmsMessage(
        gateway=GATEWAY,
        message_id=fields["id"],
        sender=fields["from"],
        recipient=fields["to"],
        text=fields["text"],
        sent_at=sent_at,
        network=fields["networkCode"],
        link_id=fields["linkId"],
    )
    try:
        result = current_channels().sms.handle(message)
    except phones.InvalidPhoneNumber:
        # Not a phone we could answer (an operator's alphanumeric sender, a truncated number):
        # a 200 ends AT's retries, which could never succeed; nothing is stored or sent.
        log.warning(
            "SMS %s ignored: sender %s is not a valid phone number",
            message.message_id,
            phones.mask(message.sender),
        )
        return plain("OK ignored: from is not a valid phone number\n")
    except SessionBusy:
        log.warning("SMS %s: conversation busy, left for AT's retry", message.message_id)
        return plain("busy: please retry\n", 503)
    except Exception:
        log.exception("SMS %s could not be handled; AT will retry it", message.message_id)
        return plain("temporarily unavailable: please retry\n", 503)
    hop("sms", result.kind)
    if result.limited:
        return plain("OK limited\n")  # a 2xx: the gateway must not retry it
    return plain("OK duplicate\n" if result.duplicate else "OK\n")


@blueprint.post("/sms/africastalking/delivery")
def delivery_report() -> Response:
    fields = read_form(DELIVERY)
    if isinstance(fields, str):
        return bad_request(fields)
    status = STATUSES.get(fields["status"])
    if status is None:
        return bad_request(f"unknown status '{fields['status']}'")
    retries = fields["retryCount"]
    if retries and not retries.isdigit():
        # Optional, and only for the record: losing the delivery status over it (AT retries a
        # 400 for hours, in vain) would be worse than not knowing the count.
        log.warning("delivery report %s: retryCount %r ignored", fields["id"], retries[:10])
        retries = ""
    report = delivery.DeliveryReport(
        gateway=GATEWAY,
        message_id=fields["id"],
        status=status,
        gateway_status=fields["status"],
        failure_reason=fields["failureReason"] or None,
        retry_count=int(retries) if retries else None,
    )
    try:
        known = delivery.record(current_services(), report)
    except Exception:
        log.exception("delivery report for %s could not be stored", report.message_id)
        return plain("temporarily unavailable: please retry\n", 503)
    return plain("OK\n" if known else "OK unknown id\n")
