"""``/``: the inbox for someone logged in, the login page for anyone else."""

from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response


def index() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("reports.inbox"))
    return redirect(url_for("auth.login"))
