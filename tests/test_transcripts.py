"""Conversations end to end through Africa's Talking's endpoints, USSD and SMS, from recorded
transcripts (``tests/transcript.py`` describes the format)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from services import EXTENSION_KEY, Services

from .conftest import Backend, make_app
from .transcript import UPDATE, check_reports, describe, load, paths, play, recording_events

TRANSCRIPTS = paths()


@pytest.mark.parametrize(
    "path", TRANSCRIPTS, ids=[f"{p.parent.name}/{p.stem}" for p in TRANSCRIPTS]
)
def test_transcript(path: Path, backend: Backend, tmp_path: Path) -> None:
    # A transcript may set settings of its own (``settings:``, as in config.yaml).
    app = make_app(backend, tmp_path, **(load(path).get("settings") or {}))
    services: Services = app.extensions[EXTENSION_KEY]
    client = app.test_client()
    problems = play(client, services, path)
    assert not problems, "\n\n".join(problems)
    expected = load(path).get("expect_reports")
    if expected is None or UPDATE:
        return
    for got in check_reports(services, expected):
        assert got["channel"] == path.parent.name and got["gateway"] == "africastalking"


@pytest.mark.parametrize("channel", ["ussd", "sms"])
def test_every_language_has_a_complete_report_transcript(channel: str) -> None:
    languages = {
        report.get("language")
        for path in TRANSCRIPTS
        if path.parent.name == channel
        for report in load(path).get("expect_reports") or []
    }
    assert {"sw", "fr", "en"} <= languages


def test_every_transcript_says_its_channel_where_it_lives() -> None:
    assert TRANSCRIPTS
    for path in TRANSCRIPTS:
        assert load(path)["channel"] == path.parent.name, path


def test_a_wrong_reply_or_event_is_reported(
    client: FlaskClient, services: Services, tmp_path: Path
) -> None:
    # The runner itself: a transcript that expects the wrong things must fail, with the step.
    if UPDATE:
        pytest.skip("UPDATE_TRANSCRIPTS=1 rewrites what is expected instead of comparing")
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "channel: ussd\nphone: '+243812000009'\nsteps:\n- session: ATUid_wrong\n"
        "- input: null\n  reply: CON something else\n"
        "- input: '2'\n  events: [language_chosen language='sw']\n",
        encoding="utf-8",
    )
    problems = play(client, services, path)
    assert len(problems) == 3, problems
    assert problems[0].startswith("wrong.yaml step 2 ATUid_wrong (text '')")
    assert "expected\nCON something else" in problems[0]
    assert "events [\"language_chosen language='fr'\"]" in problems[2]


def test_events_are_recorded_per_turn_on_both_channels(
    client: FlaskClient, services: Services
) -> None:
    from .sms_support import Conversation

    with recording_events() as events:
        Conversation(client, services, "+243812000010").send("ALERTE")
    assert [describe(e) for e in events] == ["language_chosen language='fr'"]


def test_a_wrong_limited_step_is_reported(backend: Backend, tmp_path: Path) -> None:
    # SMS over sms_per_hour: the runner checks the 200 OK limited, the one reply of the first
    # message over the limit, and that the next ones get none.
    if UPDATE:
        pytest.skip("UPDATE_TRANSCRIPTS=1 rewrites what is expected instead of comparing")
    app = make_app(backend, tmp_path, rate_limits={"sms_per_hour": 1})
    services: Services = app.extensions[EXTENSION_KEY]
    path = tmp_path / "limited.yaml"
    path.write_text(
        "channel: sms\nphone: '+243812000011'\nsteps:\n- send: ALERTE\n"
        "- send: AIDE\n  limited: true\n  reply: something else\n"
        "- send: AIDE\n  limited: true\n"
        "- send: AIDE\n  reply: anything\n",
        encoding="utf-8",
    )
    # Step 1 expects no reply and gets the menu: a problem too (the runner's ordinary rule).
    first, *problems = play(app.test_client(), services, path)
    assert first.startswith("limited.yaml step 1 (send 'ALERTE'):\n--- expected\nNone")
    assert len(problems) == 2, problems
    assert problems[0].startswith("limited.yaml step 2 (send 'AIDE'):\n--- expected\nsomething")
    assert "ce téléphone a envoyé trop de messages" in problems[0]
    assert problems[1] == "limited.yaml step 4 (send 'AIDE'): HTTP 200 'OK limited\\n', 0 replies"
