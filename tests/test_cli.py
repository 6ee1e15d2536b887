"""The ``flask`` commands a newcomer and an operator use: reports, menus, simulate, db."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, select

from services import Services
from storage import migrate
from storage.models import Report

from .conftest import Backend
from .phone import TO_CONFIRM_FR, Phone, built_app

REQUIRED_EXPORT_FIELDS = {
    "reference",
    "channel",
    "language",
    "category",
    "subcategory",
    "province",
    "territory",
    "site",
    "occurred_on",
    "details",
    "status",
    "created_at",
}
PHONE_LIKE = re.compile(r"\d{8,}")


def _stored_report(client: FlaskClient, services: Services) -> Report:
    phone = Phone(client, "ATUid_cli")
    phone.dial()
    phone.send(*TO_CONFIRM_FR)
    assert phone.send("1").startswith("END ")
    with services.db.session() as session:
        (report,) = session.scalars(select(Report))
    return report


def _no_trace_of_the_reporter(output: str, report: Report) -> None:
    assert not PHONE_LIKE.search(output), PHONE_LIKE.findall(output)
    assert report.reporter_hash not in output
    assert report.reporter_encrypted not in output
    assert "812345678" not in output


def test_reports_list_prints_a_table(app: Flask, client: FlaskClient, services: Services) -> None:
    report = _stored_report(client, services)
    result = app.test_cli_runner().invoke(args=["reports", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["reference", "created_at", "ch", "lang"]
    row = next(line for line in lines if line.startswith(report.reference))
    assert row.split()[:5] == [report.reference, "2026-11-24T09:30", "ussd", "fr", "accident"]
    assert "2026-11-18/2026-11-24" in row
    assert lines[-1] == "1 report(s)"
    _no_trace_of_the_reporter(result.output, report)


def test_reports_list_with_no_reports(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["reports", "list"])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "0 report(s)"


def _expected_row(report: Report) -> dict[str, str]:
    return {
        "reference": report.reference,
        "channel": "ussd",
        "language": "fr",
        "category": "accident",
        "subcategory": "accident.collapse",
        "province": "CD-IT",
        "territory": "Djugu",
        "site": "Mongbwalu",
        "occurred_on": "2026-11-18/2026-11-24",
        "details": "Deux blessés au puits",
        "status": "new",
        "created_at": "2026-11-24T09:30:00+00:00",
    }


def test_reports_export_csv(app: Flask, client: FlaskClient, services: Services) -> None:
    report = _stored_report(client, services)
    result = app.test_cli_runner().invoke(args=["reports", "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 1
    assert set(rows[0]) >= REQUIRED_EXPORT_FIELDS
    assert {k: rows[0][k] for k in REQUIRED_EXPORT_FIELDS} == _expected_row(report)
    _no_trace_of_the_reporter(result.output, report)


def test_reports_export_jsonl(app: Flask, client: FlaskClient, services: Services) -> None:
    report = _stored_report(client, services)
    result = app.test_cli_runner().invoke(args=["reports", "export", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert len(records) == 1
    assert {k: records[0][k] for k in REQUIRED_EXPORT_FIELDS} == _expected_row(report)
    _no_trace_of_the_reporter(result.output, report)


def test_reports_export_to_a_file(
    app: Flask, client: FlaskClient, services: Services, tmp_path: Path
) -> None:
    report = _stored_report(client, services)
    target = tmp_path / "reports.jsonl"
    result = app.test_cli_runner().invoke(
        args=["reports", "export", "--format", "jsonl", "-o", str(target)]
    )
    assert result.exit_code == 0
    (line,) = target.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["reference"] == report.reference


def test_menus_check_passes_on_the_default_tree(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["menus", "check"])
    assert result.exit_code == 0, result.output
    assert "tree 'incident' v1 OK" in result.output
    assert "languages sw, fr, en" in result.output
    # Every text transliteration changes, as written and as sent; none in the default tree
    # changes a meaning (issue 9: "forêts" sent as "forets" read "drill bits").
    # (The tree's own warning comes once per tree judged: the seed file, the published version.)
    warnings = {line for line in result.output.splitlines() if line.startswith("warning:")}
    assert warnings == {
        "warning: menus/data/provinces.csv: 'Kasaï' is sent as 'Kasai'",
        "warning: menus/data/provinces.csv: 'Kasaï Central' is sent as 'Kasai Central'",
        "warning: menus/data/provinces.csv: 'Kasaï Oriental' is sent as 'Kasai Oriental'",
        "warning: tree language_names (fr): transliterated to GSM-7: 'ç'->'c' "
        "('Français' is sent as 'Francais')",
    }


def test_menus_check_fails_on_a_broken_tree(app: Flask, tmp_path: Path) -> None:
    default = Path(__file__).resolve().parents[1] / "menus" / "trees" / "incident.yaml"
    document: dict[str, Any] = yaml.safe_load(default.read_text(encoding="utf-8"))
    confirm = next(n for n in document["nodes"] if n["id"] == "confirm")
    confirm["options"][0]["next"] = "details"  # "submit" no longer leads to the end
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["menus", "check", str(broken)])
    assert result.exit_code == 1
    assert "node 'confirm' option 'submit': 'submit' must lead to an end node" in result.output


def test_menus_check_fails_on_invalid_yaml(app: Flask, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("nodes: [\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["menus", "check", str(broken)])
    assert result.exit_code == 1
    assert "not valid YAML" in result.output


def test_simulate_ussd_drives_a_full_report(app: Flask, services: Services) -> None:
    typed = "\n".join([*TO_CONFIRM_FR[1:], "1"]) + "\n"
    result = app.test_cli_runner().invoke(args=["simulate", "ussd", "--lang", "fr"], input=typed)
    assert result.exit_code == 0, result.output
    with services.db.session() as session:
        (report,) = session.scalars(select(Report))
    assert (report.language, report.category, report.territory) == ("fr", "accident", "Djugu")
    assert report.reporter_hash == services.vault.hash("+243990000001")
    assert f"Merci ! Alerte enregistrée. Numéro : {report.reference}." in result.output
    assert result.output.rstrip().endswith("[session ended]")
    assert "> 2" in result.output  # the language answered for the user


def test_simulate_ussd_hangs_up_on_an_empty_line(app: Flask, services: Services) -> None:
    result = app.test_cli_runner().invoke(args=["simulate", "ussd", "--lang", "en"], input="1\n\n")
    assert result.exit_code == 0
    assert "What happened?" in result.output
    assert result.output.rstrip().endswith("[hung up]")


def test_simulate_ussd_with_a_callback_token(backend: Backend, tmp_path: Path) -> None:
    token = {"gateways": {"africastalking": {"callback_token": "s3cret"}}}
    with built_app(backend, tmp_path, **token) as app:
        result = app.test_cli_runner().invoke(args=["simulate", "ussd", "--lang", "sw"], input="\n")
    assert result.exit_code == 0
    assert "Kufatilia: ripoti tukio kwenye mgodi." in result.output
    assert "[HTTP 403]" not in result.output


def test_db_upgrade_on_a_fresh_sqlite(tmp_path: Path, embedded_redis: Any) -> None:
    fresh = tmp_path / "fresh.db"
    url = f"sqlite:///{fresh}"
    backend = Backend("embedded", url, embedded_redis.url)
    with built_app(backend, tmp_path) as app:
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output
    engine = create_engine(url)
    try:
        assert {"reports", "reporters", "ussd_session_logs"} <= set(
            inspect(engine).get_table_names()
        )
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()
    assert current == head


@pytest.mark.parametrize("command", [["reports"], ["menus"], ["simulate"], ["db"]])
def test_each_group_has_help(app: Flask, command: list[str]) -> None:
    result = app.test_cli_runner().invoke(args=[*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
