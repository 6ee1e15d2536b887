"""The functions RQ runs. Named by import path (``outbox.jobs.deliver``), so ``rq worker`` works too.

Under ``flask worker`` a job runs inside that app's context and uses its services. Under a plain
``rq worker`` there is none: the job builds the app from the same configuration (config.yaml and
the environment) once per process.
"""

from __future__ import annotations

from functools import cache

from flask import Flask, has_app_context

from services import current_services

from .dispatch import Dispatcher


@cache
def _standalone_app() -> Flask:
    from app import create_app

    return create_app()


def deliver(message_id: int) -> str:
    if has_app_context():
        return Dispatcher(current_services()).deliver(message_id)
    with _standalone_app().app_context():
        return Dispatcher(current_services()).deliver(message_id)
