"""USSD conversations end to end through the Africa's Talking endpoint, from recorded transcripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from services import Services

from .transcript import UPDATE, check_reports, load, run_ussd

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts" / "ussd").glob("*.yaml"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, client: FlaskClient, services: Services) -> None:
    problems = run_ussd(client, path)
    assert not problems, "\n\n".join(problems)
    expected = load(path).get("expect_reports")
    if expected is None or UPDATE:
        return
    for got in check_reports(services, expected):
        assert got["channel"] == "ussd" and got["gateway"] == "africastalking"


def test_every_language_has_a_complete_report_transcript() -> None:
    languages = set()
    for path in TRANSCRIPTS:
        for report in load(path).get("expect_reports") or []:
            languages.add(report.get("language"))
    assert {"sw", "fr", "en"} <= languages
