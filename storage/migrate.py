"""Schema migrations with Alembic, driven from Python (``flask db upgrade`` and the tests)."""

from __future__ import annotations

import enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


class SchemaState(enum.Enum):
    CURRENT = "current"
    BEHIND = "behind"  # readable, but not at the latest migration (or not migrated at all)
    UNREADABLE = "unreadable"  # the database did not answer, or refused us


def schema_state(url: str, connect_timeout: int = 3) -> SchemaState:
    """Where the database stands against the migrations.

    Bounded: start-up asks this, and a worker that serves hops needing no database must not
    wait on a database that does not answer."""
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    bounded = {"connect_timeout": connect_timeout} if url.startswith("postgresql") else {}
    engine = create_engine(url, poolclass=NullPool, connect_args=bounded)
    try:
        with engine.connect() as connection:
            found = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        return SchemaState.UNREADABLE
    finally:
        engine.dispose()
    return SchemaState.CURRENT if found == heads else SchemaState.BEHIND


def is_current(url: str, connect_timeout: int = 3) -> bool:
    """Whether the database is at the latest migration (False also when it cannot be read)."""
    return schema_state(url, connect_timeout) is SchemaState.CURRENT


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> None:
    command.current(alembic_config(url), verbose=False)


def revision(url: str, message: str, autogenerate: bool = True) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=autogenerate)
