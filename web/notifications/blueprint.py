from __future__ import annotations

from flask import Blueprint

from .. import errors
from . import controllers as c

blueprint = Blueprint("notifications", __name__, template_folder="templates")
blueprint.add_url_rule(
    "/account/notifications", "preferences", c.preferences, methods=["GET", "POST"]
)
errors.register(blueprint)
