"""``flask outbox list``, ``flask simulate sms`` and the console backend: never a clear number."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

from outbox.dispatch import Dispatcher
from services import Services

from .sms_support import outbox_rows

PHONE = "+243990000002"


def test_simulate_sms_chats_through_the_real_endpoint(app: Flask, services: Services) -> None:
    result = app.test_cli_runner().invoke(
        args=["simulate", "sms", "--phone", PHONE, "ALERTE", "1 1 1"]
    )
    assert result.exit_code == 0, result.output
    assert "Kufatilia: signaler un incident dans une mine." in result.output
    assert "Dans quelle province ?" in result.output
    assert "[queued] 1 segment(s) GSM-7" in result.output
    assert [row.text.split("\n")[0] for row in outbox_rows(services, PHONE)] == [
        "Kufatilia: signaler un incident dans une mine. Votre numéro de téléphone reste secret.",
        "Dans quelle province ?",
    ]


def test_outbox_list_masks_the_phone(
    app: Flask, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["simulate", "sms", "--phone", PHONE, "REPORT", "STOP"])
    first, second = outbox_rows(services, PHONE)
    with caplog.at_level(logging.INFO, logger="outbox"):
        assert Dispatcher(services).deliver(first.id) == "sent"
    assert "+243******002" in caplog.text and "990000002" not in caplog.text

    table = runner.invoke(args=["outbox", "list"])
    assert table.exit_code == 0, table.output
    assert "+243******002" in table.output and "990000002" not in table.output
    lines = table.output.splitlines()
    assert lines[0].split() == [
        "id",
        "created_at",
        "status",
        "att",
        "phone",
        "seg",
        "reason",
        "text",
    ]
    assert len(lines) == 4  # header, rule, two messages

    jsonl = runner.invoke(args=["outbox", "list", "--format", "jsonl", "--status", "sent"])
    records = [json.loads(line) for line in jsonl.output.splitlines()]
    assert [r["id"] for r in records] == [first.id]
    assert records[0]["phone"] == "+243******002" and records[0]["backend"] == "console"
    assert records[0]["text"].startswith("Kufatilia: report an incident at a mine.")
    assert "990000002" not in jsonl.output

    queued = runner.invoke(args=["outbox", "list", "--format", "jsonl", "--status", "queued"])
    assert [json.loads(line)["id"] for line in queued.output.splitlines()] == [second.id]


def test_outbox_sweep_reports_what_it_did(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["outbox", "sweep"])
    assert result.exit_code == 0
    assert result.output.startswith("enqueued 0, stuck re-queued 0")
