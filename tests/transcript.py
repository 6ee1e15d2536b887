"""Transcript tests: conversations recorded as YAML (inputs in, expected screens out).

A transcript holds one or more sessions of one phone. Each step sends an input (or a raw
cumulative ``text``) and expects the exact reply. ``expect_reports`` checks what was stored.
Run ``UPDATE_TRANSCRIPTS=1 pytest tests/test_ussd_transcripts.py`` to rewrite the expected replies
after a deliberate change, then read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient

from services import Services
from storage import queries, references

UPDATE = os.environ.get("UPDATE_TRANSCRIPTS") == "1"


class _Literal(str):
    pass


def _literal_representer(dumper: yaml.SafeDumper, data: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


yaml.SafeDumper.add_representer(_Literal, _literal_representer)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def save(path: Path, data: dict[str, Any]) -> None:
    """Write expected replies back (``UPDATE_TRANSCRIPTS=1``), keeping the file's comment header.

    USSD transcripts hold ``sessions`` of ``steps``; SMS transcripts hold ``steps`` directly.
    """
    sessions = data.get("sessions") or [data]
    for session in sessions:
        for step in session["steps"]:
            if "reply" in step:
                step["reply"] = _Literal(step["reply"])
    header = "".join(
        line + "\n"
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    )
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(header + body, encoding="utf-8")


def run_ussd(client: FlaskClient, path: Path) -> list[str]:
    """Play every session of a USSD transcript; returns the mismatches (empty: it passed)."""
    data = load(path)
    phone = str(data.get("phone", "+243812345678"))
    network = str(data.get("network", "63001"))
    problems: list[str] = []
    for session in data["sessions"]:
        inputs: list[str] = []
        for index, step in enumerate(session["steps"]):
            if "text" in step:
                text = str(step["text"])
            elif step.get("repeat"):
                text = "*".join(inputs)
            elif "input" in step and step["input"] is not None:
                inputs.append(str(step["input"]))
                text = "*".join(inputs)
            else:
                text = "*".join(inputs)
            form = {
                "sessionId": str(session["id"]),
                "serviceCode": "*384*44135#",
                "phoneNumber": phone,
                "networkCode": str(session.get("network", network)),
                "text": text,
            }
            response = client.post("/ussd/africastalking", data=form)
            got = response.get_data(as_text=True)
            if response.status_code != 200:
                problems.append(
                    f"{session['id']} step {index + 1}: HTTP {response.status_code} {got}"
                )
                continue
            if UPDATE:
                step["reply"] = got
            elif got != step.get("reply"):
                problems.append(
                    f"{path.name} {session['id']} step {index + 1} (text {text!r}):\n"
                    f"--- expected\n{step.get('reply')}\n--- got\n{got}"
                )
    if UPDATE:
        save(path, data)
    return problems


def check_reports(services: Services, expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assert the stored reports, oldest first, carry the expected fields; return them all."""
    with services.db.session() as session:
        stored = [queries.export_row(r) for r in queries.iter_reports(session)]
    assert len(stored) == len(expected), stored
    for want, got in zip(expected, stored, strict=True):
        for name, value in want.items():
            assert got[name] == str(value), (name, got)
        assert references.is_valid(got["reference"]), got["reference"]
    return stored
