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
from storage import phones, queries

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
    token = current_services().settings.gateways.africastalking.callback_token
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


@simulate.command("sms")
@click.option("--phone", default="+243990000002", show_default=True, help="The simulated phone.")
@click.option("--to", "shortcode", default="21512", show_default=True, help="Our shortcode.")
@click.option("--network", default="63001", show_default=True, help="networkCode (63001 Vodacom).")
@click.option("--url", help="A running server, e.g. http://127.0.0.1:5000 (default: in-process).")
@click.argument("messages", nargs=-1)
@with_appcontext
def sms(
    phone: str, shortcode: str, network: str, url: str | None, messages: tuple[str, ...]
) -> None:
    """Text the SMS service: each line you type is one SMS; Ctrl-D or an empty line stops.

    MESSAGES, when given, are sent in turn instead of asking. After each SMS the replies queued
    in the outbox for this phone are printed with their status (a worker sends them).
    """
    from datetime import UTC, datetime

    services = current_services()
    token = services.settings.gateways.africastalking.callback_token
    post = make_poster(url, token)
    try:
        # The hash the service will give this phone, whichever way it is written.
        phone_hash = services.vault.hash(phones.normalise(phone, services.settings.phone_region))
    except phones.InvalidPhoneNumber as exc:
        raise click.BadParameter(
            f"{phone} is not a valid phone number", param_hint="--phone"
        ) from exc
    with services.db.session() as session:
        seen = max(
            (row.id for row in queries.outbox_messages(session, phone_hash=phone_hash, limit=1)),
            default=0,
        )
    click.echo(f"Texting {shortcode} from {phone}. Try RIPOTI, ALERTE, REPORT or KUFATILIA.\n")
    pending = list(messages)
    while True:
        if messages:
            if not pending:
                return
            text = pending.pop(0)
            click.echo(f"> {text}")
        else:
            try:
                text = click.prompt(">", default="", show_default=False, prompt_suffix=" ")
            except (EOFError, click.Abort):
                click.echo()
                return
            if text == "":
                return
        payload = {
            "from": phone,
            "to": shortcode,
            "text": text,
            "networkCode": network,
            "id": f"SIM_{uuid.uuid4().hex}",
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        status, body = post("/sms/africastalking/incoming", payload)
        if status != 200:
            click.echo(f"[HTTP {status}] {body.strip()}")
            continue
        with services.db.session() as session:
            rows = queries.outbox_messages(
                session, phone_hash=phone_hash, after_id=seen, limit=20, newest_first=False
            )
        for row in rows:
            seen = max(seen, row.id)
            click.echo(
                click.style(
                    f"-- outbox #{row.id} [{row.status}] {row.segments} segment(s) {row.encoding}",
                    dim=True,
                )
            )
            click.echo(row.text)
        click.echo()
