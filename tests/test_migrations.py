"""Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL, both ways."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from storage import migrate
from storage.models import Base

from .conftest import require_servers
from .infra.scratch_database import scratch_database


def _differences(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _head() -> str | None:
    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def postgres_scratch_url() -> Iterator[str]:
    """A database of its own on the PostgreSQL server, so the shared test database stays migrated."""
    database_url, _ = require_servers()
    with scratch_database(database_url, "kuf_migrations") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_scratch_url"
    url: str = request.getfixturevalue(fixture)
    return url


def test_upgrade_head_yields_the_models_schema(empty_database: str) -> None:
    assert _tables(empty_database) == set()
    migrate.upgrade(empty_database)
    assert _revision(empty_database) == _head()
    assert _tables(empty_database) == {*Base.metadata.tables, "alembic_version"}
    assert _differences(empty_database) == []


def test_downgrade_to_base_and_upgrade_again(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    migrate.downgrade(empty_database, "base")
    assert _revision(empty_database) is None
    assert _tables(empty_database) <= {"alembic_version"}
    missing = {diff[1].name for diff in _differences(empty_database) if diff[0] == "add_table"}
    assert missing == set(Base.metadata.tables)  # the comparison does see a wrong schema
    migrate.upgrade(empty_database)
    assert _revision(empty_database) == _head()
    assert _differences(empty_database) == []


def test_the_migrations_form_one_line_of_history() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_is_current_follows_the_migrations(empty_database: str) -> None:
    assert not migrate.is_current(empty_database)
    migrate.upgrade(empty_database)
    assert migrate.is_current(empty_database)
    migrate.downgrade(empty_database, "-1")
    assert not migrate.is_current(empty_database)


def test_start_up_warns_about_a_database_left_behind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from app import create_app

    from .conftest import PHONE_KEY

    config = {
        "instance_path": str(tmp_path / "instance"),
        "database_url": f"sqlite:///{tmp_path / 'empty.db'}",
        "SECRET_KEY": "s",
        "PHONE_KEY": PHONE_KEY,
    }
    with caplog.at_level("WARNING", logger="app"):
        app = create_app(config)
    assert "flask --app app db upgrade" in caplog.text
    app.extensions["kufatilia"].close()


def test_a_database_that_does_not_answer_is_unreadable_not_behind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that cannot be read is not a schema to upgrade: the warning says which."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/nothing"
    assert migrate.schema_state(url, 1) is migrate.SchemaState.UNREADABLE
    assert not migrate.is_current(url, 1)
