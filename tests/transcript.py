"""Transcript tests: conversations recorded as YAML, inputs in and exact replies out, in one
format for USSD and SMS, played by one runner through the gateway endpoints.

A transcript is one phone talking to the service on one channel::

    # What the transcript shows (comment lines at the top are kept when it is rewritten).
    channel: ussd              # or sms
    phone: '+243812000001'
    network: '63002'           # networkCode; 63001 when left out
    settings: {rate_limits: {reports_per_day: 1}}   # optional: settings of the app it plays on
    shortcode: '21512'         # SMS: the number texted; 21512 when left out
    steps:
    - session: ATUid_1         # USSD: the requests below belong to this gateway session
    - input: null              # USSD: dialling (text ''); input: '2' adds an answer to the
      reply: |-                #   cumulative text; the exact reply, with CON/END
        CON Lugha / Langue / Language
        ...
    - text: 3*1                # USSD: a cumulative text as the gateway sends it, e.g. stale
    - repeat: true             # USSD: the last request again
    - send: RIPOTI             # SMS: one message; `id: ...` replays a gateway retry,
      reply: ...               #   `duplicate: true` expects no reply at all; `limited: true`
                               #   expects `200 OK limited` (over sms_per_hour, unread) and the
                               #   one reply saying so, or none (no `reply`) after the first
    - advance: 86400           # the fixed clock moves forward, seconds
    - ...
      events: [language_chosen language='fr']   # on any step: exactly the turn's events
    expect_reports: [...]      # the stored reports, oldest first, by export field
    given: [...]               # reports stored before the first step (``given_reports``)

``UPDATE_TRANSCRIPTS=1 pytest tests/test_transcripts.py`` rewrites every reply, and the events
of every step that lists them, after a deliberate change: then read the diff.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from channels.conversation import Conversations, TurnWrites
from menus.engine import Event
from services import Services
from storage import operations, queries, references
from storage.models import Report

from .phone import check_reply
from .sms_support import Conversation

UPDATE = os.environ.get("UPDATE_TRANSCRIPTS") == "1"
DIRECTORY = Path(__file__).resolve().parent / "transcripts"
USSD_URL = "/ussd/africastalking"
DEFAULT_NETWORK = "63001"
DEFAULT_SHORTCODE = "21512"


# Reading and writing ----------------------------------------------------------------------------


class _Literal(str):
    pass


def _literal_representer(dumper: yaml.SafeDumper, data: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


yaml.SafeDumper.add_representer(_Literal, _literal_representer)


def paths() -> list[Path]:
    return sorted(DIRECTORY.glob("*/*.yaml"))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    assert data.get("channel") in ("ussd", "sms"), f"{path}: channel must be ussd or sms"
    return data


def save(path: Path, data: dict[str, Any]) -> None:
    """Write a transcript back, replies as literal blocks, keeping its comment header."""
    for step in data["steps"]:
        if isinstance(step.get("reply"), str):
            step["reply"] = _Literal(step["reply"])
    header = "".join(
        line + "\n"
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    )
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(header + body, encoding="utf-8")


# Events -----------------------------------------------------------------------------------------


def describe(event: Event) -> str:
    """``language_chosen language='fr'``: an event as one line (a report's answers left out:
    ``expect_reports`` checks what was stored)."""
    name = "".join(f"_{c.lower()}" if c.isupper() else c for c in type(event).__name__)[1:]
    shown = [
        f"{item.name}={getattr(event, item.name)!r}"
        for item in dataclasses.fields(event)
        if item.name != "answers"
    ]
    return " ".join([name, *shown])


@contextmanager
def recording_events() -> Iterator[list[Event]]:
    """Every turn's events, in order, as the conversation core commits them (both channels)."""
    seen: list[Event] = []
    committing = threading.local()
    commit, record = Conversations.commit, TurnWrites.record

    def spy_commit(self: Conversations, *args: Any, **kwargs: Any) -> Any:
        seen.extend(args[2].events)  # (caller, tree, outcome, conversation_id, ctx)
        committing.active = True
        try:
            return commit(self, *args, **kwargs)
        finally:
            committing.active = False

    def spy_record(self: TurnWrites, *args: Any, **kwargs: Any) -> Any:
        if not getattr(committing, "active", False):  # USSD records inside commit
            seen.extend(args[1].events)  # (tree, outcome, conversation_id, ctx)
        return record(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Conversations, "commit", spy_commit)
        patch.setattr(TurnWrites, "record", spy_record)
        yield seen


# Playing ----------------------------------------------------------------------------------------


