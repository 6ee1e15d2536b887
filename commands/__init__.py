"""``flask`` sub-commands: db, dev, menus, reports, simulate, outbox, worker, orgs, users, tokens,
notify, dashboard."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .dashboard import dashboard
    from .db import db
    from .dev import dev
    from .menus import menus
    from .notify import notify
    from .outbox import outbox
    from .people import orgs, tokens, users
    from .reports import reports
    from .simulate import simulate
    from .worker import worker

    for group in (
        db,
        dev,
        menus,
        reports,
        simulate,
        outbox,
        worker,
        orgs,
        users,
        tokens,
        notify,
        dashboard,
    ):
        app.cli.add_command(group)
