"""Configuration: typed settings built once at start-up, and the errors that stop a bad start.

``config.yaml`` holds every default (with comments); ``KUFATILIA_CONFIG`` names a second YAML
file merged over it; the environment (``DATABASE_URL``, ``KUFATILIA__SECTION__KEY``, ...) wins
over both. Secrets (``SECRET_KEY``, ``PHONE_KEY``) come from the environment only: production
refuses to start without them, development generates them once under ``instance/``.
"""

from __future__ import annotations

from .loading import (
    DEFAULT_CONFIG,
    ENV_NAMES,
    PHONE_KEY_MIN_LENGTH,
    PROJECT_DIR,
    ConfigError,
    load_settings,
)
from .sections import (
    AfricasTalkingSettings,
    DatabaseSettings,
    ExportSettings,
    FollowSettings,
    GatewaySettings,
    NotifySettings,
    OpsSettings,
    OutboxSettings,
    Settings,
    SmsSettings,
    UssdSettings,
    WebSettings,
)

__all__ = [
    "DEFAULT_CONFIG",
    "ENV_NAMES",
    "PHONE_KEY_MIN_LENGTH",
    "PROJECT_DIR",
    "AfricasTalkingSettings",
    "ConfigError",
    "DatabaseSettings",
    "ExportSettings",
    "FollowSettings",
    "GatewaySettings",
    "NotifySettings",
    "OpsSettings",
    "OutboxSettings",
    "Settings",
    "SmsSettings",
    "UssdSettings",
    "WebSettings",
    "load_settings",
]
