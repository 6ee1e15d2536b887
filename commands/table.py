"""Fixed-width tables for the terminal, shared by the listing commands."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import click

Columns = list[tuple[str, int]]  # (record key, width)


def cell(value: object, width: int) -> str:
    """One line (an SMS text has newlines), cut with "~" to ``width``, padded to it."""
    text = " ".join(("" if value is None else str(value)).split())
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "~"


def echo_table(columns: Columns, records: Iterable[Mapping[str, object]]) -> None:
    header = "  ".join(name.ljust(width) for name, width in columns)
    click.echo(header.rstrip())
    click.echo("-" * len(header))
    for record in records:
        click.echo("  ".join(cell(record[name], width) for name, width in columns).rstrip())
