"""HTML error pages for the platform's blueprints (the gateways keep their one-line plain text)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    return render_template("error.html", code=code, csrf=isinstance(error, CSRFError)), code


def register(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(HTTPException, page)
