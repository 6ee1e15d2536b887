"""``flask worker``: send the outbox. An RQ worker on our queue, plus the periodic sweep."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from outbox.backends import BackendConfigError
from outbox.worker import run


@click.command("worker")
@click.option("--burst", is_flag=True, help="Sweep once, send what is queued, then exit.")
@click.option(
    "--sweep-interval", type=float, help="Seconds between sweeps (outbox.sweep_interval_seconds)."
)
@click.option("--parent", type=int, hidden=True, help="Stop when this process is gone (flask dev).")
@with_appcontext
def worker(burst: bool, sweep_interval: float | None, parent: int | None) -> None:
    """Run until Ctrl-C or SIGTERM (a job in progress finishes first)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        run(app, burst=burst, sweep_interval=sweep_interval, parent=parent)
    except BackendConfigError as exc:
        raise click.ClickException(str(exc)) from exc
