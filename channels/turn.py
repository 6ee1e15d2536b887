"""The normalised shapes every gateway adapter produces and the services consume.

Delivery reports are the outbox's business, so their shape lives in ``outbox.delivery``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class UssdTurn:
    """One request of a USSD session, whatever the gateway.

    Gateways such as Africa's Talking send the whole session's input joined by ``*``
    (``cumulative``); others send only the latest input (``latest_input``) and say when a session
    starts (``is_new``). The USSD service accepts both.
    """

    gateway: str
    session_id: str
    msisdn: str
    service_code: str = ""
    network: str = ""
    cumulative: str | None = None
    latest_input: str | None = None
    is_new: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UssdReply:
    text: str
    end: bool
    # What the hop was, for the metrics: the kind of node it showed ("menu", "input",
    # "confirm", ...), "submit" when it stored a report, or "repeat", "limited", "unavailable".
    kind: str = "other"


@dataclass(frozen=True)
class SmsMessage:
    """One incoming SMS, whatever the gateway.

    ``message_id`` is the gateway's own id, the key that makes its retries harmless;
    ``recipient`` is the number or shortcode the reporter wrote to (our side of the conversation).
    """

    gateway: str
    message_id: str
    sender: str
    recipient: str
    text: str
    sent_at: datetime | None = None
    network: str = ""
    link_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UssdSessionEnd:
    """A gateway's word that a USSD session is over, and how it ended (for drop-off analysis).

    ``last_response`` is our own last screen as the gateway echoes it back, never the reporter's
    typed input (which can hold free text).
    """

    gateway: str
    session_id: str
    status: str
    msisdn: str = ""
    ended_at: datetime | None = None
    service_code: str = ""
    network: str = ""
    hops: int | None = None
    duration_ms: int | None = None
    cost: str = ""
    last_response: str = ""
    error_message: str = ""
