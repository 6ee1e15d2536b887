"""Run the outbox: an RQ worker on our queue, with the sweep every few seconds beside it.

A ``SimpleWorker`` runs each job in this process (no fork per job): it keeps one app, one
database pool and one SDK session, and a fork would inherit open database connections. The sweep
runs in a thread with its own app context; both only ever touch rows through conditional UPDATEs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable

import redis
from flask import Flask
from rq import Queue, SimpleWorker

from services import EXTENSION_KEY, Services

from .dispatch import backend_for, job_queue
from .sweep import sweep

log = logging.getLogger(__name__)

# More work for the sweep thread, registered by other features (``notify``: new reports to
# announce): each is called with the app's services after the outbox's own sweep, and a failure
# of one never stops the others.
EXTRA_SWEEPS = "kufatilia.extra_sweeps"
ExtraSweep = Callable[[Services], object]


def add_sweep(app: Flask, work: ExtraSweep) -> None:
    sweeps = app.extensions.setdefault(EXTRA_SWEEPS, [])
    if work not in sweeps:
        sweeps.append(work)


def sweep_all(app: Flask, services: Services) -> None:
    """The outbox's sweep, then the others'; each failure logged, none raised."""
    for work in [sweep, *app.extensions.get(EXTRA_SWEEPS, [])]:
        try:
            work(services)
        except Exception:  # a database hiccup must not end the sweeping for good
            log.exception("sweep %s failed; trying again at the next", work.__name__)


def rq_connection(services: Services) -> redis.Redis:
    """A connection of RQ's own: its worker changes the socket timeout of the pool it is given."""
    return redis.Redis.from_url(services.redis_url)


def make_worker(services: Services, connection: redis.Redis | None = None) -> SimpleWorker:
    """One worker for the outbox's queue and, after it, the notification jobs' (a reporter's
    reply never waits behind a slow SMTP server). The notifications' queue is named from the
    settings alone: the outbox does not import what queues into it."""
    connection = connection or rq_connection(services)
    settings = services.settings
    notify = Queue(settings.redis_prefix + settings.notify.queue, connection=connection)
    return SimpleWorker([job_queue(services, connection), notify], connection=connection)


def _sweep_forever(app: Flask, interval: float, stop: threading.Event) -> None:
    with app.app_context():
        services: Services = app.extensions[EXTENSION_KEY]
        while not stop.is_set():
            sweep_all(app, services)
            stop.wait(interval)


def _stop_with_parent(parent: int, stop: threading.Event) -> None:
    """Under ``flask dev``: once the parent is gone (even by ``kill -9``), stop as on SIGTERM."""
    while not stop.wait(1.0):
        if os.getppid() != parent:
            log.warning("the process that started this worker is gone: stopping")
            os.kill(os.getpid(), signal.SIGTERM)
            return


def run(
    app: Flask,
    *,
    burst: bool = False,
    sweep_interval: float | None = None,
    parent: int | None = None,
) -> bool:
    """Work until stopped (Ctrl-C, SIGTERM, or ``parent`` gone); with ``burst``, sweep once, drain
    the queue, return."""
    services: Services = app.extensions[EXTENSION_KEY]
    interval = sweep_interval or services.settings.outbox.sweep_interval_seconds
    backend = backend_for(services)  # fail at start-up, not at the first message
    worker = make_worker(services)
    log.info("outbox worker on queue %s, backend %s", worker.queues[0].name, backend.name)
    with app.app_context():
        if burst:
            sweep_all(app, services)
            return bool(worker.work(burst=True, logging_level="WARNING"))
        stop = threading.Event()
        sweeper = threading.Thread(
            target=_sweep_forever, args=(app, interval, stop), name="outbox-sweep", daemon=True
        )
        sweeper.start()
        if parent is not None:
            threading.Thread(
                target=_stop_with_parent, args=(parent, stop), name="parent-watch", daemon=True
            ).start()
        try:
            return bool(worker.work(logging_level="WARNING"))
        finally:
            stop.set()
            sweeper.join(timeout=5)
