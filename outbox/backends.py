"""Sending backends: what actually puts an SMS on the wire, and how an attempt ended.

A backend never raises for a failed send: it returns a ``SendResult`` saying whether the message
left (``sent``), may leave on a later attempt (``retry``), or never will (``failed``). The
dispatcher turns that into the row's next status.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Literal, Protocol

from menus import gsm
from settings import Settings
from storage.phones import mask

log = logging.getLogger(__name__)

Outcome = Literal["sent", "retry", "failed"]


class BackendConfigError(RuntimeError):
    """The configured backend cannot work as configured; the message says what to set."""


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    gateway_message_id: str | None = None
    gateway_status: str | None = None
    cost: str | None = None
    reason: str | None = None

    @classmethod
    def sent(
        cls, message_id: str | None, status: str | None = None, cost: str | None = None
    ) -> SendResult:
        return cls("sent", gateway_message_id=message_id, gateway_status=status, cost=cost)

    @classmethod
    def retry(cls, reason: str, status: str | None = None) -> SendResult:
        return cls("retry", gateway_status=status, reason=reason)

    @classmethod
    def failed(cls, reason: str, status: str | None = None) -> SendResult:
        return cls("failed", gateway_status=status, reason=reason)


class Backend(Protocol):
    name: str

    def send(self, phone: str, text: str, sender: str | None) -> SendResult: ...


class ConsoleBackend:
    """Development: the message is "sent" to the log, with the phone number masked."""

    name = "console"

    def send(self, phone: str, text: str, sender: str | None) -> SendResult:
        encoding = gsm.sms_encoding(text)
        log.info(
            "SMS to %s from %s (%d segment(s), %s):\n%s",
            mask(phone),
            sender or "-",
            encoding.segments,
            encoding.name,
            text,
        )
        return SendResult.sent(f"console-{uuid.uuid4().hex[:16]}", status="Logged")


def build_backend(settings: Settings) -> Backend:
    if settings.outbox.backend == "africastalking":
        from .africastalking import AfricasTalkingBackend

        return AfricasTalkingBackend.from_settings(settings)
    # The settings admit no other name than these two.
    return ConsoleBackend()
