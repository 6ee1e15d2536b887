"""Sending through Africa's Talking with its official SDK (``africastalking`` 2.0.3).

The SDK returns ``res.json()`` only for a response typed exactly ``application/json`` and the
raw text otherwise, raises ``AfricasTalkingException`` for a non-2xx answer, and lets ``requests``
timeouts and connection errors through unwrapped. A failure can also come inside an HTTP 200, per
recipient (``statusCode`` 401-409, 500-502). Every one of those ends here as a ``SendResult``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

import requests

from logging_setup import scrub
from settings import Settings

from .backends import BackendConfigError, SendResult

# Per-recipient statusCode values. 100-102: AT has the message (processed, sent, queued).
ACCEPTED_CODES = frozenset({100, 101, 102})
# Retrying cannot help these: the number, the sender id or the recipient's own choice.
PERMANENT_CODES = {
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    406: "UserInBlacklist",
    409: "DoNotDisturbRejection",
}
# Transient: 401 RiskHold, 405 InsufficientBalance, 407 CouldNotRoute, 500 InternalServerError,
# 501 GatewayError, 502 RejectedByGateway, and anything unknown. Retried up to outbox.max_attempts.
PERMANENT_MESSAGES = frozenset({"InvalidSenderId", "InvalidPhoneNumber", "UserInBlacklist"})


def _short(text: object, limit: int = 160) -> str:
    """Gateway text fit for a log line and the failure_reason column: one line, no phone number."""
    return scrub(" ".join(str(text).split()))[:limit]


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def interpret(result: object) -> SendResult:
    """The outcome of ``SMS.send`` for our single recipient, from either result shape."""
    data: object = result
    if isinstance(result, bytes | str):
        try:
            data = json.loads(result)
        except ValueError:
            return SendResult.retry(f"unreadable gateway response: {_short(result, 80)!r}")
    if not isinstance(data, Mapping):
        return SendResult.retry("unexpected gateway response")
    body = data.get("SMSMessageData")
    if not isinstance(body, Mapping):
        return SendResult.retry("gateway response without SMSMessageData")
    recipients = body.get("Recipients") or []
    if not isinstance(recipients, list) or not recipients or not isinstance(recipients[0], Mapping):
        message = _short(body.get("Message", ""), 80)
        if message in PERMANENT_MESSAGES:
            return SendResult.failed(f"not sent: {message}", status=message)
        return SendResult.retry(f"not sent: {message or 'no recipient in the response'}")
    recipient = recipients[0]
    code = _code(recipient.get("statusCode"))
    status = _short(recipient.get("status", ""), 32) or None
    if code in ACCEPTED_CODES or (code is None and status == "Success"):
        message_id = recipient.get("messageId")
        cost = recipient.get("cost")
        return SendResult.sent(
            str(message_id)[:100] if message_id else None,
            status=status,
            cost=str(cost)[:32] if cost is not None else None,
        )
    label = status or (PERMANENT_CODES.get(code, "") if code is not None else "") or "unknown"
    reason = f"{code} {label}" if code is not None else label
    if code in PERMANENT_CODES:
        return SendResult.failed(reason, status=status)
    return SendResult.retry(reason, status=status)


class AfricasTalkingBackend:
    name = "africastalking"

    def __init__(
        self,
        username: str,
        api_key: str,
        *,
        sender_id: str = "",
        api_url: str = "",
        timeout: tuple[float, float],
    ) -> None:
        if not username or not api_key:
            raise BackendConfigError(
                "outbox.backend is africastalking: set gateways.africastalking.username and api_key "
                "(AT_USERNAME, AT_API_KEY); username 'sandbox' uses AT's sandbox"
            )
        import africastalking

        with warnings.catch_warnings():
            # initialize() builds every AT service; the WhatsApp one complains about the sandbox.
            warnings.filterwarnings("ignore", "Sandbox is currently not available", UserWarning)
            africastalking.initialize(username, api_key)
        # Keep this instance: another initialize() elsewhere replaces the module's global.
        self._sms: Any = africastalking.SMS
        if api_url:
            # The SDK has no option for its host; its base URL attribute is what it builds on.
            self._sms._baseUrl = api_url.rstrip("/")
        self.sender_id = sender_id
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> AfricasTalkingBackend:
        at = settings.gateways.africastalking
        return cls(
            at.username,
            at.api_key,
            sender_id=at.sender_id,
            api_url=at.api_url,
            timeout=at.timeout,
        )

    def send(self, phone: str, text: str, sender: str | None) -> SendResult:
        from africastalking.Service import AfricasTalkingException

        # A configured sender id wins; else reply from the shortcode the reporter wrote to.
        sender_id = self.sender_id or sender or None
        try:
            result = self._sms.send(text, [phone], sender_id=sender_id, timeout=self.timeout)
        except AfricasTalkingException as exc:
            return SendResult.retry(f"gateway refused the request: {_short(exc)}")
        except requests.Timeout:
            # The request may have reached AT: sending again risks a duplicate (see README).
            return SendResult.retry("gateway timeout")
        except requests.RequestException as exc:
            return SendResult.retry(f"network error: {type(exc).__name__}")
        except ValueError:
            # The SDK checks the number's format before sending (its message holds the number).
            return SendResult.failed("the gateway library rejected the phone number format")
        return interpret(result)
