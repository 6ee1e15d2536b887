"""One database session and one transaction per request, as Indico's ``RH.process`` does.

Handlers read and write through ``db()``; a handler that changed something calls ``commit()``
once, which then runs what was registered with ``after_commit`` (queueing SMS jobs, sending the
signals other features listen to), so nothing leaves before the change is durable. Whatever was
not committed when the request ends is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, g
from sqlalchemy.orm import Session

from services import current_services

_SESSION = "_kuf_db_session"
_AFTER = "_kuf_after_commit"


def db() -> Session:
    session: Session | None = g.get(_SESSION)
    if session is None:
        session = current_services().db.session()
        setattr(g, _SESSION, session)
    return session


def after_commit(callback: Callable[[], object]) -> None:
    g.setdefault(_AFTER, []).append(callback)


def commit() -> None:
    db().commit()
    callbacks: list[Callable[[], object]] = g.pop(_AFTER, [])
    for callback in callbacks:
        callback()


def init_app(app: Flask) -> None:
    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        session: Session | None = g.pop(_SESSION, None)
        g.pop(_AFTER, None)  # never run for a transaction that did not commit
        if session is not None:
            session.rollback()
            session.close()
