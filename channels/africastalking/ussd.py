"""Africa's Talking USSD: ``POST /ussd/africastalking`` and its end-of-session notifications.

AT posts ``sessionId, serviceCode, phoneNumber, networkCode, text`` (form-encoded; ``text`` is the
whole session's input joined by ``*``) and reads back ``CON …`` or ``END …`` as text/plain. A
thin translation: the USSD service (``channels/ussd.py``) does the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from flask import Blueprint, Response

from storage import phones

from ..http import TEXT_LIMIT, Field, bad_request, hop, plain, read_form
from ..setup import current_channels
from ..turn import UssdSessionEnd, UssdTurn
from .gateway import (
    DATE,
    GATEWAY,
    NETWORK_CODE,
    PHONE,
    SERVICE_CODE,
    check_callback_token,
    parse_date,
)

if TYPE_CHECKING:
    from ..ussd import UssdService

log = logging.getLogger(__name__)
T = TypeVar("T")

# The session id ends up in bounded columns (reports.conversation_key, ussd_session_logs):
# AT's own are ~40 characters.
SESSION_ID = 128
PATH = "/ussd/africastalking"
MAX_INTEGER = 2**31 - 1  # an SQL INTEGER column

HOP = (
    Field("sessionId", SESSION_ID, required=True),
    Field("phoneNumber", PHONE, required=True),
    Field("serviceCode", SERVICE_CODE),
    Field("networkCode", NETWORK_CODE),
    Field("text", TEXT_LIMIT, reporters_text=True),
)
SESSION_END = (
    Field("sessionId", SESSION_ID, required=True),
    Field("status", 32, required=True),
    Field("date", DATE),
    Field("serviceCode", SERVICE_CODE),
    Field("networkCode", NETWORK_CODE),
    Field("phoneNumber", PHONE),
    Field("durationInMillis", 20),
    Field("hopsCount", 20),
    # Kept only for the record. ``input`` (the reporter's typed answers) is not read at all.
    Field("cost", 64, cut=True),
    Field("lastAppResponse", 500, cut=True),
    Field("errorMessage", 500, cut=True),
)

blueprint = Blueprint("africastalking_ussd", __name__)
blueprint.before_request(check_callback_token)


@blueprint.post(PATH)
def ussd() -> Response:
    fields = read_form(HOP)
    if isinstance(fields, str):
        return bad_request(fields)
    answer = answer_hop(current_channels().ussd, fields)
    if answer.kind is None:
        return bad_request(answer.text)
    hop("ussd", answer.kind)
    return plain(answer.text)


@dataclass(frozen=True)
class HopAnswer:
    text: str  # the screen, "CON …" or "END …"; or, with no kind, why the request is refused
    kind: str | None  # what the hop was, for the metrics; None: a 400


def answer_hop(service: UssdService, fields: dict[str, str]) -> HopAnswer:
    """One hop, from the request's checked fields to the gateway's answer: the Flask view above
    and the WSGI fast path (``fast.py``) both answer through here."""
    turn = UssdTurn(
        gateway=GATEWAY,
        session_id=fields["sessionId"],
        msisdn=fields["phoneNumber"],
        service_code=fields["serviceCode"],
        network=fields["networkCode"],
        cumulative=fields["text"],
    )
    try:
        reply = service.handle(turn)
    except phones.InvalidPhoneNumber:
        # A session needs a reporter we can recognise; the gateway logs the reason.
        return HopAnswer("phoneNumber is not a valid phone number", None)
    return HopAnswer(("END " if reply.end else "CON ") + reply.text, reply.kind)


def _count(value: str) -> int | None:
    """A count or a duration; ``ValueError`` for anything an INTEGER column cannot hold."""
    if not value:
        return None
    try:
        number = int(float(value))
    except OverflowError as exc:  # "inf", "1e400"
        raise ValueError(value) from exc
    if not 0 <= number <= MAX_INTEGER:
        raise ValueError(value)
    return number


def _optional(fields: dict[str, str], name: str, read: Callable[[str], T | None]) -> T | None:
    try:
        return read(fields[name])
    except ValueError:
        log.warning(
            "USSD session end %s: %s %r ignored", fields["sessionId"][:64], name, fields[name][:40]
        )
        return None


@blueprint.post("/ussd/africastalking/events")
def session_event() -> Response:
    """Store the end-of-session notification, with the node the reporter stopped at."""
    fields = read_form(SESSION_END)
    if isinstance(fields, str):
        return bad_request(fields)
    # Optional fields, for the drop-off figures: one that cannot be read is left out (and
    # logged) rather than losing the notification (AT would retry a 400 in vain).
    hops = _optional(fields, "hopsCount", _count)
    duration = _optional(fields, "durationInMillis", _count)
    ended_at = _optional(fields, "date", lambda v: parse_date(v) if v else None)
    end = UssdSessionEnd(
        gateway=GATEWAY,
        session_id=fields["sessionId"],
        status=fields["status"],
        msisdn=fields["phoneNumber"],
        ended_at=ended_at,
        service_code=fields["serviceCode"],
        network=fields["networkCode"],
        hops=hops,
        duration_ms=duration,
        cost=fields["cost"],
        last_response=fields["lastAppResponse"],
        error_message=fields["errorMessage"],
    )
    current_channels().ussd.record_session_end(end)
    return plain("OK\n")
