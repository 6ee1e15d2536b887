"""The Flask application factory. ``flask run`` finds ``create_app`` here."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.response import Response as BaseResponse

from logging_setup import configure_logging
from services import EXTENSION_KEY, build_services
from settings import load_settings
from storage import migrate


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = load_settings(test_config)
    configure_logging(settings.log_level)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=64 * 1024)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app.extensions[EXTENSION_KEY] = build_services(settings)
    if not migrate.is_current(settings.database_url):
        # Not fatal: `flask db upgrade` itself starts here. But say it before a reporter finds out.
        logging.getLogger(__name__).warning(
            "the database schema is not current: run `flask --app app db upgrade`"
        )

    register_blueprints(app)
    register_commands(app)
    register_error_handlers(app)
    return app


def register_blueprints(app: Flask) -> None:
    from channels.africastalking.sms import blueprint as at_sms
    from channels.africastalking.ussd import blueprint as at_ussd

    app.register_blueprint(at_ussd)
    app.register_blueprint(at_sms)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}


def register_commands(app: Flask) -> None:
    from commands import register

    register(app)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> BaseResponse | HTTPException:
        # Gateways read plain text; keep each error one line with its reason.
        if error.response is not None:
            return error.response
        response = Response(f"{error.code} {error.name}: {error.description}\n", error.code or 500)
        response.mimetype = "text/plain"
        return response
