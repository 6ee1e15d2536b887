"""``flask reports list|export``: the stored reports, without any trace of the reporter."""

from __future__ import annotations

import csv
import json
import sys
from typing import IO

import click
from flask.cli import with_appcontext

from services import current_services
from storage import queries

from .table import echo_table


@click.group("reports", help="List and export stored reports.")
def reports() -> None:
    pass


@reports.command("list")
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@with_appcontext
def list_reports(limit: int) -> None:
    """A table of the newest reports."""
    columns = [
        ("reference", 9),
        ("created_at", 16),
        ("ch", 4),
        ("lang", 4),
        ("category", 12),
        ("subcategory", 24),
        ("province", 8),
        ("territory", 12),
        ("occurred_on", 21),
        ("status", 8),
    ]
    with current_services().db.session() as session:
        rows = [queries.export_row(r) for r in queries.recent_reports(session, limit)]
    echo_table(
        columns,
        (
            {
                **row,
                "ch": row["channel"],
                "lang": row["language"],
                "created_at": row["created_at"][:16],
            }
            for row in rows
        ),
    )
    click.echo(f"\n{len(rows)} report(s)")


def write_export(out: IO[str], fmt: str) -> int:
    """Stream every report as CSV or JSON lines; returns how many were written."""
    count = 0
    with current_services().db.session() as session:
        writer = None
        if fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=list(queries.EXPORT_FIELDS))
            writer.writeheader()
        for report in queries.iter_reports(session):
            row = queries.export_row(report)
            if writer is not None:
                writer.writerow(row)
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


@reports.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File (default: stdout)."
)
@with_appcontext
def export(fmt: str, output: str | None) -> None:
    """Every report, oldest first, as CSV or one JSON object per line."""
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            count = write_export(handle, fmt)
        click.echo(f"{count} report(s) written to {output}", err=True)
    else:
        write_export(sys.stdout, fmt)
