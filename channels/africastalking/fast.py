"""The USSD hop's fast path: ``POST /ussd/africastalking`` answered without Flask's request
machinery.

A hop is the one request a reporter waits on, many times per report, and Flask's per-request
work (request and app contexts, URL matching, before/after hooks, a response object) cost about
as much CPU as the hop's own two Redis round trips. This WSGI wrapper sits in front of the Flask
app and serves the ordinary hop itself, through the same code the Flask view uses
(``channels.http.check_fields`` for the form, ``ussd.answer_hop`` for the answer), with the same
security headers and the same metrics.

Anything out of the ordinary goes to Flask untouched, where the gateway rules already answer it:
another method or URL, a body that is not url-encoded or has no length or is over
``gateways.max_request_bytes``, a missing or wrong callback token, a form that fails the field
rules (its body is handed on, so Flask gives the same 400 with the same reason). So there is one
set of rules and one error format; this only skips the framework on the request that is fine.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ..http import FORM, check_fields, decode_form, token_matches
from .ussd import HOP, PATH, answer_hop

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ..ussd import UssdService

log = logging.getLogger(__name__)

# What the metrics are told of a request: the URL rule, the status, seconds, (channel, kind).
Observe = Callable[[str, int, float, tuple[str, str] | None], None]

_STATUS = {200: "200 OK", 500: "500 INTERNAL SERVER ERROR"}
_FAILED = b"500 Internal Server Error: the request could not be served\n"


class UssdFastPath:
    def __init__(
        self,
        app: WSGIApplication,
        service: UssdService,
        *,
        max_bytes: int,
        token: str,
        headers: Mapping[str, str],
        observe: Observe | None,
    ) -> None:
        self.app = app
        self.service = service
        self.max_bytes = max_bytes
        self.token = token
        self.headers = list(headers.items())
        self.observe = observe

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        started = time.perf_counter()
        fields = self._fields(environ)
        if fields is None:
            return self.app(environ, start_response)
        try:
            answer = answer_hop(self.service, fields)
        except Exception:  # handle() answers every failure itself: this is a bug, logged
            log.exception("USSD hop failed")
            return self._respond(start_response, 500, _FAILED, started, None)
        if answer.kind is None:  # the phone number: Flask's view gives the same 400
            return self.app(environ, start_response)
        return self._respond(
            start_response, 200, answer.text.encode(), started, ("ussd", answer.kind)
        )

    def _fields(self, environ: WSGIEnvironment) -> dict[str, str] | None:
        """The hop's fields, or None for a request Flask should answer (its body kept for it)."""
        if environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower() != FORM:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        if not 0 <= length <= self.max_bytes:
            return None
        if self.token:
            given = parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0]
            if not token_matches(given, self.token):
                return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # for Flask, if it is to answer after all
        environ["CONTENT_LENGTH"] = str(len(body))
        found = check_fields(decode_form(body, PATH), HOP)
        return None if isinstance(found, str) else found

    def _respond(
        self,
        start_response: StartResponse,
        status: int,
        body: bytes,
        started: float,
        hop: tuple[str, str] | None,
    ) -> list[bytes]:
        headers: list[tuple[str, str]] = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *self.headers,
        ]
        start_response(_STATUS[status], headers)
        if self.observe is not None:
            self.observe(PATH, status, time.perf_counter() - started, hop)
        return [body]


def install(app: Any, service: UssdService, **options: Any) -> None:
    """Put the fast path in front of ``app.wsgi_app`` (outermost: after ProxyFix and the rest)."""
    app.wsgi_app = UssdFastPath(app.wsgi_app, service, **options)
