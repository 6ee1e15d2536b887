"""Reports in the database and sessions in Redis, on both backends."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import lz4.block
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, func, select

from channels.sessions import UssdSession
from services import EXTENSION_KEY, Services
from storage import operations, references, sessions
from storage.models import Report, Reporter
from storage.phones import PhoneVault

from .conftest import FIXED_NOW, PHONE_KEY, Backend
from .phone import TO_CONFIRM_FR, Phone, built_app

NUMBER = "+243812345678"
NATIONAL = "812345678"  # the part of the number every written form of it contains


def _reports(services: Services) -> list[Report]:
    with services.db.session() as session:
        return list(session.scalars(select(Report).order_by(Report.id)))


def _report(client: FlaskClient, session_id: str, answers: list[str], **kw: Any) -> str:
    phone = Phone(client, session_id, **kw)
    phone.dial()
    phone.send(*answers)
    return phone.send("1")


# The report row ------------------------------------------------------------------------------


def _expected_hash(number: str) -> str:
    """HMAC-SHA256 of the E.164 number under a key derived from PHONE_KEY (HKDF, own purpose)."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"kufatilia", info=b"phone-hash-v1"
    ).derive(PHONE_KEY.encode())
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def test_the_report_row_holds_every_field(client: FlaskClient, services: Services) -> None:
    end = _report(client, "ATUid_row", TO_CONFIRM_FR, network="63002")
    (report,) = _reports(services)
    assert references.is_valid(report.reference)
    assert report.reference in end
    assert report.created_at == FIXED_NOW
    assert report.created_at.tzinfo is not None
    assert report.created_at.utcoffset() == UTC.utcoffset(None)
    assert (report.channel, report.gateway) == ("ussd", "africastalking")
    assert report.conversation_key == "ussd:africastalking:ATUid_row"
    assert (report.language, report.tree_id, report.tree_version) == ("fr", "incident", 1)
    assert (report.category, report.subcategory) == ("accident", "accident.collapse")
    assert (report.province_iso, report.province_pcode, report.province_name) == (
        "CD-IT",
        "CD54",
        "Ituri",
    )
    assert (report.territory, report.territory_pcode) == ("Djugu", "CD5405")
    assert report.site == "Mongbwalu"
    # "This week", on 24 November in Lubumbashi's time: the seven days up to today.
    assert (report.occurred_on, report.occurred_until) == (date(2026, 11, 18), date(2026, 11, 24))
    assert report.details == "Deux blessés au puits"
    assert report.network_code == "63002"
    assert report.status == "new"
    assert report.answers["category"]["value"] == "accident"
    assert report.answers["territory"]["pcode"] == "CD5405"
    assert report.answers["when"]["value"] == "this_week"
    assert json.loads(json.dumps(report.answers)) == report.answers
    assert report.reporter_hash == _expected_hash(NUMBER)
    assert report.reporter_hash == services.vault.hash(NUMBER)
    assert PhoneVault(PHONE_KEY).decrypt(report.reporter_encrypted) == NUMBER


@pytest.mark.parametrize(
    ("when", "occurred_on", "occurred_until"),
    [
        (["1"], date(2026, 11, 24), None),
        (["2"], date(2026, 11, 23), None),
        (["4", "05/03/2026"], date(2026, 3, 5), None),
    ],
)
def test_occurred_on_follows_the_when_answer(
    client: FlaskClient,
    services: Services,
    when: list[str],
    occurred_on: date,
    occurred_until: date | None,
) -> None:
    answers = [*TO_CONFIRM_FR[:7], *when, "2"]
    assert _report(client, "ATUid_when", answers).startswith("END ")
    (report,) = _reports(services)
    assert (report.occurred_on, report.occurred_until) == (occurred_on, occurred_until)
    assert report.details is None  # "2": nothing to add


