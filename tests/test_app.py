"""The application's rules by place: gateway endpoints answer errors in one plain-text line and
take small bodies; everything else (the web platform's pages) keeps HTML errors and larger bodies."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, request

from .conftest import Backend
from .phone import built_app

USSD = "/ussd/africastalking"
FORM = "application/x-www-form-urlencoded"


def _add_page(app: Flask) -> None:
    """A stand-in for a web page with an upload form (the platform's are not built yet)."""

    @app.post("/upload-test")
    def upload() -> str:
        if "refuse" in request.form:
            abort(400, "no")
        return f"{len(request.form['file'])} bytes"


def test_a_page_keeps_html_errors(app: Flask) -> None:
    _add_page(app)
    client = app.test_client()
    for response in (
        client.get("/no-such-page"),
        client.post("/health"),  # a method the page does not take
        client.post("/upload-test", data={"refuse": "1", "file": "x"}),
    ):
        assert response.status_code in (400, 404, 405)
        assert response.mimetype == "text/html", response.status_code


def test_a_page_takes_a_larger_body_than_a_gateway(backend: Backend, tmp_path: Path) -> None:
    with built_app(backend, tmp_path, max_request_bytes=300_000) as app:
        _add_page(app)
        client = app.test_client()
        big = "1" * 200_000  # over the gateways' 64 KiB
        response = client.post("/upload-test", data={"file": big})
        assert (response.status_code, response.get_data(as_text=True)) == (200, "200000 bytes")
        too_big = client.post("/upload-test", data={"file": "1" * 400_000})
        assert too_big.status_code == 413 and too_big.mimetype == "text/html"


def test_gateway_errors_are_one_plain_line(app: Flask) -> None:
    client = app.test_client()
    body = "sessionId=S&phoneNumber=%2B243812345678&text=" + "1" * 70_000
    for response, status in (
        (client.post(USSD, data=body, content_type=FORM), 413),
        (client.get(USSD), 405),
        (client.put("/sms/africastalking/incoming"), 405),
        (client.get("/sms/africastalking/delivery"), 405),
    ):
        text = response.get_data(as_text=True)
        assert response.status_code == status
        assert response.mimetype == "text/plain"
        assert text.endswith("\n") and "\n" not in text.rstrip("\n"), text
