"""SMS conversations end to end: Africa's Talking's incoming endpoint in, the outbox out."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient

from services import Services

from .sms_support import UPDATE, forget_queue, run_transcript
from .transcript import check_reports

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts" / "sms").glob("*.yaml"))


def _expected_reports(path: Path) -> list[dict[str, object]] | None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = data.get("expect_reports")
    return list(found) if found is not None else None


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, client: FlaskClient, services: Services) -> None:
    try:
        problems = run_transcript(client, services, path)
    finally:
        forget_queue(services)
    assert not problems, "\n\n".join(problems)
    expected = _expected_reports(path)
    if expected is None or UPDATE:
        return
    for got in check_reports(services, expected):
        assert got["channel"] == "sms" and got["gateway"] == "africastalking"


def test_every_language_has_a_complete_report_transcript() -> None:
    languages = {
        report.get("language") for path in TRANSCRIPTS for report in _expected_reports(path) or []
    }
    assert {"sw", "fr", "en"} <= languages