def test_today_is_the_reporters_day_not_utcs(client: FlaskClient, services: Services) -> None:
    # 23:30 UTC is already 01:30 the next day in Lubumbashi (UTC+2).
    services.clock.fixed = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    _report(client, "ATUid_midnight", [*TO_CONFIRM_FR[:7], "1", "2"])
    (report,) = _reports(services)
    assert report.occurred_on == date(2026, 11, 25)
    assert report.created_at == datetime(2026, 11, 24, 23, 30, tzinfo=UTC)


def test_other_province_and_unknown_territory_store_no_place(
    client: FlaskClient, services: Services
) -> None:
    # Other category (no sub-category), another province but not known which (no territory),
    # site unknown.
    _report(client, "ATUid_noplace", ["3", "1", "8", "9", "19", "1", "1", "2"])
    _report(
        client,
        "ATUid_unknown",
        ["1", "1", "1", "1", "4", "10", "1", "2", "2"],
        number="+243812000001",
    )
    first, second = _reports(services)
    assert (first.category, first.subcategory) == ("other", None)
    assert (first.province_iso, first.territory, first.site) == (None, None, None)
    assert first.answers["province"]["value"] == "other"
    assert first.answers["site"]["skipped"] is True
    assert (second.province_iso, second.territory, second.territory_pcode) == ("CD-SK", None, None)
    assert second.language == "sw"


def _all_values(services: Services) -> list[tuple[str, str, Any]]:
    """Every value of every column of every table in the database (reflected, not our models)."""
    metadata = MetaData()
    metadata.reflect(bind=services.db.engine)
    found: list[tuple[str, str, Any]] = []
    with services.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for column, value in row._mapping.items():
                    found.append((table.name, str(column), value))
    return found


def test_the_clear_number_is_in_no_column_of_any_table(
    client: FlaskClient, services: Services
) -> None:
    _report(client, "ATUid_scan", TO_CONFIRM_FR)
    # A second, dropped session and its end-of-session notification.
    phone = Phone(client, "ATUid_scan_2")
    phone.dial()
    phone.send("1", "1")
    notification = {"sessionId": "ATUid_scan_2", "status": "Incomplete", "phoneNumber": NUMBER}
    assert client.post("/ussd/africastalking/events", data=notification).status_code == 200
    values = _all_values(services)
    tables = {table for table, _, _ in values}
    assert {"reports", "reporters", "ussd_session_logs"} <= tables
    for table, column, value in values:
        text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
        assert NATIONAL not in text, (table, column)


def test_the_clear_number_is_in_no_redis_key_or_value(
    client: FlaskClient, services: Services
) -> None:
    phone = Phone(client, "ATUid_redis_scan")
    phone.dial()
    phone.send(*TO_CONFIRM_FR[:5])  # broken off: a resume point exists too
    keys = list(services.redis.scan_iter(match=services.sessions.prefix + "*"))
    assert len(keys) >= 2
    for key in keys:
        assert NATIONAL.encode() not in key
        if services.redis.type(key) == b"hash":  # the phone's rate-limit counters
            values: dict[bytes, bytes] = services.redis.hgetall(key)  # type: ignore[assignment]
            raw = b" ".join([*values, *values.values()])
        else:
            found = services.redis.get(key)
            assert isinstance(found, bytes)
            raw = found
        assert raw and NATIONAL.encode() not in raw


# Writing reports: idempotence and references ---------------------------------------------


def _submission(conversation: str) -> operations.Submission:
    return operations.Submission(
        language="en",
        tree_id="incident",
        tree_version=1,
        answers={"category": {"key": "category", "node": "category", "value": "fraud"}},
        channel="ussd",
        gateway="africastalking",
        conversation_key=conversation,
        network_code="63001",
    )


