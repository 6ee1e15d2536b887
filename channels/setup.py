"""The channel services, built once per app from the settings and kept in ``app.extensions``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from services import EXTENSION_KEY as SERVICES_KEY
from services import Services

from .conversation import Conversations
from .sms import SmsService
from .ussd import UssdService

EXTENSION_KEY = "kufatilia.channels"


@dataclass(frozen=True)
class Channels:
    conversations: Conversations
    ussd: UssdService
    sms: SmsService


def build_channels(services: Services) -> Channels:
    conversations = Conversations(services)
    return Channels(
        conversations=conversations,
        ussd=UssdService(services, conversations),
        sms=SmsService(services, conversations),
    )


def init_app(app: Flask) -> None:
    """Build the channels once, after the app's services (``services.build_services``)."""
    if EXTENSION_KEY not in app.extensions:
        app.extensions[EXTENSION_KEY] = build_channels(app.extensions[SERVICES_KEY])


def current_channels() -> Channels:
    channels: Channels = current_app.extensions[EXTENSION_KEY]
    return channels
