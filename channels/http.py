"""Small helpers shared by the gateway adapters' HTTP handlers."""

from __future__ import annotations

import hmac

from flask import Response, abort, make_response, request

MAX_FIELD = 2000


def plain(text: str, status: int = 200) -> Response:
    response = make_response(text, status)
    response.mimetype = "text/plain"
    return response


def bad_request(reason: str) -> Response:
    """HTTP 400 with a one-line reason a gateway operator can read in their logs."""
    return plain(reason.replace("\n", " ") + "\n", 400)


def require_token(expected: str) -> None:
    """With a callback token configured, a request without ``?token=<it>`` is refused (403)."""
    if not expected:
        return
    given = request.args.get("token", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(plain("missing or wrong token\n", 403))


def form_fields(required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str] | str:
    """The named form fields, or a one-line reason why the request is malformed."""
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return f"expected a form-encoded body, got '{request.mimetype or 'nothing'}'"
    form = request.form
    missing = [name for name in required if not form.get(name, "").strip()]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    values: dict[str, str] = {}
    for name in (*required, *optional):
        value = form.get(name, "")
        if len(value) > MAX_FIELD:
            return f"field '{name}' is too long"
        values[name] = value
    return values