def _create(
    services: Services, submission: operations.Submission, fresh: list[str]
) -> tuple[Report, bool]:
    """Store ``submission``; the references it draws come from ``fresh``, in turn."""
    supply = iter(fresh)
    with services.db.transaction() as session:
        return operations.create_report(
            session,
            submission,
            phone=NUMBER,
            vault=services.vault,
            now=FIXED_NOW,
            local_today=date(2026, 11, 24),
            new_reference=lambda: next(supply),
        )


def test_create_report_is_idempotent_per_conversation(services: Services) -> None:
    first, created = _create(services, _submission("ussd:at:one"), ["1000009"])
    again, created_again = _create(services, _submission("ussd:at:one"), ["2000007"])
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert again.reference == "1000009"
    assert len(_reports(services)) == 1


def test_a_taken_reference_is_replaced_by_a_fresh_one(services: Services) -> None:
    _create(services, _submission("ussd:at:a"), ["1000009"])
    _create(services, _submission("ussd:at:b"), ["2000007"])
    # Two references drawn are already taken before a free one comes up.
    third, created = _create(services, _submission("ussd:at:c"), ["2000007", "1000009", "3000005"])
    assert created
    assert third.reference == "3000005"
    assert sorted(r.reference for r in _reports(services)) == ["1000009", "2000007", "3000005"]


def test_the_end_screen_shows_the_reference_actually_stored(
    client: FlaskClient, services: Services
) -> None:
    # The app's seeded generator will first produce exactly this reference: take it beforehand.
    assert services.rng is not None
    collision = references.generate(random.Random(20261124))
    _create(services, _submission("ussd:at:earlier"), [collision])
    end = _report(client, "ATUid_collide", TO_CONFIRM_FR)
    stored = [r for r in _reports(services) if r.conversation_key.endswith("ATUid_collide")]
    assert len(stored) == 1
    assert stored[0].reference != collision
    assert references.is_valid(stored[0].reference)
    assert f"Numéro : {stored[0].reference}." in end


def test_report_columns_from_answers() -> None:
    answers: dict[str, dict[str, Any]] = {
        "category": {"value": "labour"},
        "subcategory": {"value": "labour.child_under_15"},
        "province": {"value": "CD-HK", "pcode": "CD71", "label": "Haut-Katanga"},
        "territory": {"value": "unknown"},
        "site": {"value": "", "skipped": True},
        "when": {"value": "earlier"},
        "date": {"value": "2026-01-31"},
        "details": {"value": "Enfants au puits"},
    }
    columns = operations.report_columns(answers, date(2026, 11, 24))
    assert columns == {
        "category": "labour",
        "subcategory": "labour.child_under_15",
        "province_iso": "CD-HK",
        "province_pcode": "CD71",
        "province_name": "Haut-Katanga",
        "territory": None,
        "territory_pcode": None,
        "site": None,
        "occurred_on": date(2026, 1, 31),
        "occurred_until": None,
        "details": "Enfants au puits",
    }


# Sessions in Redis --------------------------------------------------------------------------


def test_the_session_document(backend: Backend, tmp_path: Path) -> None:
    with built_app(backend, tmp_path, ussd={"session_ttl": 120}) as app:
        services: Services = app.extensions[EXTENSION_KEY]
        phone = Phone(app.test_client(), "ATUid_doc")
        phone.dial()
        reply = phone.send("2", "1", "1", "1", "9", "98", "17")
        key = services.sessions.prefix + "ussd:s:africastalking:ATUid_doc"
        ttl = services.redis.ttl(key)
        # A report under way: the session is also what the phone's resume point names, so it
        # lives for the resume window (900 s), not just the session's 120 s.
        assert 120 < ttl <= services.settings.ussd.resume_window
        raw = services.redis.get(key)
        assert raw is not None
        document = json.loads(sessions.decode(raw))
        state = document["state"]
        assert (state["tree_id"], state["tree_version"]) == ("incident", 1)
        assert state["node"] == "territory"
        assert state["language"] == "fr"
        assert [(a["key"], a["value"]) for a in state["answers"]] == [
            ("category", "accident"),
            ("subcategory", "accident.collapse"),
            ("province", "other"),
            ("province", "CD-TO"),
        ]
        assert [frame["node"] for frame in state["stack"]] == [
            "language",
            "main",
            "category",
            "sub_accident",
            "province",
            "province_other",
        ]
        assert state["stack"][-1]["page"] == 1
        # The USSD record: the state and the last exchange, nothing else (channels/sessions.py).
        assert set(document) == {"state", "text", "reply", "end"}
        assert document["text"] == "2*1*1*1*9*98*17"
        assert (document["reply"], document["end"]) == (reply[4:], False)
        assert len(raw) < 600  # small: compressed, less than one screen's worth of state


