"""``flask`` sub-commands: db, menus, reports, simulate, outbox, worker."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .db import db
    from .menus import menus
    from .outbox import outbox
    from .reports import reports
    from .simulate import simulate
    from .worker import worker

    for group in (db, menus, reports, simulate, outbox, worker):
        app.cli.add_command(group)
