"""The USSD hop's fast path (channels/africastalking/fast.py): the ordinary hop is answered
without Flask, with the same headers and metrics; anything else reaches the Flask view, which
answers it by the gateway rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.africastalking import ussd as at_ussd
from channels.africastalking.fast import UssdFastPath
from web.security import HEADERS

from .conftest import Backend, make_app

FORM = {
    "sessionId": "ATUid_fast",
    "serviceCode": "*384*44135#",
    "phoneNumber": "+243812000777",
    "networkCode": "63001",
    "text": "",
}


@pytest.fixture
def views(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The requests the Flask view answered (the fast path's are not in it)."""
    seen: list[str] = []
    view = app.view_functions["gateways.africastalking_ussd.ussd"]

    def counted() -> object:
        seen.append("flask")
        return view()

    monkeypatch.setitem(app.view_functions, "gateways.africastalking_ussd.ussd", counted)
    return seen


def test_the_ordinary_hop_skips_flask_and_keeps_its_headers(
    app: Flask, client: FlaskClient, views: list[str]
) -> None:
    assert isinstance(app.wsgi_app, UssdFastPath)
    response = client.post(at_ussd.PATH, data=FORM)
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("CON ")
    assert response.mimetype == "text/plain"
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    assert views == []


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"sessionId": ""}, 400, "missing field(s): sessionId"),
        ({"networkCode": "9" * 40}, 400, "networkCode is too long"),
        ({"phoneNumber": "12"}, 400, "phoneNumber is not a valid phone number"),
    ],
)
def test_a_request_the_rules_refuse_gets_flasks_answer(
    client: FlaskClient, views: list[str], change: dict[str, str], status: int, reason: str
) -> None:
    response = client.post(at_ussd.PATH, data={**FORM, **change})
    assert response.status_code == status
    assert reason in response.get_data(as_text=True)
    assert views == ["flask"]


def test_other_methods_bodies_and_sizes_go_to_flask(client: FlaskClient, views: list[str]) -> None:
    assert client.get(at_ussd.PATH).status_code == 405
    as_json = client.post(at_ussd.PATH, json=FORM)
    assert as_json.status_code == 400 and "form-encoded" in as_json.get_data(as_text=True)
    huge = client.post(at_ussd.PATH, data={**FORM, "text": "1" * 70_000})
    assert huge.status_code == 413
    # The JSON body and the oversized one reach the view (the second is refused as it reads
    # the form); a GET is refused by the routing, before any view.
    assert views == ["flask", "flask"]


def test_the_callback_token_is_checked_on_the_fast_path_too(
    backend: Backend, tmp_path: Path
) -> None:
    app = make_app(
        backend, tmp_path, gateways={"africastalking": {"callback_token": "s3cret-token"}}
    )
    client = app.test_client()
    assert client.post(at_ussd.PATH, data=FORM).status_code == 403
    assert client.post(at_ussd.PATH + "?token=wrong", data=FORM).status_code == 403
    served = client.post(at_ussd.PATH + "?token=s3cret-token", data=FORM)
    assert served.status_code == 200 and served.get_data(as_text=True).startswith("CON ")
