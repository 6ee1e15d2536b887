"""Writes of the intake: reports, reporters' languages, USSD session ends, incoming SMS ids."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Table, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from menus import contract
from menus.contract import CATEGORY, DATE, DETAILS, PROVINCE, SITE, SUBCATEGORY, TERRITORY, WHEN

from ..db import Database
from ..models import Report, Reporter, SmsIncoming, UssdSessionLog
from ..phones import PhoneVault

WEEK_DAYS = 7


@dataclass(frozen=True)
class Submission:
    """A report as the conversation finished it, before it is stored (and given a reference)."""

    language: str
    tree_id: str
    tree_version: int
    answers: dict[str, dict[str, Any]]
    channel: str
    gateway: str
    conversation_key: str
    network_code: str | None


def _value(answers: dict[str, dict[str, Any]], key: str) -> str | None:
    entry = answers.get(key)
    if not entry or entry.get("skipped"):
        return None
    value = entry.get("value")
    return str(value) if value not in (None, "") else None


def occurrence(answers: dict[str, dict[str, Any]], today: date) -> tuple[date | None, date | None]:
    """(occurred_on, occurred_until) from the "when" answer, relative to the reporter's today."""
    typed = _value(answers, DATE.key)
    if typed:
        try:
            return date.fromisoformat(typed), None
        except ValueError:
            return None, None
    when = _value(answers, WHEN.key)
    if when == contract.WHEN_TODAY:
        return today, None
    if when == contract.WHEN_YESTERDAY:
        return today - timedelta(days=1), None
    if when == contract.WHEN_THIS_WEEK:
        return today - timedelta(days=WEEK_DAYS - 1), today
    return None, None


def report_columns(answers: dict[str, dict[str, Any]], today: date) -> dict[str, Any]:
    """The structured columns of a report, from the answers keyed by ``menus.contract``.

    The validator proves every served tree answers these keys the way they are read here.
    """
    province = answers.get(PROVINCE.key) or {}
    territory = answers.get(TERRITORY.key) or {}
    occurred_on, occurred_until = occurrence(answers, today)
    province_code = _value(answers, PROVINCE.key)
    territory_code = _value(answers, TERRITORY.key)
    return {
        "category": _value(answers, CATEGORY.key),
        "subcategory": _value(answers, SUBCATEGORY.key),
        "province_iso": None if province_code in (None, *PROVINCE.none_values) else province_code,
        "province_pcode": province.get("pcode"),
        "province_name": province.get("label"),
        "territory": None
        if territory_code in (None, *TERRITORY.none_values)
        else territory.get("label"),
        "territory_pcode": territory.get("pcode"),
        "site": _value(answers, SITE.key),
        "occurred_on": occurred_on,
        "occurred_until": occurred_until,
        "details": _value(answers, DETAILS.key),
    }