def test_the_resume_point_lives_for_the_resume_window(
    client: FlaskClient, services: Services
) -> None:
    phone = Phone(client, "ATUid_resume_ttl")
    phone.dial()
    phone.send("2", "1", "1")
    key = services.sessions.prefix + "ussd:resume:" + services.vault.hash(NUMBER)
    ttl = services.redis.ttl(key)
    ussd = services.settings.ussd
    assert ussd.session_ttl < ttl <= ussd.resume_window
    point = services.sessions.resume_point("ussd", services.vault.hash(NUMBER))
    assert point is not None
    assert point.session_id == "africastalking:ATUid_resume_ttl"
    assert point.state["node"] == "sub_accident"
    # Finishing the report leaves only its reference, for "your report was received" once.
    phone.send(*TO_CONFIRM_FR[3:], "1")
    point = services.sessions.resume_point("ussd", services.vault.hash(NUMBER))
    assert point is not None
    assert point.state["ended"] and point.state["reference"]
    assert ussd.session_ttl < services.redis.ttl(key) <= ussd.resume_window
    # The next dial hears it, and nothing is left for the one after.
    assert Phone(client, "ATUid_resume_ttl_2").dial().startswith("CON Votre alerte ")
    assert services.redis.exists(key) == 0


def test_the_language_is_remembered_by_phone_hash(client: FlaskClient, services: Services) -> None:
    Phone(client, "ATUid_lang_1").send("3")
    with services.db.session() as session:
        (reporter,) = session.scalars(select(Reporter))
    assert reporter.phone_hash == services.vault.hash(NUMBER)
    assert reporter.language == "en"
    assert reporter.updated_at == FIXED_NOW
    again = Phone(client, "ATUid_lang_2").dial()
    assert again.startswith("CON Kufatilia: report an incident at a mine.")
    other = Phone(client, "ATUid_lang_3", number="+243812999999").dial()
    assert other.startswith("CON Lugha / Langue / Language")
    # Changing it from the main menu updates the same row.
    Phone(client, "ATUid_lang_4").send("2", "2")
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Reporter)) == 1
        assert session.scalar(select(Reporter.language)) == "fr"


def test_sessions_of_one_app_do_not_leak_into_another(
    backend: Backend, tmp_path: Path, app: Flask
) -> None:
    # Two apps on one Redis keep apart through their key prefix.
    Phone(app.test_client(), "ATUid_shared").send("2")
    with built_app(backend, tmp_path) as other:
        services: Services = other.extensions[EXTENSION_KEY]
        key = "africastalking:ATUid_shared"
        assert services.sessions.load("ussd", key, UssdSession.from_json) is None


