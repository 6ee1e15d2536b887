"""A simulated handset for endpoint tests: posts Africa's Talking requests and checks every reply
against the protocol (200, text/plain, ``CON ``/``END `` first, within the limit, GSM-7)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from menus import gsm
from services import EXTENSION_KEY, Services

from .conftest import Backend, make_app

URL = "/ussd/africastalking"
# French: language, report, accident, collapse, Ituri, Djugu, site, this week, something to add,
# the details.
TO_CONFIRM_FR = ["2", "1", "1", "1", "1", "2", "Mongbwalu", "3", "1", "Deux blessés au puits"]


def check_reply(body: str, limit: int = 160) -> None:
    assert body[:4] in ("CON ", "END "), body
    screen = body[4:]
    assert screen and screen == screen.strip(), body
    assert gsm.is_gsm(screen), body
    assert gsm.length(screen) <= limit, (gsm.length(screen), body)
    assert len(body) <= 4 + limit


@dataclass
class Phone:
    client: FlaskClient
    session_id: str
    number: str = "+243812345678"
    network: str = "63001"
    limit: int = 160
    query: str = ""
    inputs: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    def form(self, text: str) -> dict[str, str]:
        return {
            "sessionId": self.session_id,
            "serviceCode": "*384*44135#",
            "phoneNumber": self.number,
            "networkCode": self.network,
            "text": text,
        }

    def post_text(self, text: str) -> str:
        response = self.client.post(URL + self.query, data=self.form(text))
        body = response.get_data(as_text=True)
        assert response.status_code == 200, body
        assert response.mimetype == "text/plain"
        check_reply(body, self.limit)
        self.replies.append(body)
        return body

    def dial(self) -> str:
        return self.post_text("")

    def send(self, *answers: str) -> str:
        body = ""
        for answer in answers:
            self.inputs.append(answer)
            body = self.post_text(self.text)
        return body

    @property
    def text(self) -> str:
        return "*".join(self.inputs)


@contextmanager
def built_app(backend: Backend, tmp_path: Path, **extra: Any) -> Iterator[Flask]:
    """An app with extra configuration, closed at the end of the block (``backend`` removes its
    keys and rows when the test ends)."""
    app = make_app(backend, tmp_path, **extra)
    try:
        yield app
    finally:
        services: Services = app.extensions[EXTENSION_KEY]
        services.close()
