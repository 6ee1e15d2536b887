"""``flask dashboard warm``: count the dashboard's unfiltered view ahead of its readers, for cron
(``*/30 * * * * flask --app app dashboard warm``), so that nobody waits for a whole count."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from services import current_services
from storage import queries


@click.group("dashboard", help="The web platform's dashboard.")
def dashboard() -> None:
    pass


@dashboard.command("warm")
@with_appcontext
def warm() -> None:
    """Bring the kept counts of the unfiltered dashboard up to date for every reader: the whole
    network (coordinators, and everyone under pooled visibility: counts the database keeps at
    every write, whose rows this merges first) and, under restricted visibility, each active
    organisation (kept in Redis: a view that finds them kept counts only the months changed
    since). README, "Dashboard, exports and the API"."""
    from web.dashboard.controllers import compact, counts_for
    from web.filtering import organisation_visibility

    services = current_services()
    began = time.perf_counter()
    merged = compact()
    took = (time.perf_counter() - began) * 1000
    click.echo(f"kept counts: {merged} row(s) merged ({took:.0f} ms)")
    with services.db.session() as session:
        organisations = queries.organisations(session, active_only=True)
    views: list[tuple[str, queries.Visibility | None]] = [("the whole network", None)]
    for organisation in organisations:
        visibility = organisation_visibility(
            organisation.id,
            organisation.provinces or [],
            organisation.territories or [],
            organisation.categories or [],
        )
        if visibility is not None:
            views.append((organisation.name, visibility))
    for name, visibility in views:
        began = time.perf_counter()
        counts = counts_for(queries.InboxFilter(), visibility)
        took = (time.perf_counter() - began) * 1000
        click.echo(f"{name}: {counts.total} report(s) ({took:.0f} ms)")
