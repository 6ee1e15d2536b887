from __future__ import annotations

from flask import Blueprint

from .. import errors
from . import controllers as c

blueprint = Blueprint("dashboard", __name__, template_folder="templates", url_prefix="/dashboard")
blueprint.add_url_rule("", "index", c.dashboard)
errors.register(blueprint)
