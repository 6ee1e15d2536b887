from __future__ import annotations

from flask import Blueprint

from . import controllers as c

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
blueprint.add_url_rule("/reports", "reports", c.reports)
blueprint.add_url_rule("/openapi.json", "openapi", c.openapi)
c.register_errors(blueprint)
