"""Each channel's session record (channels/sessions.py): its own type, small, and forgiving of a
document it cannot read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from channels.sessions import SmsMemory, SmsSession, UssdSession
from channels.turn import UssdReply
from menus.state import Frame, State

STATE = State(
    tree_id="incident",
    tree_version=1,
    node="sub_accident",
    language="fr",
    answers=[{"key": "category", "node": "category", "value": "accident"}],
    stack=[Frame("language", 0, 0), Frame("main", 0, 0), Frame("category", 0, 0)],
)
RECORDS: list[Any] = [
    UssdSession(STATE, last_text="2*1*1", reply=UssdReply("Accident : quel type ?", end=False)),
    UssdSession(STATE, last_text=None, reply=UssdReply("Merci", end=True)),
    SmsSession(STATE, conversation_id="ATXid_1", last_message_id="ATXid_4", last_activity=1.5e9),
    SmsMemory(language="sw", open=True),
    SmsMemory(language=None, open=False),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_a_record_round_trips_through_its_json(record: Any) -> None:
    raw = record.to_json()
    assert type(record).from_json(raw.encode()) == record
    assert '", "' not in raw and '": ' not in raw  # compact: every byte is kept in Redis


@pytest.mark.parametrize("kind", [UssdSession, SmsSession, SmsMemory])
@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'"text"',
        b"{}",
        # The shape written before each channel had its own record (issue 6).
        json.dumps(
            {"state": STATE.to_dict(), "last_input": "1", "last_reply": {}, "phone_hash": "h"}
        ).encode(),
    ],
)
def test_an_unreadable_document_counts_as_no_conversation(kind: Any, raw: bytes) -> None:
    assert kind.from_json(raw) is None


def test_a_ussd_record_holds_the_state_and_the_last_exchange_only() -> None:
    document = json.loads(RECORDS[0].to_json())
    assert document == {
        "state": STATE.to_dict(),
        "text": "2*1*1",
        "reply": "Accident : quel type ?",
        "end": False,
    }


def test_a_record_written_by_the_standard_library_is_read() -> None:
    # Records written before orjson (ASCII-escaped, with spaces) outlive a deployment.
    record = UssdSession(STATE, last_text="2*1", reply=UssdReply("Eneo gani? é ü", end=False))
    older = json.dumps(json.loads(record.to_json()))
    assert "\\u00e9" in older
    assert UssdSession.from_json(older.encode()) == record


def test_a_text_orjson_refuses_is_still_saved() -> None:
    # A lone surrogate cannot come from a UTF-8 form, but a record must never fail to save.
    record = UssdSession(STATE, last_text="2*\ud800", reply=UssdReply("Merci", end=True))
    assert UssdSession.from_json(record.to_json()) == record
