"""The normalised shapes every gateway adapter produces and consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
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
