"""``flask`` sub-commands: db, menus, reports, simulate."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .db import db
    from .menus import menus
    from .reports import reports
    from .simulate import simulate

    for group in (db, menus, reports, simulate):
        app.cli.add_command(group)
