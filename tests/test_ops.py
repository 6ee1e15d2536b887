"""Liveness, readiness and the Prometheus metrics, on both backends."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from .conftest import Backend
from .phone import TO_CONFIRM_FR, Phone, built_app
from .sms_support import INCOMING, incoming_form


def test_healthz_answers_without_asking_anything(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_when_every_part_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and body["failing"] == []
    assert set(body["checks"]) == {"database", "redis", "outbox_queue"}


def _scrape(client: FlaskClient, **kwargs: object) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _value(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not in the scrape")


def test_metrics_count_hops_reports_and_errors(app: Flask, client: FlaskClient) -> None:
    phone = Phone(client, "ATUid_metrics")
    phone.dial()
    phone.send(*TO_CONFIRM_FR, "1")
    logging.getLogger("kufatilia.test").error("something failed")
    text = _scrape(client)
    hops = 'kufatilia_http_requests_total{endpoint="/ussd/africastalking",status="200"}'
    expected = len(phone.replies)  # the dial, every answer, the send
    assert _value(text, hops) == expected
    latency = 'kufatilia_http_request_seconds_count{endpoint="/ussd/africastalking"}'
    assert _value(text, latency) == expected
    assert _value(text, 'kufatilia_reports{channel="ussd"}') == 1
    assert _value(text, 'kufatilia_errors_total{logger="kufatilia.test"}') == 1
    assert _value(text, 'kufatilia_up{part="database"}') == 1
    assert _value(text, "kufatilia_outbox_queue_depth") == 0
    assert _value(text, "kufatilia_reports_to_announce") == 1  # no worker has swept yet
    # Hops by channel and the kind of screen they showed; the submit hop on its own.
    kinds = {
        "language": 1,  # the dial
        "menu": 5,  # main menu, category, sub-category, date ("this week"), "anything to add?"
        "list": 2,  # the province, the territoire
        "input": 2,  # the site, the details
        "confirm": 1,
        "submit": 1,
    }
    for kind, count in kinds.items():
        series = f'kufatilia_hop_seconds_count{{channel="ussd",kind="{kind}"}}'
        assert (kind, _value(text, series)) == (kind, count)
    assert sum(kinds.values()) == expected
    sent = client.post(INCOMING, data=incoming_form("ALERTE", "ATXid_m1"))
    assert sent.status_code == 200
    text = _scrape(client)
    assert _value(text, 'kufatilia_hop_seconds_count{channel="sms",kind="start"}') == 1
    # A scanner's random paths share one series.
    client.get("/wp-login.php")
    client.get("/.env")
    text = _scrape(client)
    assert _value(text, 'kufatilia_http_requests_total{endpoint="unmatched",status="404"}') == 2


def test_metrics_are_refused_to_other_addresses_without_the_token(
    backend: Backend, tmp_path: Path
) -> None:
    with built_app(backend, tmp_path, ops={"metrics_token": "m3trics-token"}) as app:
        client = app.test_client()
        outside = {"REMOTE_ADDR": "198.51.100.7"}
        assert client.get("/metrics", environ_base=outside).status_code == 403
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", environ_base=outside, headers=wrong).status_code == 403
        token = {"Authorization": "Bearer m3trics-token"}
        assert "kufatilia_up" in _scrape(client, environ_base=outside, headers=token)
        assert "kufatilia_up" in _scrape(client)  # loopback is allowed by default


def test_allowed_networks_are_configurable(backend: Backend, tmp_path: Path) -> None:
    with built_app(backend, tmp_path, ops={"metrics_allow": ["10.0.0.0/8"]}) as app:
        client = app.test_client()
        assert client.get("/metrics").status_code == 403  # loopback no longer listed
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.3.4"}).status_code == 200