@functools.cache
def _insert_report(dialect: str) -> Any:
    """Built once: the values go in as parameters, so SQLAlchemy compiles it once too (built
    with its values, it was rebuilt, re-coerced and re-keyed for the cache on every report).
    Core, not the ORM: a submit hop needs the row's id, not an object (the ORM's bulk insert
    returning objects was a tenth of a hop's CPU)."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, Report.__table__)
    return insert(table).on_conflict_do_nothing().returning(table.c.id)


@dataclass(frozen=True)
class StoredReport:
    """What a conversation needs of a report it stored: to tell the reporter, and to log."""

    id: int
    reference: str
    category: str | None
    language: str


def store_report(
    session: Session,
    submission: Submission,
    *,
    phone: str,
    vault: PhoneVault,
    now: datetime,
    local_today: date,
    new_reference: Callable[[], str],
) -> tuple[StoredReport, bool]:
    """Store a submitted report once, under a reference drawn here. Returns (report, created).

    A conversation gives at most one report: a repeat of the final request returns the report
    already stored, reference and all. A reference already taken (rare: one in ~900,000) is
    drawn again, so the reference is final once this returns, inside the caller's transaction.
    """
    # The common case in one round trip: the row goes in unless its conversation's report or
    # its reference is there already (ON CONFLICT on either: nothing inserted, nothing
    # returned). Then a second look says which: the report stored by an earlier request, or a
    # reference taken, drawn again.
    statement = _insert_report(session.get_bind().dialect.name)
    columns = report_columns(submission.answers, local_today)
    columns.update(
        created_at=now,
        channel=submission.channel,
        gateway=submission.gateway,
        conversation_key=submission.conversation_key,
        language=submission.language,
        tree_id=submission.tree_id,
        tree_version=submission.tree_version,
        answers=submission.answers,
        network_code=submission.network_code,
        status="new",
        notify_pending=True,  # the worker's sweep tells the members (``notify.sweep``)
        reporter_hash=vault.hash(phone),
        reporter_encrypted=vault.encrypt(phone),
    )
    while True:
        reference = new_reference()
        new_id = session.execute(statement, {"reference": reference, **columns}).scalar()
        if new_id is not None:
            stored = StoredReport(new_id, reference, columns["category"], submission.language)
            return stored, True
        earlier = session.execute(
            select(Report.id, Report.reference, Report.category, Report.language).where(
                Report.conversation_key == submission.conversation_key
            )
        ).first()
        if earlier is not None:
            return StoredReport(*earlier), False


def create_report(session: Session, submission: Submission, **options: Any) -> tuple[Report, bool]:
    """``store_report`` (the same keyword arguments), returning the stored row as an ORM object
    (one more SELECT): for callers that go on with the row (tests, tools), not for a hop."""
    stored, created = store_report(session, submission, **options)
    report = session.get(Report, stored.id)
    assert report is not None  # stored in this transaction
    return report, created


# On a USSD hop, on PostgreSQL: the statement as the driver takes it (``Database.single_row``).
_REMEMBER_PG = (
    "INSERT INTO reporters (phone_hash, language, updated_at)"
    " VALUES (%(phone_hash)s, %(language)s, %(updated_at)s)"
    " ON CONFLICT (phone_hash) DO UPDATE"
    " SET language = EXCLUDED.language, updated_at = EXCLUDED.updated_at"
)


def remember_language(
    session: Session | Connection, phone_hash: str, language: str, now: datetime
) -> None:
    """One statement (an upsert), not a read then a write."""
    values = {"phone_hash": phone_hash, "language": language, "updated_at": now}
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    upsert = (
        postgresql_insert(Reporter) if dialect.name == "postgresql" else sqlite_insert(Reporter)
    ).values(**values)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[Reporter.phone_hash],
            set_={"language": language, "updated_at": now},
        )
    )


def remember_language_at_once(db: Database, phone_hash: str, language: str, now: datetime) -> None:
    """``remember_language`` as one statement of its own, outside any transaction: the language
    choice is on a USSD hop (``Database.single_statements``)."""
    if db.on_postgresql:
        db.single_row(
            _REMEMBER_PG, {"phone_hash": phone_hash, "language": language, "updated_at": now}
        )
        return
    with db.single_statements() as connection:
        remember_language(connection, phone_hash, language, now)


def record_ussd_session_end(session: Session, **fields: Any) -> UssdSessionLog:
    log = UssdSessionLog(**fields)
    session.add(log)
    session.flush()
    return log


def record_sms_incoming(
    session: Session,
    *,
    gateway: str,
    message_id: str,
    received_at: datetime,
    sent_at: datetime | None,
    reporter_hash: str,
    shortcode: str,
    network_code: str | None,
) -> SmsIncoming:
    """Remember an incoming SMS as handled. Its unique (gateway, id) makes a second insert fail."""
    row = SmsIncoming(
        gateway=gateway,
        message_id=message_id,
        received_at=received_at,
        sent_at=sent_at,
        reporter_hash=reporter_hash,
        shortcode=shortcode,
        network_code=network_code,
    )
    session.add(row)
    session.flush()
    return row


def forget_sms_incoming(session: Session, received_before: datetime) -> int:
    """Drop deduplication rows older than any gateway retry (Africa's Talking: 12 hours)."""
    result = session.execute(delete(SmsIncoming).where(SmsIncoming.received_at < received_before))
    return result.rowcount if isinstance(result, CursorResult) else 0
