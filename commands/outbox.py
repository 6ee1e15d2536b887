"""``flask outbox list|sweep``: the outgoing messages, with every phone number masked."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext

from outbox.sweep import sweep
from services import Services, current_services
from storage import queries
from storage.models import OutboxMessage, OutboxStatus
from storage.phones import mask

from .table import echo_table


@click.group("outbox", help="Outgoing SMS: list them, sweep the queue.")
def outbox() -> None:
    pass


def _masked(services: Services, row: OutboxMessage) -> str:
    try:
        return mask(services.vault.decrypt(row.phone_encrypted))
    except ValueError:
        return "?" * 8  # encrypted with another PHONE_KEY


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value is not None else ""


def outbox_record(services: Services, row: OutboxMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": _when(row.created_at),
        "updated_at": _when(row.updated_at),
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": _when(row.next_attempt_at) if row.status == OutboxStatus.QUEUED else "",
        "phone": _masked(services, row),
        "sender": row.sender or "",
        "segments": row.segments,
        "encoding": row.encoding,
        "backend": row.backend or "",
        "gateway_message_id": row.gateway_message_id or "",
        "gateway_status": row.gateway_status or "",
        "cost": row.cost or "",
        "failure_reason": row.failure_reason or "",
        "text": row.text,
    }


@outbox.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in OutboxStatus]),
    help="Only messages in this status.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True
)
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@with_appcontext
def list_messages(status: str | None, fmt: str, limit: int) -> None:
    """The newest outgoing messages."""
    services = current_services()
    with services.db.session() as session:
        records = [
            outbox_record(services, row)
            for row in queries.outbox_messages(
                session, status=OutboxStatus(status) if status else None, limit=limit
            )
        ]
    if fmt == "jsonl":
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    columns = [
        ("id", 6),
        ("created_at", 19),
        ("status", 9),
        ("att", 3),
        ("phone", 13),
        ("seg", 3),
        ("reason", 24),
        ("text", 40),
    ]
    echo_table(
        columns,
        (
            {
                **record,
                "created_at": record["created_at"][:19],
                "att": record["attempts"],
                "seg": record["segments"],
                "reason": record["failure_reason"],
            }
            for record in records
        ),
    )


@outbox.command("sweep")
@with_appcontext
def sweep_once() -> None:
    """Hand due and lost messages to the queue once (``flask worker`` does this every few seconds)."""
    report = sweep(current_services())
    click.echo(
        f"enqueued {report.enqueued}, stuck re-queued {report.requeued}, "
        f"stuck failed {report.failed}, expired {report.expired}, "
        f"old incoming ids forgotten {report.forgotten}"
    )
