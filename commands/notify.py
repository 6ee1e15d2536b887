"""``flask notify digest``: the daily digests, for cron (``0 6 * * * flask --app app notify digest``)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from notify import send
from services import current_services


@click.group("notify", help="Notifications to the organisations' members.")
def notify() -> None:
    pass


@notify.command("digest")
@with_appcontext
def digest() -> None:
    """Send each member who chose the daily digest the reports received in their organisation's
    area since their last one. Safe to run twice: a digest covers each report once."""
    told, sent = send.digests(current_services())
    click.echo(f"{told} member(s) got a digest ({sent} message(s))")