def _zlib_with_dictionary(document: str) -> bytes:
    """How the previous version wrote a document: zlib, a 4 KB window, the preset dictionary."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 12, 4, zdict=sessions._DICTIONARY_1)
    return packer.compress(document.encode()) + packer.flush()


@pytest.mark.parametrize(
    "written",
    [
        pytest.param(lambda doc: doc.encode(), id="plain JSON (before compression)"),
        pytest.param(lambda doc: zlib.compress(doc.encode(), 1), id="zlib, default window"),
        pytest.param(_zlib_with_dictionary, id="zlib with the dictionary"),
        pytest.param(sessions.encode, id="lz4"),
    ],
)
def test_a_session_document_is_read_whichever_way_it_was_written(
    written: Callable[[str], bytes],
) -> None:
    # Sessions outlive a deployment: a reporter mid-report while the service is upgraded.
    document = json.dumps({"state": {"node": "territory", "answers": ["é" * 300]}, "end": False})
    assert sessions.decode(written(document)) == document
    assert sessions.decode(document) == document


def test_a_session_document_names_its_dictionary_and_an_unknown_one_is_refused() -> None:
    document = json.dumps({"state": {"node": "site", "answers": []}, "text": "2*1", "end": False})
    raw = sessions.encode(document)
    assert raw[:2] == b"L\x01"  # LZ4, dictionary number 1
    assert sessions.decode(raw) == document
    # Without the dictionary the block does not even decompress: it is written against it.
    with pytest.raises(lz4.block.LZ4BlockError):
        lz4.block.decompress(raw[2:])
    # A document naming a dictionary this version does not have is refused, not misread.
    with pytest.raises(sessions.UnreadableDocument, match="unknown dictionary"):
        sessions.decode(b"L\x09" + raw[2:])
    # zlib (the previous version's format): the dictionary's Adler-32 is in the header.
    old = _zlib_with_dictionary(document)
    assert old[1] & 0x20  # zlib's FDICT
    assert int.from_bytes(old[2:6], "big") == zlib.adler32(sessions._DICTIONARY_1)
    packer = zlib.compressobj(1, zlib.DEFLATED, 12, 4, zdict=b'{"other":"dictionary"}')
    foreign = packer.compress(document.encode()) + packer.flush()
    with pytest.raises(sessions.UnreadableDocument, match="unknown preset dictionary"):
        sessions.decode(foreign)


@pytest.mark.parametrize(
    "damaged",
    [
        pytest.param(b"L\x01" + b"\xff" * 40, id="lz4, a size too large to allocate"),
        pytest.param(b"L\x01" + (50).to_bytes(4, "little") + b"\xff" * 40, id="lz4"),
        pytest.param(b"x\x01" + b"\xff" * 40, id="zlib"),
        pytest.param(b'{"state": "\xff"}', id="JSON not UTF-8"),
    ],
)
def test_a_damaged_session_document_is_unreadable_not_an_error_of_its_own(damaged: bytes) -> None:
    with pytest.raises(sessions.UnreadableDocument, match="damaged"):
        sessions.decode(damaged)


def test_a_session_this_version_cannot_read_ends_cleanly(
    client: FlaskClient, services: Services
) -> None:
    # A document from a newer version (a dictionary this one lacks), or damaged: the reporter
    # hears "please dial again" in their language, at once, and nothing is stored; the lock is
    # free for the next request (it was held until it expired, with "unavailable" meanwhile).
    phone = Phone(client, "ATUid_unreadable")
    phone.send("2", "1", "1", "1")  # French, report, accident, collapse
    key = services.sessions._key("ussd", "s", "africastalking:ATUid_unreadable")
    written = services.redis.get(key)
    assert isinstance(written, bytes) and written[:2] == b"L\x01"
    services.redis.set(key, b"L\x09" + written[2:])
    interrupted = "END Désolé, la session a été interrompue. Composez à nouveau le code."
    assert phone.send("4") == interrupted
    # The gateway's retry: the same answer at once, not "unavailable" after waiting out a lock
    # the first request left held.
    assert phone.send("4") == interrupted
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0
    assert Phone(client, "ATUid_unreadable_2").dial().startswith("CON Kufatilia: signaler")


def test_a_session_document_is_compressed() -> None:
    document = json.dumps({"text": "1*2*3", "reply": "Chagua jimbo:\n" * 60})
    assert len(sessions.encode(document)) < len(document) // 10
