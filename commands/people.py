"""``flask orgs|users|tokens``: bootstrap a deployment and script its people from the shell.

Secrets are printed once and never stored in clear: a generated password (without
``--password-stdin``) and an API token. Neither can be shown again later.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from services import current_services
from storage import operations, queries
from web import passwords
from web.config import LANGUAGES

from .table import echo_table


def _codes(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.group("orgs", help="Organisations (CSOs) of the network.")
def orgs() -> None:
    pass


@orgs.command("create")
@click.argument("name")
@click.option("--provinces", help="Area: provinces, ISO 3166-2 codes, e.g. CD-SK,CD-NK.")
@click.option("--territories", help="Area: territoires, p-codes, e.g. CD6201,CD6105.")
@click.option("--categories", help="Expertise: category codes, e.g. accident,labour.")
@with_appcontext
def create_org(
    name: str, provinces: str | None, territories: str | None, categories: str | None
) -> None:
    """Create the organisation NAME (an empty area or expertise means all)."""
    services = current_services()
    known_provinces = {item.code for item in services.datasets.get("provinces").items({})}
    unknown = [code for code in _codes(provinces) if code not in known_provinces]
    if unknown:
        _fail(
            f"unknown province(s) {', '.join(unknown)}; known: {', '.join(sorted(known_provinces))}"
        )
    with services.db.transaction() as session:
        try:
            organisation = operations.create_organisation(
                session,
                name=name,
                provinces=_codes(provinces),
                territories=_codes(territories),
                categories=_codes(categories),
                now=services.clock.now(),
            )
        except operations.PeopleError as exc:
            _fail(str(exc))
        click.echo(f"organisation {organisation.name!r} created (id {organisation.id})")


@orgs.command("list")
@with_appcontext
def list_orgs() -> None:
    """Every organisation with its area and expertise."""
    with current_services().db.session() as session:
        rows = [
            {
                "id": o.id,
                "name": o.name,
                "active": "yes" if o.active else "no",
                "area": ",".join([*o.provinces, *o.territories]) or "all",
                "expertise": ",".join(o.categories) or "all",
            }
            for o in queries.organisations(session)
        ]
    echo_table([("id", 4), ("name", 30), ("active", 6), ("area", 24), ("expertise", 24)], rows)


@click.group("users", help="People who log in to the web platform.")
def users() -> None:
    pass


@users.command("create")
@click.option("--email", required=True)
@click.option("--org", "org_name", required=True, help="The organisation's name.")
@click.option("--role", required=True, type=click.Choice(operations.ROLES))
@click.option("--name", default="", help="The person's name, as others see it.")
@click.option("--language", type=click.Choice(LANGUAGES), help="Pages in this language.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user(
    email: str, org_name: str, role: str, name: str, language: str | None, password_stdin: bool
) -> None:
    """Create a user. Without --password-stdin a password is generated and printed once."""
    services = current_services()
    web = services.settings.web
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < web.min_password_length:
            _fail(f"the password must have at least {web.min_password_length} characters")
    else:
        password = passwords.generate_password()
    with services.db.transaction() as session:
        organisation = queries.organisation_by_name(session, org_name)
        if organisation is None:
            _fail(f"no organisation named {org_name!r}: create it with `flask orgs create`")
            return
        try:
            user = operations.create_user(
                session,
                email=email,
                password_hash=passwords.hasher(web).hash(password),
                organisation=organisation,
                role=role,
                name=name,
                language=language,
                now=services.clock.now(),
            )
        except operations.PeopleError as exc:
            _fail(str(exc))
            return
        click.echo(f"user {user.email} created: {role} of {organisation.name}")
    if not password_stdin:
        click.echo(f"password (shown once, ask them to change it): {password}")


@users.command("list")
@with_appcontext
def list_users() -> None:
    """Every user with organisation and role."""
    with current_services().db.session() as session:
        names = queries.organisation_names(session)
        rows = [
            {
                "id": u.id,
                "email": u.email,
                "org": names.get(u.organisation_id, "?"),
                "role": u.role,
                "active": "yes" if u.active else "no",
            }
            for u in queries.users(session)
        ]
    echo_table([("id", 4), ("email", 32), ("org", 24), ("role", 12), ("active", 6)], rows)


@users.command("hint", hidden=True)
@with_appcontext
def hint() -> None:
    """Say how to create the first coordinator when nobody can log in yet (``make run``)."""
    with current_services().db.session() as session:
        if queries.user_count(session):
            return
    click.echo(
        "No user can log in to the web platform yet. Create the network and its coordinator:\n"
        "  .venv/bin/flask --app app orgs create 'Network coordination'\n"
        "  .venv/bin/flask --app app users create --email you@example.org "
        "--org 'Network coordination' --role coordinator\n"
        "(the second command prints a password once)."
    )


@click.group("tokens", help="Read-only API tokens of organisations.")
def tokens() -> None:
    pass


@tokens.command("create")
@click.option("--org", "org_name", required=True, help="The organisation's name.")
@with_appcontext
def create_token(org_name: str) -> None:
    """Print a new read-only API token once; only its hash is kept."""
    services = current_services()
    token, token_hash, prefix = passwords.new_api_token()
    with services.db.transaction() as session:
        organisation = queries.organisation_by_name(session, org_name)
        if organisation is None:
            _fail(f"no organisation named {org_name!r}")
            return
        operations.create_api_token(
            session,
            organisation=organisation,
            token_hash=token_hash,
            prefix=prefix,
            now=services.clock.now(),
        )
    click.echo(f"read-only token for {organisation.name} (shown once; keep it secret):", err=True)
    click.echo(token)
