"""The conversation core both channels share (channels/conversation.py), and what a turn costs:
database statements and Redis round trips per USSD hop, and the outbox hand-off after commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis.connection import AbstractConnection
from sqlalchemy import event, select

from channels import setup
from channels.conversation import Conversations
from outbox import dispatch
from services import Services
from storage import lean_scripts, operations
from storage.limits import RateLimits, Windows
from storage.models import OutboxMessage

from .phone import TO_CONFIRM_FR, Phone
from .sms_support import Conversation


@contextmanager
def counted(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Count SQL statements and Redis round trips (a pipeline is one) while the block runs."""
    counts: dict[str, Any] = {"sql": 0, "redis": 0, "commands": []}

    def statement(*_args: Any) -> None:
        counts["sql"] += 1

    # At the socket: every write of one or more commands to Redis is one round trip, whether
    # it comes through redis-py's client or a pipeline...
    send = AbstractConnection.send_packed_command

    def one_trip(self: AbstractConnection, command: Any, *args: Any, **kwargs: Any) -> None:
        counts["redis"] += 1
        counts["commands"].append(command)
        send(self, command, *args, **kwargs)  # type: ignore[no-untyped-call]  # unannotated

    monkeypatch.setattr(AbstractConnection, "send_packed_command", one_trip)
    # ...or the hop's own lean scripts, which write to the socket themselves.
    exchange = lean_scripts._exchange

    def one_exchange(connection: AbstractConnection, command: bytes) -> Any:
        counts["redis"] += 1
        counts["commands"].append([command])
        return exchange(connection, command)

    monkeypatch.setattr(lean_scripts, "_exchange", one_exchange)
    # On PostgreSQL a hop's single statements go straight through the driver
    # (``Database.single_row``), past SQLAlchemy's events: each call is one statement.
    single_row = services.db.single_row

    def one_statement(*args: Any, **kwargs: Any) -> Any:
        counts["sql"] += 1
        return single_row(*args, **kwargs)

    monkeypatch.setattr(services.db, "single_row", one_statement)
    # Both pools: transactions, and the single statements in autocommit (on PostgreSQL an
    # engine of its own; on SQLite the same one).
    single = services.db.single_statement_engine()
    engines = [services.db.engine] + (
        [single] if single.pool is not services.db.engine.pool else []
    )
    for engine in engines:
        event.listen(engine, "before_cursor_execute", statement)
    try:
        yield counts
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", statement)
        monkeypatch.undo()


def test_what_a_ussd_hop_costs(
    client: FlaskClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Redis loads the lock's release script once per server: not a cost of every hop. Nor is
    # loading the script that reserves a report's slot.
    Phone(client, "ATUid_warm_up", number="+243812000999").dial()
    warm = RateLimits(services.redis, services.settings.redis_prefix)
    warm.reserve_report("warm-up", 1, Windows.at(services.clock.now(), services.settings.timezone))
    phone = Phone(client, "ATUid_cost")
    # Every hop is two Redis round trips (issue 10): one script takes the lock and reads the
    # session (for a new one also the resume point and the cached language), one saves and
    # releases. A phone never seen has no cached language yet: the database is asked once.
    with counted(services, monkeypatch) as first:
        phone.dial()
    assert (first["redis"], first["sql"]) == (2, 1), first
    # Choosing the language stores it in one statement of its own (autocommit: no BEGIN, no
    # COMMIT) and caches it in Redis in the hop's second round trip.
    with counted(services, monkeypatch) as language:
        phone.send("2")
    assert (language["redis"], language["sql"]) == (2, 1), language
    # A hop that writes nothing: two Redis round trips and no database at all.
    with counted(services, monkeypatch) as middle:
        phone.send("1")
    assert (middle["redis"], middle["sql"]) == (2, 0), middle
    phone.send(*TO_CONFIRM_FR[2:])
    with counted(services, monkeypatch) as submit:
        assert phone.send("1").startswith("END Merci")
    # One more round trip, before the commit, reserves the report's slot of the day
    # (``rate_limits.reports_per_day`` holds for sessions of one phone submitting at once). Its
    # notification is not queued by the hop: the worker's sweep finds the report.
    assert submit["redis"] == 3 and submit["sql"] > 0, submit
    # The same phone dials again: its language comes from Redis, not from the database (and its
    # last report's "received" notice from the same first round trip).
    with counted(services, monkeypatch) as again:
        assert Phone(client, "ATUid_cost_2").dial().startswith("CON Votre alerte")
    assert (again["redis"], again["sql"]) == (2, 0), again


def test_the_reply_is_handed_to_the_workers_only_after_the_commit(
    app: Flask, client: FlaskClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[tuple[list[int], int]] = []
    enqueue = dispatch.enqueue

    def enqueue_after_looking(services_: Services, ids: list[int]) -> int:
        # A separate connection sees only committed rows.
        with services_.db.engine.connect() as conn:
            visible = conn.execute(select(OutboxMessage.id).where(OutboxMessage.id.in_(ids)))
            handed.append((list(ids), len(visible.all())))
        return enqueue(services_, ids)

    monkeypatch.setattr(dispatch, "enqueue", enqueue_after_looking)
    Conversation(client, services).send("RIPOTI")
    ((ids, visible),) = handed
    assert len(ids) == 1 and visible == 1


def test_nothing_is_handed_over_when_the_turn_fails(
    client: FlaskClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[list[int]] = []
    monkeypatch.setattr(dispatch, "enqueue", lambda _services, ids: handed.append(list(ids)))

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(operations, "record_sms_incoming", broken)
    status, _body, rows = Conversation(client, services).post("RIPOTI")
    assert status == 503 and rows == [] and handed == []


def test_the_channel_services_are_built_once_per_app(app: Flask) -> None:
    channels = app.extensions[setup.EXTENSION_KEY]
    setup.init_app(app)
    assert app.extensions[setup.EXTENSION_KEY] is channels
    assert channels.ussd.conversations is channels.sms.conversations is channels.conversations


def test_the_caller_is_pseudonymised_once_and_never_shown(app: Flask, services: Services) -> None:
    conversations = app.extensions[setup.EXTENSION_KEY].conversations
    caller = conversations.caller("sms", "africastalking", "0812345678", "")
    assert caller.phone == "+243812345678"
    assert caller.phone_hash == services.vault.hash("+243812345678")
    assert caller.network_code is None
    assert "812345678" not in repr(caller)
    assert caller.conversation_key("ATXid_1") == "sms:africastalking:ATXid_1"


def test_a_callers_phone_is_its_e164_form_however_the_gateway_wrote_it(
    services: Services,
) -> None:
    # The hash is cached per number as sent; a number sent in E.164 is not parsed again for a
    # report's encrypted copy, and one sent otherwise still is: both give the same E.164 form.
    conversations = Conversations(services)
    for sent in ("+243812345678", "0812345678", "243812345678") * 2:
        caller = conversations.caller("ussd", "africastalking", sent, "")
        assert caller.phone == "+243812345678"
        assert caller.phone_hash == services.vault.hash("+243812345678")
        assert caller.canonical is (sent == "+243812345678")
