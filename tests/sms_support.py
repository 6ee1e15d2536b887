"""Helpers for the SMS and outbox tests: post like Africa's Talking, read the outbox, and a
local HTTP server that answers like AT's messaging API. (SMS transcripts: ``transcript.py``.)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from flask.testing import FlaskClient

from services import Services
from storage import queries
from storage.models import OutboxMessage

INCOMING = "/sms/africastalking/incoming"
DELIVERY = "/sms/africastalking/delivery"
DATE_FORMATS = ("2026-11-24T09:30:00Z", "2026-11-24 09:30:00")


def incoming_form(
    text: str, message_id: str, phone: str = "+243812345678", to: str = "21512", **extra: str
) -> dict[str, str]:
    form = {
        "from": phone,
        "to": to,
        "text": text,
        "id": message_id,
        "date": DATE_FORMATS[len(message_id) % 2],
        "networkCode": "63001",
    }
    form.update(extra)
    return form


def outbox_rows(
    services: Services, phone: str | None = None, after_id: int = 0
) -> list[OutboxMessage]:
    with services.db.session() as session:
        return queries.outbox_messages(
            session,
            phone_hash=services.vault.hash(phone) if phone else None,
            after_id=after_id,
            limit=1000,
            newest_first=False,
        )


def outbox_row(services: Services, row_id: int) -> OutboxMessage:
    with services.db.session() as session:
        found = queries.outbox_message(session, row_id)
        assert found is not None
        return found


@dataclass
class Conversation:
    """One phone texting the service; ``send`` returns the one reply queued for it."""

    client: FlaskClient
    services: Services
    phone: str = "+243812345678"
    to: str = "21512"
    seen: int = 0
    count: int = 0

    def post(
        self, text: str, message_id: str | None = None
    ) -> tuple[int, str, list[OutboxMessage]]:
        self.count += 1
        message_id = message_id or f"ATXid_{self.phone[-4:]}_{self.count:03d}"
        response = self.client.post(
            INCOMING, data=incoming_form(text, message_id, self.phone, self.to)
        )
        rows = outbox_rows(self.services, self.phone, self.seen)
        if rows:
            self.seen = rows[-1].id
        return response.status_code, response.get_data(as_text=True), rows

    def send(self, text: str, message_id: str | None = None) -> str:
        status, body, rows = self.post(text, message_id)
        assert status == 200 and body == "OK\n", (status, body)
        assert len(rows) == 1, [r.text for r in rows]
        return rows[0].text


# A local stand-in for AT's messaging API -------------------------------------------------------


def at_success(
    message_id: str = "ATXid_ok1",
    code: int = 101,
    status: str = "Success",
    number: str = "+243812345678",
) -> dict[str, Any]:
    return {
        "SMSMessageData": {
            "Message": "Sent to 1/1 Total Cost: CDF 50.0000",
            "Recipients": [
                {
                    "statusCode": code,
                    "number": number,
                    "status": status,
                    "cost": "CDF 50.0000",
                    "messageId": message_id,
                }
            ],
        }
    }


def at_failure(code: int, status: str, number: str = "+243812345678") -> dict[str, Any]:
    return {
        "SMSMessageData": {
            "Message": "Sent to 0/1 Total Cost: 0",
            "Recipients": [
                {
                    "statusCode": code,
                    "number": number,
                    "status": status,
                    "cost": "0",
                    "messageId": "None",
                }
            ],
        }
    }


@dataclass
class Answer:
    """What the fake API answers to one request."""

    status: int = 201
    body: Any = field(default_factory=at_success)
    content_type: str = "application/json"
    # Held until the test sets it: an answer that comes after the client stopped waiting, or
    # while other things happen, decided by the test and not by a race between two sleeps.
    hold: threading.Event | None = None


HOLD_LIMIT = 30.0  # a held answer never outlives a failed test by more than this


class FakeAT:
    """A ThreadingHTTPServer on 127.0.0.1 answering ``POST /version1/messaging`` from a script."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake.lock:
                    fake.requests.append(
                        {"path": self.path, "form": form, "api_key": self.headers.get("apiKey")}
                    )
                    answer = fake.answers.pop(0) if fake.answers else Answer()
                if answer.hold is not None:
                    answer.hold.wait(HOLD_LIMIT)
                body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                payload = body.encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout case)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/version1"

    def __enter__(self) -> FakeAT:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_at() -> Iterator[FakeAT]:
    with FakeAT() as fake:
        yield fake
