"""``flask dev``: the whole service for development, started and stopped as one.

The web server runs in this process; the outbox worker is a child process; without REDIS_URL the
embedded Redis is started by this process too (``storage.redis_store``). Ctrl-C or SIGTERM stops
them in order: the web server, then the worker (a job in progress finishes), then Redis. The
worker also stops by itself if this process dies without that (``kill -9``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from services import current_services
from settings import PROJECT_DIR
from storage.redis_store import STOP_TIMEOUT

# The worker's "job in progress finishes first" needs at most the job's own timeout; after that
# the worker is stopped outright.
WORKER_GRACE = 30.0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM ends the server the way Ctrl-C does, so that the same clean-up runs.
    raise KeyboardInterrupt


def start_worker(redis_url: str) -> subprocess.Popen[bytes]:
    environment = dict(os.environ, REDIS_URL=redis_url)  # join our Redis, never start another
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--parent", str(os.getpid())],
        cwd=PROJECT_DIR,
        env=environment,
        # A session of its own: a terminal's Ctrl-C reaches this process only, which then stops
        # the worker after the web server, instead of everything at once.
        start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=WORKER_GRACE)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=STOP_TIMEOUT)


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Serve only; send no SMS.")
@with_appcontext
def dev(host: str, port: int, no_worker: bool) -> None:
    """Serve the web endpoints, run the outbox worker, and stop both (and Redis) on Ctrl-C."""
    services = current_services()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C too, explicitly: a process started in the background by a script inherits SIGINT
    # ignored, and Python then never raises KeyboardInterrupt for it.
    previous_int = signal.signal(signal.SIGINT, _interrupt)
    worker = None if no_worker else start_worker(services.redis_url)
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        pass  # the server was already closed; what follows stops the rest
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        if worker is not None:
            stop_worker(worker)
        services.close()
        if services.embedded is not None:
            services.embedded.stop()
    click.echo(
        "stopped: web server"
        + ("" if no_worker else ", worker")
        + (", Redis" if services.embedded else "")
    )
