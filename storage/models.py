"""Tables. Reporters appear only as a keyed hash and an encrypted copy of their number."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(16))  # ussd | sms
    gateway: Mapped[str] = mapped_column(String(32))
    # One report per gateway conversation: a repeated final request finds this and stops.
    conversation_key: Mapped[str] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    tree_id: Mapped[str] = mapped_column(String(64))
    tree_version: Mapped[int] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(64))
    subcategory: Mapped[str | None] = mapped_column(String(96))
    province_iso: Mapped[str | None] = mapped_column(String(8))
    province_pcode: Mapped[str | None] = mapped_column(String(16))
    province_name: Mapped[str | None] = mapped_column(String(64))
    territory: Mapped[str | None] = mapped_column(String(96))
    territory_pcode: Mapped[str | None] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(200))
    occurred_on: Mapped[date | None] = mapped_column(Date)
    occurred_until: Mapped[date | None] = mapped_column(Date)  # end of a range ("this week")
    details: Mapped[str | None] = mapped_column(Text)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    network_code: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="new")
    reporter_hash: Mapped[str] = mapped_column(String(64), index=True)
    reporter_encrypted: Mapped[str] = mapped_column(Text)
    # Follow-up by the CSOs (web platform). The columns above hold the *current* values; what the
    # reporter sent is in ``answers`` and in the first ``before`` of each field's audit rows.
    verification: Mapped[str] = mapped_column(
        String(20), default="unverified", server_default="unverified"
    )
    closed_reason: Mapped[str | None] = mapped_column(String(20))
    assigned_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", name="fk_reports_assigned_org")
    )
    # A duplicate points at its group's head (never at another duplicate); the inbox lists heads.
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", name="fk_reports_duplicate_of"), index=True
    )
    # Set by every follow-up operation: the dashboard recounts only the months whose reports
    # were received or changed since its last count (storage/queries/dashboard.py).
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Stored by a reporter, its members not told yet: the worker's sweep finds it (``notify``),
    # so the hop that stores it queues nothing, and a report is announced even when its hop
    # could not reach Redis after the commit.
    notify_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    # The inbox's first page for one filter, newest first, is an index range scan on one of these
    # (bench/inbox.py measures them at 1,000,000 reports). Low-cardinality filters (channel,
    # language) ride on the created_at index: their matches are dense among the newest reports.
    __table_args__ = (
        Index("ix_reports_inbox_status", "status", "created_at", "id"),
        Index("ix_reports_inbox_verification", "verification", "created_at", "id"),
        Index("ix_reports_inbox_category", "category", "created_at", "id"),
        Index("ix_reports_inbox_subcategory", "subcategory", "created_at", "id"),
        Index("ix_reports_inbox_province", "province_iso", "created_at", "id"),
        Index("ix_reports_inbox_territory", "territory_pcode", "created_at", "id"),
        Index("ix_reports_inbox_assigned", "assigned_org_id", "created_at", "id"),
        Index("ix_reports_inbox_occurred", "occurred_on", "id"),
        # Only the reports still to announce: a few rows, whatever the table's size.
        Index(
            "ix_reports_notify_pending",
            "id",
            postgresql_where=text("notify_pending"),
            sqlite_where=text("notify_pending"),
        ),
        # A filtered dashboard counts every group head by nine columns in one pass: an index-only
        # scan of this (a fifth of the table's size at a million reports) instead of the whole
        # table. The unfiltered one reads ``DashboardCount`` instead.
        # With the organisation it is assigned to and the id (which the restricted visibility's
        # "forwarded to us" looks up), a CSO's own view is an index-only scan too.
        Index(
            "ix_reports_dashboard",
            "created_at",
            postgresql_include=[
                "category",
                "subcategory",
                "province_iso",
                "territory_pcode",
                "status",
                "verification",
                "channel",
                "language",
                "assigned_org_id",
                "id",
            ],
            postgresql_where=text("duplicate_of_id IS NULL"),
            sqlite_where=text("duplicate_of_id IS NULL"),
        ),
        # Substring search ("site contains", words of details) through trigrams on PostgreSQL;
        # SQLite gets a plain index it will not use for LIKE '%x%' (harmless, and the schemas
        # stay comparable).
        Index(
            "ix_reports_site_trgm",
            "site",
            postgresql_using="gin",
            postgresql_ops={"site": "gin_trgm_ops"},
        ),
        Index(
            "ix_reports_details_trgm",
            "details",
            postgresql_using="gin",
            postgresql_ops={"details": "gin_trgm_ops"},
        ),
    )


class DashboardCount(Base):
    """How many reports the whole network's dashboard counts, kept by database triggers on
    ``reports`` in the same transaction as every write (migrations a5d2e8c4f1b7, b8e3f1a9c2d6).
    Each report that is not a duplicate is in three rows, by its status, verification, channel
    and language (the small dimensions, at most 120 values together) and: its category and
    sub-category (``grp`` 0), its province and territoire (1), both with ``month`` '', or its
    UTC month received (2). A write that changes a counted column writes -1 for what the report
    was and +1 for what it is. The columns outside a row's group are ''.

    Rows are added, never updated (writers never wait for each other on a shared count); the
    counts are the sums of ``n`` by key, and ``operations.compact_dashboard_counts`` merges the
    rows of a key into one. In a counted column '' stands for NULL (no report stores ''; the
    intake and corrections store None instead)."""

    __tablename__ = "dashboard_counts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # "YYYY-MM" of created_at in UTC (grp 2), or ''
    grp: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(64), server_default="")
    subcategory: Mapped[str] = mapped_column(String(96), server_default="")
    province: Mapped[str] = mapped_column(String(8), server_default="")
    territory: Mapped[str] = mapped_column(String(16), server_default="")
    status: Mapped[str] = mapped_column(String(16), server_default="")
    verification: Mapped[str] = mapped_column(String(20), server_default="")
    channel: Mapped[str] = mapped_column(String(16), server_default="")
    language: Mapped[str] = mapped_column(String(8), server_default="")
    n: Mapped[int] = mapped_column(Integer)


class Organisation(Base):
    """A CSO of the network. Its area and expertise decide what it sees under restricted visibility."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    provinces: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO 3166-2, e.g. CD-SK
    territories: Mapped[list[str]] = mapped_column(JSON, default=list)  # territoire p-codes
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # category codes
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A CSO staff member: one organisation, one role (web/permissions.py says what each may do)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # coordinator | org_admin | analyst | viewer
    language: Mapped[str | None] = mapped_column(String(8))  # None: the browser's
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the session id: raising it (password change, disabling) ends every open session.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An org_admin the coordinator allows to edit the menu trees (coordinators always may).
    menu_editor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ApiToken(Base):
    """A read-only API token of an organisation. Only its SHA-256 is stored; it is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to tell tokens apart
    scope: Mapped[str] = mapped_column(String(20), default="read")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportEvent(Base):
    """One thing that happened to a report, for its timeline. Append-only, like ReportChange.

    ``kind``: corrected, verified, status, action, forwarded, merged, message. ``value`` holds the
    kind's short result (new status, verification, action type...), ``note`` the person's words.
    """

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str | None] = mapped_column(String(64))
    previous: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    # forwarded: the receiving organisation; merged: the group's head; action: the action's date.
    target_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    target_report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    action_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        # "what was forwarded to us" under restricted visibility
        Index("ix_report_events_forwards", "target_org_id", "kind", "report_id"),
    )


class ReportChange(Base):
    """The audit trail: one row per corrected field. Append-only: no code path updates or deletes a
    row, the ORM refuses to (storage/audit.py) and a database trigger refuses as well."""

    __tablename__ = "report_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("report_events.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(String(32))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class Reporter(Base):
    """What we remember about a phone between sessions: only its chosen language."""

    __tablename__ = "reporters"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UssdSessionLog(Base):
    """Africa's Talking end-of-session notifications, to study where reporters drop off."""

    __tablename__ = "ussd_session_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[str] = mapped_column(String(200), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    service_code: Mapped[str | None] = mapped_column(String(64))
    network_code: Mapped[str | None] = mapped_column(String(16))
    reporter_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    hops: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[str | None] = mapped_column(String(64))
    last_node: Mapped[str | None] = mapped_column(String(64))
    last_response: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)


