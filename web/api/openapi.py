"""The API's OpenAPI 3 description, built from the same lists the code uses (the filter's fields
and the record's columns), so the document cannot drift from what the API does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.operations import STATUSES, VERIFICATIONS

from ..filtering import FILTER_FIELDS

_DESCRIPTIONS = {
    "q": "Words that must all appear in the details.",
    "status": "Follow-up status.",
    "verification": "Verification.",
    "category": "Category code, e.g. accident.",
    "subcategory": "Sub-category code, e.g. accident.collapse.",
    "province": "Province, ISO 3166-2, e.g. CD-SK.",
    "territory": "Territoire p-code, e.g. CD6201.",
    "site": "Site or village contains (case-insensitive).",
    "channel": "ussd or sms.",
    "language": "Reporter's language: sw, fr or en.",
    "assigned": "Organisation id the report is assigned to; 0 for nobody.",
    "occurred_from": "Incident on or after this date.",
    "occurred_to": "Incident on or before this date.",
    "received_from": "Received on or after this day (deployment's time zone).",
    "received_to": "Received on or before this day (deployment's time zone).",
}
_ENUMS: dict[str, Sequence[str]] = {
    "status": STATUSES,
    "verification": VERIFICATIONS,
    "channel": ("ussd", "sms"),
    "language": ("sw", "fr", "en"),
}
_DATES = ("occurred_from", "occurred_to", "received_from", "received_to")


def _parameter(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if name in _DATES:
        schema["format"] = "date"
    if name in _ENUMS:
        schema["enum"] = list(_ENUMS[name])
    if name == "assigned":
        schema = {"type": "integer", "minimum": 0}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": _DESCRIPTIONS[name],
        "schema": schema,
    }


def document(columns: Sequence[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {name: {"type": "string", "nullable": True} for name in columns}
    properties["reference"] = {"type": "string", "pattern": "^[0-9]{7,8}$"}
    properties["received_at"] = {"type": "string", "format": "date-time"}
    report = {"type": "object", "properties": properties, "required": list(columns)}
    error = {"type": "object", "properties": {"error": {"type": "string"}}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Kufatilia reports API",
            "version": "1",
            "description": (
                "Read-only access to the incident reports an organisation may see, with the "
                "filters of the web inbox. Each duplicate group is listed once, through its "
                "head. No reporter's number, in any form, is part of a report."
            ),
        },
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A read-only token printed once by `flask tokens create`.",
                }
            },
            "schemas": {"Report": report, "Error": error},
        },
        "security": [{"token": []}],
        "paths": {
            "/api/v1/reports": {
                "get": {
                    "summary": "Reports, newest first, one page at a time",
                    "parameters": [
                        *[_parameter(name) for name in FILTER_FIELDS],
                        {
                            "name": "sort",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "string",
                                "enum": [
                                    "received_desc",
                                    "received_asc",
                                    "occurred_desc",
                                    "occurred_asc",
                                ],
                            },
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        {
                            "name": "after",
                            "in": "query",
                            "required": False,
                            "description": "The `next` cursor of the previous page.",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of reports",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "items": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Report"},
                                            },
                                            "next": {"type": "string", "nullable": True},
                                        },
                                        "required": ["items", "next"],
                                    }
                                }
                            },
                        },
                        "400": _error_response("A filter or parameter is not valid"),
                        "401": _error_response("No valid token"),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3 document"}},
                }
            },
        },
    }


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