@dataclass
class _Ussd:
    client: FlaskClient
    services: Services
    phone: str
    network: str
    session: str = ""
    inputs: list[str] = field(default_factory=list)

    def request(self, step: dict[str, Any]) -> tuple[str | None, str, str]:
        """(the problem or None, the reply, the cumulative text sent)."""
        if "text" in step:
            text = str(step["text"])
        elif "input" in step and step["input"] is not None:
            self.inputs.append(str(step["input"]))
            text = "*".join(self.inputs)
        else:  # dialling, or repeating the last request
            text = "*".join(self.inputs)
        form = {
            "sessionId": self.session,
            "serviceCode": "*384*44135#",
            "phoneNumber": self.phone,
            "networkCode": self.network,
            "text": text,
        }
        response = self.client.post(USSD_URL, data=form)
        body = response.get_data(as_text=True)
        if response.status_code != 200:
            return f"HTTP {response.status_code} {body}", body, text
        ussd = self.services.settings.ussd
        try:
            check_reply(body, ussd.network_limits.get(self.network, ussd.screen_limit))
        except AssertionError as exc:
            return f"not a valid USSD reply: {exc}", body, text
        return None, body, text

    def new_session(self, step: dict[str, Any]) -> None:
        self.session = str(step["session"])
        self.network = str(step.get("network", self.network))
        self.inputs = []


def play(client: FlaskClient, services: Services, path: Path) -> list[str]:
    """Play a transcript; returns the mismatches (empty: it passed)."""
    data = load(path)
    phone = str(data["phone"])
    network = str(data.get("network", DEFAULT_NETWORK))
    ussd = _Ussd(client, services, phone, network)
    sms = Conversation(client, services, phone, str(data.get("shortcode", DEFAULT_SHORTCODE)))
    sms_limit = services.settings.sms.max_length
    given_reports(services, data)
    problems: list[str] = []
    with recording_events() as events:
        for index, step in enumerate(data["steps"], 1):
            if "advance" in step:
                assert services.clock.fixed is not None, "transcripts run on the fixed clock"
                services.clock.fixed += timedelta(seconds=int(step["advance"]))
                continue
            if "session" in step:
                ussd.new_session(step)
                continue
            before = len(events)
            where = f"{path.name} step {index}"
            if data["channel"] == "ussd":
                problem, got, text = ussd.request(step)
                where += f" {ussd.session} (text {text!r})"
            else:
                problem, got = _sms_step(sms, step, sms_limit)
                where += f" (send {step['send']!r})"
            if problem is not None:
                problems.append(f"{where}: {problem}")
                continue
            if step.get("limited"):
                # The first message over the limit gets one reply, the next ones none.
                if UPDATE and got:
                    step["reply"] = got
                elif UPDATE:
                    step.pop("reply", None)
                elif got != step.get("reply", ""):
                    problems.append(f"{where}:\n--- expected\n{step.get('reply')}\n--- got\n{got}")
            elif "reply" in step or not step.get("duplicate"):
                if UPDATE:
                    step["reply"] = got
                elif got != step.get("reply"):
                    problems.append(f"{where}:\n--- expected\n{step.get('reply')}\n--- got\n{got}")
            if "events" in step:
                happened = [describe(event) for event in events[before:]]
                if UPDATE:
                    step["events"] = happened
                elif happened != list(step["events"]):
                    problems.append(f"{where}: events {happened}, expected {step['events']}")
    if UPDATE:
        save(path, data)
    return problems


def _sms_step(talk: Conversation, step: dict[str, Any], limit: int) -> tuple[str | None, str]:
    status, body, rows = talk.post(str(step["send"]), step.get("id"))
    if step.get("duplicate"):
        if status != 200 or body != "OK duplicate\n" or rows:
            texts = [row.text for row in rows]
            return f"expected a silent duplicate, got {status} {body!r} {texts}", ""
        return None, ""
    if step.get("limited"):
        if status != 200 or body != "OK limited\n" or len(rows) > 1:
            texts = [row.text for row in rows]
            return (
                f"expected 200 OK limited and at most one reply, got {status} {body!r} {texts}",
                "",
            )
        return None, rows[0].text if rows else ""
    if status != 200 or len(rows) != 1:
        return f"HTTP {status} {body!r}, {len(rows)} replies", ""
    if rows[0].segments > 3 or len(rows[0].text) > limit:
        return "reply longer than three segments", rows[0].text
    return None, rows[0].text


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


def _always(reference: str) -> Callable[[], str]:
    return lambda: reference


def given_reports(services: Services, data: dict[str, Any]) -> None:
    """Store the transcript's ``given`` reports, each ``{reference, phone, status, language,
    duplicate_of}`` (a duplicate is closed and points at its head, as a merge leaves it)."""
    stored: dict[str, int] = {}
    for n, given in enumerate(data.get("given") or []):
        reference = str(given["reference"])
        assert references.is_valid(reference), reference
        submission = operations.Submission(
            language=str(given.get("language", "fr")),
            tree_id="incident",
            tree_version=1,
            answers={"category": {"key": "category", "node": "category", "value": "accident"}},
            channel="ussd",
            gateway="africastalking",
            conversation_key=f"given:{n}",
            network_code="63001",
        )
        with services.db.transaction() as session:
            report, _ = operations.create_report(
                session,
                submission,
                phone=str(given["phone"]),
                vault=services.vault,
                now=services.clock.now(),
                local_today=services.clock.local_today(),
                new_reference=_always(reference),
            )
            report.status = str(given.get("status", "new"))
            head = given.get("duplicate_of")
            if head is not None:
                found = session.get(Report, stored[str(head)])
                assert found is not None
                report.duplicate_of_id, report.status = found.id, "closed"
                report.closed_reason = "duplicate"
            stored[reference] = report.id
