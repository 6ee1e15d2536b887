"""``flask simulate ...``: try the service from a terminal, without a phone.

The simulated phone talks to the real HTTP endpoint: in-process through Flask's test client by
default, or to a running server with ``--url``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import click
import requests
from flask import current_app
from flask.cli import with_appcontext

from services import current_services

Poster = Callable[[str, dict[str, str]], tuple[int, str]]


@click.group("simulate", help="Chat with the service from the terminal, as a phone would.")
def simulate() -> None:
    pass


def make_poster(url: str | None, token: str) -> Poster:
    query = f"?token={token}" if token else ""
    if url:
        base = url.rstrip("/")

        def post_http(path: str, data: dict[str, str]) -> tuple[int, str]:
            response = requests.post(base + path + query, data=data, timeout=15)
            return response.status_code, response.text

        return post_http
    client = current_app.test_client()

    def post_local(path: str, data: dict[str, str]) -> tuple[int, str]:
        response = client.post(path + query, data=data)
        return response.status_code, response.get_data(as_text=True)

    return post_local


@simulate.command("ussd")
@click.option("--phone", default="+243990000001", show_default=True, help="The simulated phone.")
@click.option("--lang", type=click.Choice(["sw", "fr", "en"]), help="Answer the language question.")
@click.option("--network", default="63001", show_default=True, help="networkCode (63001 Vodacom).")
@click.option("--service-code", default="*384*1#", show_default=True)
@click.option("--url", help="A running server, e.g. http://127.0.0.1:5000 (default: in-process).")
@with_appcontext
def ussd(phone: str, lang: str | None, network: str, service_code: str, url: str | None) -> None:
    """Dial the USSD service: type an answer and press Enter; empty line or Ctrl-D hangs up."""
    token = str(
        current_services().settings.get("gateways", "africastalking", "callback_token", default="")
        or ""
    )
    post = make_poster(url, token)
    session_id = f"SIM_{uuid.uuid4().hex[:16]}"
    inputs: list[str] = []
    click.echo(f"Dialling {service_code} from {phone} (session {session_id}). Ctrl-D hangs up.\n")
    first = True
    while True:
        payload = {
            "sessionId": session_id,
            "serviceCode": service_code,
            "phoneNumber": phone,
            "networkCode": network,
            "text": "*".join(inputs),
        }
        status, body = post("/ussd/africastalking", payload)
        if status != 200:
            click.echo(f"[HTTP {status}] {body.strip()}")
            return
        end = body.startswith("END ")
        screen = body[4:]
        click.echo(click.style("-" * 32, dim=True))
        click.echo(screen)
        click.echo(click.style(f"-- {len(screen)} characters --", dim=True))
        if end:
            click.echo("\n[session ended]")
            return
        if first and lang and screen.startswith("Lugha"):
            choice = {"sw": "1", "fr": "2", "en": "3"}[lang]
            click.echo(f"> {choice}")
            inputs.append(choice)
            first = False
            continue
        first = False
        try:
            answer = click.prompt(">", default="", show_default=False, prompt_suffix=" ")
        except (EOFError, click.Abort):
            click.echo("\n[hung up]")
            return
        if answer == "":
            click.echo("[hung up]")
            return
        inputs.append(answer)
