"""``flask menus check``: validate menu trees as start-up does, and show editors' warnings."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from menus.errors import TreeError
from menus.loader import read_tree
from menus.validate import validate
from services import current_services, screen_limits, tree_paths


@click.group("menus", help="Menu trees.")
def menus() -> None:
    pass


@menus.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def check(paths: tuple[Path, ...]) -> None:
    """Validate PATHS (default: the configured trees) for every language and screen limit."""
    services = current_services()
    failed = False
    limits = screen_limits(services.settings)
    for path in paths or tuple(tree_paths(services.settings)):
        try:
            tree = read_tree(path)
        except TreeError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        problems = validate(tree, services.datasets, services.catalog, limits)
        for warning in tree.warnings:
            click.echo(f"warning: {warning}")
        if problems:
            failed = True
            click.echo(f"{path}: {len(problems)} problem(s)", err=True)
            for problem in problems:
                click.echo(f"  - {problem}", err=True)
        else:
            click.echo(
                f"{path}: tree '{tree.id}' v{tree.version} OK: {len(tree.nodes)} nodes, "
                f"languages {', '.join(tree.languages)}, limits {limits}"
            )
    if failed:
        raise SystemExit(1)
