"""Operations endpoints: liveness, readiness and Prometheus metrics. App-level, gateway-agnostic."""

from __future__ import annotations

from flask import Flask

from .health import blueprint as health_blueprint
from .metrics import Metrics


def init_app(app: Flask) -> None:
    app.register_blueprint(health_blueprint)
    Metrics(app)
