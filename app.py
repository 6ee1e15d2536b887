"""The Flask application factory. ``flask run`` finds ``create_app`` here.

``create_app`` reads as the list of what the service is made of: settings, logging, the shared
services, the gateway endpoints, the commands.
"""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Blueprint, Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from gunicorn.errors import AppImportError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.sansio.response import Response as BaseResponse

from logging_setup import configure_logging
from menus.errors import TreeError
from services import EXTENSION_KEY, Services, build_services
from settings import ConfigError, Settings, load_settings
from storage import migrate

GATEWAYS = "gateways"


class StartupError(click.ClickException, AppImportError):  # type: ignore[misc]  # gunicorn is untyped
    """The service cannot start as configured: the reason, without a traceback, and the exit each
    host expects. ``flask run`` and ``flask <command>`` (click) print ``Error: <reason>`` and exit
    1; gunicorn prints the reason and stops ("App failed to load", exit 4) rather than restarting
    workers that can never boot."""


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The app, from config.yaml, KUFATILIA_CONFIG and the environment (``test_config`` last).

    Raises ``StartupError`` for a wrong setting or a broken menu tree (the cause attached).
    """
    try:
        settings = load_settings(test_config)
    except ConfigError as exc:
        raise StartupError(f"configuration: {exc}") from exc
    configure_logging(settings.log_level)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    # Web pages and their uploads (PO, CSV files) may be large; gateway requests are held to far
    # less in register_gateways.
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_request_bytes)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app.extensions[EXTENSION_KEY] = _services(settings)
    schema = migrate.schema_state(
        settings.database_url, max(1, round(settings.database.connect_timeout_seconds))
    )
    # Not fatal either way: `flask db upgrade` itself starts here, and hops that need no database
    # are served without one. But say which it is before a reporter finds out.
    if schema is migrate.SchemaState.BEHIND:
        logging.getLogger(__name__).warning(
            "the database schema is not current: run `flask --app app db upgrade`"
        )
    elif schema is migrate.SchemaState.UNREADABLE:
        logging.getLogger(__name__).warning(
            "the database does not answer at start-up: hops that need none are served "
            "(menu trees from Redis' copy); reports wait for it"
        )

    register_gateways(app, settings)
    register_health(app)
    register_web(app)
    register_notify(app)
    register_commands(app)
    install_fast_path(app, settings)
    return app


def install_fast_path(app: Flask, settings: Settings) -> None:
    """The USSD hop without Flask's request machinery (``channels/africastalking/fast.py``)."""
    from channels.africastalking import fast
    from channels.setup import EXTENSION_KEY as CHANNELS
    from ops.metrics import EXTENSION as METRICS
    from web.security import HEADERS

    metrics = app.extensions.get(METRICS)
    fast.install(
        app,
        app.extensions[CHANNELS].ussd,
        max_bytes=settings.gateways.max_request_bytes,
        token=settings.gateways.africastalking.callback_token,
        headers=HEADERS,
        observe=metrics.observe if metrics is not None else None,
    )


def _services(settings: Settings) -> Services:
    try:
        return build_services(settings)
    except TreeError as exc:
        # A tree's problems are listed one per line: more than one may need fixing.
        raise StartupError(str(exc)) from exc


def plain_error(error: HTTPException) -> BaseResponse:
    """One plain-text line with the reason: what a gateway's logs can show an operator."""
    if error.response is not None:
        return error.response
    response = Response(f"{error.code} {error.name}: {error.description}\n", error.code or 500)
    response.mimetype = "text/plain"
    return response


class NoSessionOn(SecureCookieSessionInterface):
    """Flask's cookie session everywhere but on the gateway endpoints (a gateway has no cookie,
    and opening a session was a measurable part of a USSD hop): Flask's null session there."""

    def __init__(self, paths: frozenset[str]) -> None:
        self.paths = paths

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path in self.paths:
            return None
        return super().open_session(app, request)


def register_gateways(app: Flask, settings: Settings) -> None:
    """The endpoints gateways call, under one parent blueprint that gives them their rules:
    small bodies, and every HTTP error as one plain-text line."""
    from channels import setup as channels
    from channels.africastalking.sms import blueprint as at_sms
    from channels.africastalking.ussd import blueprint as at_ussd

    channels.init_app(app)  # the USSD and SMS services, built once
    gateways = Blueprint(GATEWAYS, __name__)
    gateways.register_blueprint(at_ussd)
    gateways.register_blueprint(at_sms)
    limit = settings.gateways.max_request_bytes

    @gateways.before_request
    def limit_body() -> None:
        request.max_content_length = limit

    gateways.register_error_handler(HTTPException, plain_error)
    app.register_blueprint(gateways)
    paths = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith(GATEWAYS)}
    app.session_interface = NoSessionOn(frozenset(paths))

    @app.errorhandler(MethodNotAllowed)
    def wrong_method(error: MethodNotAllowed) -> BaseResponse | HTTPException:
        # Routing fails before any blueprint is chosen, so the gateways' handler never sees a
        # GET on their URL: answer it as they would when the URL is theirs.
        return plain_error(error) if _is_gateway_url() else error


def _is_gateway_url() -> bool:
    """Whether this URL, posted to, is a gateway endpoint (they all take POST only)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        rule, _ = adapter.match(method="POST", return_rule=True)
    except HTTPException:
        return False
    return str(rule.endpoint).startswith(GATEWAYS + ".")


def register_health(app: Flask) -> None:
    from ops import init_app as init_ops

    init_ops(app)  # /healthz, /readyz, /metrics

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}


def register_web(app: Flask) -> None:
    import web

    web.init_app(app, app.extensions[EXTENSION_KEY])


def register_notify(app: Flask) -> None:
    import notify

    notify.init_app(app)  # new reports and forwards become notification jobs


def register_commands(app: Flask) -> None:
    from commands import register

    register(app)
