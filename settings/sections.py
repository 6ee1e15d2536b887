"""The typed settings: one frozen dataclass per section of ``config.yaml``.

``config.yaml`` is the only place a default lives. No field here has a default, so a key that
``config.yaml`` forgets is a start-up error rather than a silent fallback written in code.

To add a section (say ``web:``): write a ``WebSettings`` dataclass below, add ``web: WebSettings``
to ``Settings``, and add its block, every key with a comment, to ``config.yaml``. Loading,
validation, the environment (``KUFATILIA__WEB__KEY``) and the README's table follow from that.

A field's type says what is accepted; ``Annotated[..., AtLeast(n)]`` adds a check (any object
with a ``problem(value) -> str | None`` method).
Mappings are read-only (``Mapping``, a ``MappingProxyType`` at run time), like the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import phonenumbers


@dataclass(frozen=True)
class AtLeast:
    """A lower bound for a number, checked at load."""

    minimum: float

    def problem(self, value: float) -> str | None:
        return f"must be at least {self.minimum:g}, got {value!r}" if value < self.minimum else None


@dataclass(frozen=True)
class PhoneRegion:
    """A region whose numbering plan phonenumbers knows (``CD``), checked at load."""

    def problem(self, value: str) -> str | None:
        if value in phonenumbers.SUPPORTED_REGIONS:
            return None
        return f"expected a region code such as CD or KE, got {value!r}"


# Names that say what a number is for, so that the dataclasses read as a specification.
Count = Annotated[int, AtLeast(1)]
Seconds = Annotated[int, AtLeast(1)]
Duration = Annotated[float, AtLeast(0)]
Characters = Annotated[int, AtLeast(20)]  # a screen shorter than this cannot hold a question
Words = Mapping[str, tuple[str, ...]]  # language ("" for none) -> words

Environment = Literal["development", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
SmsBackend = Literal["console", "africastalking"]
StuckSending = Literal["requeue", "fail"]

# Marks the fields that come from the environment only, never from a YAML file.
SECRET = {"secret": True}


@dataclass(frozen=True)
class UssdSettings:
    session_ttl: Seconds
    resume_window: Seconds
    resume_offer: bool
    received_notice: bool
    sms_reference: bool
    screen_limit: Characters
    network_limits: Mapping[str, Characters]
    lock_timeout: Duration


@dataclass(frozen=True)
class SmsSettings:
    """The SMS conversation: its life, its length, and the words it understands."""

    session_ttl: Seconds
    expiry_notice_seconds: Seconds
    screen_limit: Characters
    max_length: Characters
    lock_timeout: Duration
    keywords: Words
    stop_words: Words
    help_words: Words
    incoming_retention_days: Annotated[float, AtLeast(1)]
    help_contact: str


@dataclass(frozen=True)
class OutboxSettings:
    """Sending: the backend, the job queue, retries, and the sweep."""

    backend: SmsBackend
    queue: str
    max_attempts: Count
    retry_base_seconds: Duration
    retry_max_seconds: Duration
    job_timeout_seconds: Seconds
    sweep_interval_seconds: Annotated[float, AtLeast(0.1)]
    sweep_after_seconds: Duration
    sending_timeout_seconds: Duration
    stuck_sending: StuckSending
    max_age_minutes: Count


@dataclass(frozen=True)
class AfricasTalkingSettings:
    username: str
    api_key: str
    sender_id: str
    callback_token: str
    api_url: str
    timeout: tuple[float, float]


@dataclass(frozen=True)
class GatewaySettings:
    max_request_bytes: Annotated[int, AtLeast(1024)]
    africastalking: AfricasTalkingSettings


Visibility = Literal["pooled", "restricted"]


@dataclass(frozen=True)
class LoginThrottleSettings:
    per_account: Count
    per_address: Count
    window_seconds: Seconds


@dataclass(frozen=True)
class Argon2Settings:
    time_cost: Count
    memory_kib: Annotated[int, AtLeast(8)]
    parallelism: Count


@dataclass(frozen=True)
class WebSettings:
    """The CSO follow-up platform: who sees what, sessions, logins, password hashing."""

    visibility: Visibility
    page_size: Count
    cookie_secure: bool
    session_hours: Count
    proxy_hops: Annotated[int, AtLeast(0)]
    min_password_length: Annotated[int, AtLeast(8)]
    login_throttle: LoginThrottleSettings
    argon2: Argon2Settings


EmailBackend = Literal["console", "smtp"]
SmtpSecurity = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class NotifySettings:
    """Notifications to CSO members: where links point, the job queue, and e-mail by SMTP."""

    base_url: str
    queue: str
    digest_max_reports: Count
    email_backend: EmailBackend
    sender: str
    smtp_host: str
    smtp_port: Annotated[int, AtLeast(1)]
    smtp_security: SmtpSecurity
    smtp_username: str
    smtp_password: str = field(repr=False)
    smtp_timeout: Duration


@dataclass(frozen=True)
class DatabaseSettings:
    """Bounds on every wait for PostgreSQL (SQLite ignores them): see storage/db.py."""

    connect_timeout_seconds: Annotated[float, AtLeast(0.1)]
    statement_timeout_seconds: Annotated[float, AtLeast(0.1)]
    reading_timeout_seconds: Annotated[float, AtLeast(0.1)]


@dataclass(frozen=True)
class ExportSettings:
    """Reports going out: downloads from the inbox and the dashboard, and the read-only API."""

    public_delay_days: Annotated[int, AtLeast(0)]
    api_page_size: Count
    api_max_page_size: Count


@dataclass(frozen=True)
class FollowSettings:
    """ "Follow my report" by phone: how many wrong references a phone may try, and the SMS a
    reporter may get when their report is resolved."""

    max_wrong: Count
    window_seconds: Seconds
    sms_when_resolved: bool


@dataclass(frozen=True)
class OpsSettings:
    """Who may read ``/metrics``: a bearer token, or a listed address (loopback by default)."""

    metrics_token: str
    metrics_allow: tuple[str, ...]


@dataclass(frozen=True)
class RateLimitSettings:
    """Per phone (counted under its keyed hash, never the number), in fixed windows: the clock's
    hour, and the local day (``timezone``). 0 turns a limit off."""

    ussd_sessions_per_hour: Annotated[int, AtLeast(0)]
    reports_per_day: Annotated[int, AtLeast(0)]
    sms_per_hour: Annotated[int, AtLeast(0)]


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with, typed and checked once, at start-up."""

    environment: Environment
    instance_path: Path  # made absolute (relative to the project) at load
    database_url: str  # an empty value becomes the SQLite file under instance_path at load
    redis_url: str  # empty: the embedded server
    redis_prefix: str
    timezone: ZoneInfo
    phone_region: Annotated[str, PhoneRegion()]
    log_level: LogLevel
    max_request_bytes: Annotated[int, AtLeast(1024)]
    trees: tuple[Path, ...]  # made absolute at load
    default_tree: str
    ussd: UssdSettings
    sms: SmsSettings
    rate_limits: RateLimitSettings
    outbox: OutboxSettings
    gateways: GatewaySettings
    database: DatabaseSettings
    ops: OpsSettings
    web: WebSettings
    follow: FollowSettings
    exports: ExportSettings
    notify: NotifySettings
    secret_key: str = field(metadata=SECRET, repr=False)
    phone_key: str = field(metadata=SECRET, repr=False)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    def screen_limits(self) -> list[int]:
        """Every screen limit a tree must fit: USSD's, each network's override, and SMS's."""
        limits = {self.ussd.screen_limit, self.sms.screen_limit, *self.ussd.network_limits.values()}
        return sorted(limits)
