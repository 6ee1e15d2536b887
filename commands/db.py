"""``flask db upgrade|downgrade|current|revision``: Alembic on the database DATABASE_URL names."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from services import current_services, tree_seeds
from storage import migrate
from storage.tree_versions import seed_trees


def _url() -> str:
    return current_services().settings.database_url


@click.group("db", help="Database schema migrations (Alembic).")
def db() -> None:
    pass


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Bring the database to REVISION (default: the latest)."""
    migrate.upgrade(_url(), revision)
    click.echo(f"database at {revision}")
    if migrate.is_current(_url()):
        _seed_trees()


def _seed_trees() -> None:
    """Version 1 of each configured tree the database does not know yet (menus/trees/*.yaml)."""
    services = current_services()
    seeds = tree_seeds(services.settings, services.checker)
    for tree_id, version in seed_trees(services.db, seeds, services.clock.now()):
        click.echo(f"tree '{tree_id}' version {version} seeded and published")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Step the database back to REVISION (e.g. -1, or base)."""
    migrate.downgrade(_url(), revision)


@db.command("current")
@with_appcontext
def current() -> None:
    """Show the database's revision."""
    migrate.current(_url())


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--empty", is_flag=True, help="Do not compare the models with the database.")
@with_appcontext
def revision(message: str, empty: bool) -> None:
    """Write a new migration from the difference between the models and the database."""
    migrate.revision(_url(), message, autogenerate=not empty)
