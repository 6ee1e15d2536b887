"""Africa's Talking USSD: ``POST /ussd/africastalking`` and its end-of-session notifications.

AT posts ``sessionId, serviceCode, phoneNumber, networkCode, text`` (form-encoded; ``text`` is the
whole session's input joined by ``*``) and reads back ``CON …`` or ``END …`` as text/plain.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Response

from menus.state import State
from services import current_services
from storage import operations, phones
from storage.sessions import SessionBusy

from ..http import bad_request, form_fields, plain, require_token
from ..turn import UssdTurn
from ..ussd import CHANNEL, UssdService

log = logging.getLogger(__name__)
GATEWAY = "africastalking"
# Both end up in bounded columns (reports.conversation_key, reports.network_code): a longer value
# would make every submit of the session fail on PostgreSQL. AT's own are ~40 and 5 characters.
MAX_SESSION_ID = 128
MAX_NETWORK_CODE = 16
MAX_INTEGER = 2**31 - 1  # an SQL INTEGER column

blueprint = Blueprint("africastalking_ussd", __name__)


def _token() -> str:
    return str(
        current_services().settings.get("gateways", GATEWAY, "callback_token", default="") or ""
    )


def _ussd_body(text: str, end: bool) -> str:
    return ("END " if end else "CON ") + text


@blueprint.post("/ussd/africastalking")
def ussd() -> Response:
    require_token(_token())
    fields = form_fields(("sessionId", "phoneNumber"), ("serviceCode", "networkCode", "text"))
    if isinstance(fields, str):
        return bad_request(fields)
    session_id, network = fields["sessionId"].strip(), fields["networkCode"].strip()
    if len(session_id) > MAX_SESSION_ID:
        return bad_request(f"sessionId is too long (at most {MAX_SESSION_ID} characters)")
    if len(network) > MAX_NETWORK_CODE:
        return bad_request(f"networkCode is too long (at most {MAX_NETWORK_CODE} characters)")
    services = current_services()
    turn = UssdTurn(
        gateway=GATEWAY,
        session_id=session_id,
        msisdn=fields["phoneNumber"],
        service_code=fields["serviceCode"],
        network=network,
        cumulative=fields["text"],
    )
    try:
        reply = UssdService(services).handle(turn)
    except phones.InvalidPhoneNumber:
        # A session needs a reporter we can recognise; the gateway logs the reason.
        return bad_request("phoneNumber is not a valid phone number")
    except SessionBusy:
        log.warning("USSD session %s busy: concurrent request dropped", turn.session_id)
        return plain(_ussd_body(UssdService(services).unavailable_text(), True))
    except Exception:
        log.exception("USSD request failed for session %s", turn.session_id)
        return plain(_ussd_body(UssdService(services).unavailable_text(), True))
    return plain(_ussd_body(reply.text, reply.end))


def _int_field(value: str) -> int | None:
    """A count or a duration; ``ValueError`` for anything an INTEGER column cannot hold."""
    value = value.strip()
    if not value:
        return None
    try:
        number = int(float(value))
    except OverflowError as exc:  # "inf", "1e400"
        raise ValueError(value) from exc
    if not 0 <= number <= MAX_INTEGER:
        raise ValueError(value)
    return number


def _parse_date(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(value)


@blueprint.post("/ussd/africastalking/events")
def session_event() -> Response:
    """Store the end-of-session notification, with the node the reporter stopped at."""
    require_token(_token())
    fields = form_fields(
        ("sessionId", "status"),
        (
            "date",
            "serviceCode",
            "networkCode",
            "phoneNumber",
            "cost",
            "durationInMillis",
            "hopsCount",
            "input",
            "lastAppResponse",
            "errorMessage",
        ),
    )
    if isinstance(fields, str):
        return bad_request(fields)
    try:
        hops = _int_field(fields["hopsCount"])
        duration = _int_field(fields["durationInMillis"])
    except ValueError:
        return bad_request("hopsCount and durationInMillis must be numbers")
    try:
        ended_at = _parse_date(fields["date"])
    except ValueError:
        return bad_request("date must be 'YYYY-MM-DD HH:MM:SS' (UTC)")
    services = current_services()
    phone_hash = None
    if fields["phoneNumber"].strip():
        try:
            phone = phones.normalise(fields["phoneNumber"], services.settings.phone_region)
            phone_hash = services.vault.hash(phone)
        except phones.InvalidPhoneNumber:
            # The notification is still true: keep it for the drop-off figures, without a reporter.
            log.warning(
                "USSD session end %s: phoneNumber is not a valid phone number",
                fields["sessionId"][:64],
            )
    session_id = fields["sessionId"].strip()
    stored = services.sessions.load(CHANNEL, f"{GATEWAY}:{session_id}")
    last_node = State.from_dict(stored.state).node if stored else None
    with services.db.transaction() as session:
        operations.record_ussd_session_end(
            session,
            gateway=GATEWAY,
            session_id=session_id[:200],
            received_at=services.clock.now(),
            ended_at=ended_at,
            service_code=fields["serviceCode"][:64] or None,
            network_code=fields["networkCode"][:16] or None,
            reporter_hash=phone_hash,
            status=fields["status"].strip()[:32],
            hops=hops,
            duration_ms=duration,
            cost=fields["cost"][:64] or None,
            last_node=last_node,
            # Our own last screen, not the reporter's typed input (which can hold free text).
            last_response=fields["lastAppResponse"][:500] or None,
            error_message=fields["errorMessage"][:500] or None,
        )
    return plain("OK\n")
