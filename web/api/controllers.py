"""The read-only API: ``GET /api/v1/reports`` with a bearer token from ``flask tokens create``,
the inbox's filters in the query string, cursor pagination, and the token's organisation's
visibility; ``GET /api/v1/openapi.json`` describes it. Errors are JSON too."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from exports.records import FULL_COLUMNS, full_record
from services import current_services
from storage import queries
from storage.models import Organisation

from ..db import db
from ..exports.controllers import names
from ..filtering import (
    FILTER_FIELDS,
    filter_form,
    inbox_filter,
    invalid_fields,
    organisation_visibility,
    sort_of,
)
from ..passwords import hash_api_token
from .openapi import document

BEARER = "Bearer "


def _organisation() -> Organisation:
    """The organisation whose valid token the request carries, else 401 (one answer for a
    missing, unknown, revoked or disabled one)."""
    header = request.headers.get("Authorization", "")
    token = header[len(BEARER) :].strip() if header.startswith(BEARER) else ""
    session = db()
    found = queries.api_token_by_hash(session, hash_api_token(token)) if token else None
    organisation = (
        queries.organisation_by_id(session, found.organisation_id)
        if found is not None and found.revoked_at is None
        else None
    )
    if organisation is None or not organisation.active:
        abort(401)
    return organisation


def _limit() -> int:
    settings = current_services().settings.exports
    raw = request.args.get("limit")
    if raw is None:
        return settings.api_page_size
    if not raw.isdigit() or not 1 <= int(raw) <= settings.api_max_page_size:
        abort(400, f"limit: a whole number from 1 to {settings.api_max_page_size}")
    return int(raw)


def reports() -> Response:
    organisation = _organisation()
    session = db()
    organisations = queries.organisation_names(session)
    form = filter_form(organisations, request.args)
    selection = inbox_filter(form)
    wrong = invalid_fields(form)
    unknown = sorted(set(request.args) - {*FILTER_FIELDS, "sort", "after", "limit"})
    if wrong or unknown:
        problems = {**wrong, **{name: ["unknown parameter"] for name in unknown}}
        return _json({"error": "invalid parameters", "fields": problems}, 400)
    after = request.args.get("after")
    cursor = _cursor(after) if after else None
    if after and cursor is None:
        return _json({"error": "invalid parameters", "fields": {"after": ["not a cursor"]}}, 400)
    visibility = organisation_visibility(
        organisation.id,
        organisation.provinces or [],
        organisation.territories or [],
        organisation.categories or [],
    )
    page = queries.inbox_page(
        session, selection, visibility, sort=sort_of(form), after=cursor, limit=_limit()
    )
    named = names(organisations)
    items = [full_record(row, named) for row in page.rows]
    following = None
    if page.next_cursor is not None:
        # Opaque and URL-safe: the inbox's cursor holds a "+" (a UTC offset) that a query
        # string would turn into a space.
        raw = page.next_cursor.encode().encode("utf-8")
        following = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    return _json({"items": items, "next": following})


def _cursor(text: str) -> queries.Cursor | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return queries.Cursor.decode(raw)


def openapi() -> Response:
    return _json(document(FULL_COLUMNS))


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _error(error: HTTPException) -> Response:
    if error.code == 401:
        response = _json(
            {"error": "a valid API token is needed: Authorization: Bearer <token>"}, 401
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="kufatilia"'
        return response
    return _json({"error": error.description or error.name}, error.code or 500)


def register_errors(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(HTTPException, _error)
