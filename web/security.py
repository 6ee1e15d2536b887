"""Cookie flags and the security headers every response carries.

The Content-Security-Policy allows only this origin's own styles, scripts and images: no inline
script or style can run, so a reporter's text that slipped past escaping still could not execute.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import WebSettings

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # for browsers older than frame-ancestors
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def init_app(app: Flask, web: WebSettings) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="kuf_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=web.cookie_secure,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=web.session_hours),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=web.cookie_secure,
        WTF_CSRF_TIME_LIMIT=web.session_hours * 3600,
    )
    if web.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=web.proxy_hops, x_proto=web.proxy_hops, x_host=web.proxy_hops
        )

    @app.after_request
    def security_headers(response: Response) -> Response:
        # Added in one pass (a header the view set itself is kept): every response carries
        # them, a USSD hop's too, and one setdefault each was a twentieth of a hop.
        present = {name.lower() for name, _ in response.headers.items()}
        response.headers.extend(
            [(name, value) for name, value in HEADERS.items() if name.lower() not in present]
        )
        if request.blueprint in WEB_BLUEPRINTS and not request.path.startswith("/static/"):
            # Pages show reports: never keep them in a shared or back-button cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


WEB_BLUEPRINTS: set[str | None] = {
    "auth",
    "reports",
    "admin",
    "home",
    "dashboard",
    "exports",
    "notifications",
    "api",
}
