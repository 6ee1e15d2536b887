"""The test suite's own promise: what a test stores, in Redis and in the database, is gone when
it ends (``conftest.backend``), so that tests cannot lean on each other's leftovers."""

from __future__ import annotations

from pathlib import Path

import redis
from sqlalchemy import func, select

from services import EXTENSION_KEY, Services
from storage.models import Base

from .conftest import Backend, clean_up, make_app
from .phone import Phone
from .sms_support import Conversation


def test_clean_up_removes_every_key_and_row_a_test_created(
    backend: Backend, tmp_path: Path
) -> None:
    keys = redis.Redis.from_url(backend.redis_url)
    before = set(keys.scan_iter(count=1000))
    app = make_app(backend, tmp_path)
    services: Services = app.extensions[EXTENSION_KEY]
    client = app.test_client()
    Phone(client, "ATUid_fixture").dial()  # a USSD session under the app's prefix
    Conversation(client, services, "+243812000011").send("RIPOTI")  # rows, and an RQ job

    created = {key.decode() for key in set(keys.scan_iter(count=1000)) - before}
    assert any(key.startswith(services.sessions.prefix) for key in created)
    assert any(key.startswith("rq:") for key in created)  # not under our prefix
    with services.db.session() as session:
        counts = {
            t.name: session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }
    assert counts["outbox_messages"] == 1 and counts["sms_incoming"] == 1

    clean_up(backend, keys, before)
    assert set(keys.scan_iter(count=1000)) == before
    if backend.name == "servers":  # an SQLite database is the test's own file
        with services.db.session() as session:
            for table in Base.metadata.sorted_tables:
                assert session.scalar(select(func.count()).select_from(table)) == 0, table.name
    keys.close()
