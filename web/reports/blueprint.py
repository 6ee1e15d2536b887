from __future__ import annotations

from flask import Blueprint

from .. import errors
from . import controllers as c

blueprint = Blueprint("reports", __name__, template_folder="templates", url_prefix="/reports")
rule = blueprint.add_url_rule
rule("", "inbox", c.inbox)
rule("/bulk", "bulk", c.bulk, methods=["POST"])
rule("/<reference>", "show", c.show)
rule("/<reference>/correct", "correct", c.correct, methods=["POST"])
rule("/<reference>/verify", "verify", c.verify, methods=["POST"])
rule("/<reference>/status", "status", c.status, methods=["POST"])
rule("/<reference>/actions", "action", c.action, methods=["POST"])
rule("/<reference>/forward", "forward", c.forward, methods=["POST"])
rule("/<reference>/merge", "merge", c.merge, methods=["POST"])
rule("/<reference>/message", "message", c.message, methods=["POST"])
errors.register(blueprint)
