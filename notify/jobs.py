"""The functions RQ runs, by import path (``notify.jobs.report_received``), under ``flask worker``
(in its app context) or a plain ``rq worker`` (the job builds the app once per process)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar

from flask import Flask, has_app_context

from services import Services, current_services

from . import send

T = TypeVar("T")


@cache
def _standalone_app() -> Flask:
    from app import create_app

    return create_app()


def _run(work: Callable[[Services], T]) -> T:
    if has_app_context():
        return work(current_services())
    with _standalone_app().app_context():
        return work(current_services())


def report_received(report_id: int) -> int:
    # Queued by versions before the sweep announced new reports: a job left in the queue across
    # an upgrade still runs (and sends nothing the sweep already sent).
    return _run(lambda services: send.new_report(services, report_id))


def report_forwarded(event_id: int) -> int:
    return _run(lambda services: send.forwarded(services, event_id))
