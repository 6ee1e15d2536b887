from __future__ import annotations

from flask import Blueprint

from .. import errors
from . import controllers as c

blueprint = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")
rule = blueprint.add_url_rule
rule("/", "index", c.index)
rule("/organisations", "organisations", c.organisations)
rule("/organisations/new", "new_organisation", c.new_organisation, methods=["GET", "POST"])
rule(
    "/organisations/<int:organisation_id>",
    "edit_organisation",
    c.edit_organisation,
    methods=["GET", "POST"],
)
rule("/organisations/<int:organisation_id>/users", "members", c.members)
rule(
    "/organisations/<int:organisation_id>/users", "create_member", c.create_member, methods=["POST"]
)
rule("/users/<int:user_id>", "edit_member", c.edit_member, methods=["GET", "POST"])
rule("/users/<int:user_id>/disable", "disable_member", c.disable_member, methods=["POST"])
rule("/users/<int:user_id>/enable", "enable_member", c.enable_member, methods=["POST"])
rule("/users/<int:user_id>/password", "reset_password", c.reset_password, methods=["POST"])
errors.register(blueprint)
