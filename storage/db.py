"""The database engine and the unit of work: one transaction per request.

On PostgreSQL every wait for the server is bounded: connecting (``connect_timeout``), each
statement on the server (``statement_timeout``, ``lock_timeout``), and each wait for an answer
on the client too, since a hung server or a black-holed network answers nothing at all, not
even a timeout. A USSD gateway gives a hop about 10 s: a hop whose database does not answer
must tell the reporter "try again" well within that, not hold a worker until it is killed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy import exc as exc_module
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class Timeouts:
    connect_seconds: float = 2.0
    statement_seconds: float = 3.0
    # Reads that go through a whole selection of reports (the dashboard's counts, an export's
    # batches): a person waits for them, no gateway does (``Database.reading``).
    reading_seconds: float = 60.0

    @property
    def answer_seconds(self) -> float:
        # The server's own statement timeout answers first when the server is alive; this one
        # is for when nothing answers.
        return self.statement_seconds + 1.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web process and the worker read while the other writes; the busy timeout makes
    # a concurrent writer wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _guarded_connection_class(answer_seconds: float) -> type[Any]:
    """psycopg's connection, with a client-side limit on every wait for the server."""
    import psycopg
    from psycopg import errors

    class GuardedConnection(psycopg.Connection[Any]):
        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            try:
                return super().wait(gen, interval, answer_seconds if timeout is None else timeout)
            except errors.OperationalError as exc:
                if type(exc).__name__ != "_WaitTimeout":  # psycopg's own, not exported
                    raise
                # Half a protocol exchange is left on the wire: this connection is finished.
                # Closed, it is also what SQLAlchemy recognises as a disconnect and discards.
                self.pgconn.finish()
                raise errors.OperationalError(
                    f"the database did not answer within {answer_seconds:g} s"
                ) from None

    return GuardedConnection


def make_engine(
    url: str, timeouts: Timeouts | None = None, *, pool_size: int = 10, relaxed: bool = False
) -> Engine:
    """``relaxed``: its connections are in autocommit and their commits do not wait for the disk
    (PostgreSQL's ``synchronous_commit = off``), for an engine of its own that only runs single
    statements whose writes a crash may lose at no harm."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    timeouts = timeouts or Timeouts()
    statement_ms = int(timeouts.statement_seconds * 1000)
    # Autocommit for good, on the connection itself: switching it at each checkout cost more
    # than the statement.
    autocommit: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if relaxed else {}
    engine = create_engine(
        url,
        **autocommit,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeouts.connect_seconds,  # waiting for a free connection counts too
        connect_args={
            "connect_timeout": max(1, round(timeouts.connect_seconds)),
            "options": f"-c statement_timeout={statement_ms} -c lock_timeout={statement_ms}"
            + (" -c synchronous_commit=off" if relaxed else ""),
        },
    )
    if url.startswith("postgresql+psycopg") or url.startswith("postgresql:"):
        guarded = _guarded_connection_class(timeouts.answer_seconds)

        @event.listens_for(engine, "do_connect")
        def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            return guarded.connect(*cargs, **cparams)

    ping_when_idle(engine)
    return engine


# A pooled connection idle for longer than this is checked (one ``SELECT 1``) before use.
IDLE_BEFORE_PING = 2.0
_LAST_USED = "kuf_last_used"


def ping_when_idle(engine: Engine, idle: float = IDLE_BEFORE_PING) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for a connection that sat idle: a restarted or
    failed-over server leaves idle connections dead, and the first request to take one must not
    fail for it. A connection in steady use is not pinged: the ping was one more round trip on
    every transaction, a fifth of a report's statements, and a USSD hop's only statement would
    have cost two. A connection that died in the last ``idle`` seconds fails its statement
    instead, as any statement may when the server goes away mid-request; the pool then discards
    it."""

    @event.listens_for(engine, "checkout")
    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is not None and time.monotonic() - last > idle:
            try:
                cursor = dbapi_connection.cursor()
                try:
                    cursor.execute("SELECT 1")
                finally:
                    cursor.close()
                dbapi_connection.rollback()
            except Exception as exc:
                raise exc_module.DisconnectionError(str(exc)) from exc  # the pool reconnects
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def used(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()


class Database:
    def __init__(self, url: str, timeouts: Timeouts | None = None) -> None:
        self.url = url
        self.timeouts = timeouts or Timeouts()
        self.engine = make_engine(url, self.timeouts)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reading: sessionmaker[Session] | None = None
        self._single: Engine | None = None

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit when the block succeeds, roll back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def single_statements(self) -> Iterator[Connection]:
        """A connection in autocommit, for one statement that is its own transaction (a USSD
        hop's language lookup or choice): one round trip, with no BEGIN before it and no
        COMMIT or ROLLBACK after. On PostgreSQL its commits do not wait for the disk: only
        writes that a crash may lose at no harm go here (a phone's language is asked again);
        never a report."""
        with self.single_statement_engine().connect() as connection:
            yield connection

    @property
    def on_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def single_row(self, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """PostgreSQL only: ``sql``, in the driver's own style (``%(name)s``), as one statement
        on a ``single_statements`` connection, straight through the driver; the first row it
        returns, or None. For a USSD hop's language lookup and choice: SQLAlchemy's Connection
        and Result around one statement cost as much CPU as the statement's own round trip
        (110 against 51 µs). Pooled as ever (the idle check included); a connection whose
        statement failed for the server's or the link's sake is dropped from the pool."""
        fairy = self.single_statement_engine().raw_connection()
        try:
            cursor = fairy.cursor()
            try:
                cursor.execute(sql, params)
                return cursor.fetchone() if cursor.description is not None else None
            finally:
                cursor.close()
        except self.engine.dialect.loaded_dbapi.OperationalError as exc:
            fairy.invalidate(exc)
            raise
        finally:
            fairy.close()

    def single_statement_engine(self) -> Engine:
        """``single_statements``' engine (made at first use)."""
        if self._single is None:
            # A pool of its own: its connections' settings never reach a report's transaction.
            if self.url.startswith("sqlite"):
                self._single = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            else:
                self._single = make_engine(self.url, self.timeouts, pool_size=2, relaxed=True)
        return self._single

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session whose statements may take ``Timeouts.reading_seconds``: on an
        engine of its own (a small pool, made at first use), so that the tight bounds of every
        other connection stay as they are for the hops."""
        if self._reading is None:
            slow = Timeouts(self.timeouts.connect_seconds, self.timeouts.reading_seconds)
            self._reading = sessionmaker(
                make_engine(self.url, slow, pool_size=2), expire_on_commit=False
            )
        with self._reading() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self._reading is not None:
            bind = self._reading.kw.get("bind")
            if bind is not None:
                bind.dispose()
        if self._single is not None:
            self._single.engine.dispose()