class SmsIncoming(Base):
    """Incoming SMS already handled, by the gateway's own id: a gateway's retry changes nothing.

    Written in the same transaction as the reply it caused, so "seen" and "answered" never
    disagree. The text itself is not kept here (a report keeps what it needs).
    """

    __tablename__ = "sms_incoming"
    __table_args__ = (UniqueConstraint("gateway", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the gateway's own timestamp
    reporter_hash: Mapped[str] = mapped_column(String(64), index=True)
    shortcode: Mapped[str] = mapped_column(String(32))
    network_code: Mapped[str | None] = mapped_column(String(16))


class OutboxStatus(StrEnum):
    """Where an outgoing SMS is: ``queued -> sending -> sent -> delivered``, or ``failed``, or
    ``expired`` (not sent before ``outbox.max_age_minutes``: never sent late)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"


class OutboxStatusText(TypeDecorator[OutboxStatus]):
    """The status as plain text in the table (no database enum to migrate), an enum in Python."""

    impl = String(16)
    cache_ok = True

    def process_bind_param(self, value: OutboxStatus | None, dialect: Dialect) -> str | None:
        return None if value is None else OutboxStatus(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> OutboxStatus | None:
        return None if value is None else OutboxStatus(value)


class OutboxMessage(Base):
    """An outgoing SMS, written with the state change that caused it and sent after the commit.

    ``status`` moves ``queued -> sending -> sent -> delivered`` or ends in ``failed``; every move
    is one conditional UPDATE, so two workers can never both send a row.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What caused the message, e.g. "sms-reply:africastalking:<incoming id>": at most one row each.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_encrypted: Mapped[str] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(32))  # the shortcode the reporter wrote to
    text: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))  # GSM-7 | UCS-2
    segments: Mapped[int] = mapped_column(Integer)
    status: Mapped[OutboxStatus] = mapped_column(OutboxStatusText, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    backend: Mapped[str | None] = mapped_column(String(32))
    gateway_message_id: Mapped[str | None] = mapped_column(String(100), index=True)
    gateway_status: Mapped[str | None] = mapped_column(String(32))
    cost: Mapped[str | None] = mapped_column(String(32))
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TreeVersion(Base):
    """One version of a menu tree: its source document as the editor wrote it, and its status.

    ``draft -> published -> archived``; an archived version can be published again (rollback).
    The partial unique index makes "exactly one published version per tree" a rule of the
    database, not a hope: a second published row cannot be committed, whoever writes it.
    ``revision`` counts saves of a draft, so a save of a stale copy can be refused.
    """

    __tablename__ = "tree_versions"
    __table_args__ = (
        UniqueConstraint("tree_id", "version"),
        CheckConstraint(
            "status IN ('draft', 'published', 'archived')", name="ck_tree_versions_status"
        ),
        Index(
            "uq_tree_versions_one_published",
            "tree_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest publication
    published_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))  # where it came from: a file, a rollback


class TreeAudit(Base):
    """The menu editor's audit trail: who did what to which tree version, and when (a save,
    a publish, a rollback, a retired code, a PO import, an editor allowed...). Append-only, like
    ``report_changes``: the ORM refuses updates and deletes, and database triggers refuse too."""

    __tablename__ = "tree_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    tree_id: Mapped[str | None] = mapped_column(String(64), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class NotificationPreference(Base):
    """What a member wants to hear of new reports in their organisation's area and expertise
    (and of reports forwarded to it): by e-mail and/or SMS, at once or in a daily digest. The
    phone for SMS is kept like a reporter's: a keyed hash and an encrypted copy, never in clear."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=False)
    sms: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    phone_encrypted: Mapped[str | None] = mapped_column(Text)
    frequency: Mapped[str] = mapped_column(String(16), default="immediate")  # immediate | daily
    # The next digest lists the reports received from this moment on.
    digest_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    """One notification sent to one member on one channel. A job that runs again (a retry, a
    second worker) finds it here and does not send it twice."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "kind", "subject", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # new_report | forwarded | digest
    subject: Mapped[str] = mapped_column(String(100))  # report:<id> | event:<id> | digest:<until>
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
