"""``GET /healthz``: the process lives. ``GET /readyz``: the database, Redis and the outbox queue
answer; otherwise 503 naming what fails, so a load balancer stops sending reporters here."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from services import current_services

from .checks import run_checks

blueprint = Blueprint("ops_health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    # Nothing but the process: restarting it cannot cure a database outage.
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = run_checks(current_services())
    failing = [check.part for check in checks if not check.ok]
    body = {
        "status": "unavailable" if failing else "ready",
        "failing": failing,
        "checks": {check.part: check.detail for check in checks},
    }
    return jsonify(body), 503 if failing else 200
