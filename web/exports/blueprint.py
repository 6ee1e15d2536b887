from __future__ import annotations

from flask import Blueprint

from .. import errors
from . import controllers as c

blueprint = Blueprint("exports", __name__, url_prefix="/reports")
blueprint.add_url_rule("/export.<fmt>", "download", c.download)
errors.register(blueprint)
