from __future__ import annotations

from flask import Blueprint

from .. import errors
from . import controllers as c

blueprint = Blueprint("editor", __name__, template_folder="templates", url_prefix="/menus")
rule = blueprint.add_url_rule
rule("/", "index", c.index)
rule("/editors", "editors", c.editors, methods=["POST"])
rule("/audit", "audit", c.audit)
rule("/<tree_id>", "versions", c.versions)
rule("/<tree_id>/drafts", "new_draft", c.new_draft, methods=["POST"])
rule("/<tree_id>/diff", "diff", c.diff)
rule("/<tree_id>/<int:version>", "version", c.version)
rule("/<tree_id>/<int:version>/publish", "publish", c.publish, methods=["POST"])
rule("/<tree_id>/<int:version>/rollback", "rollback", c.rollback, methods=["POST"])
rule("/<tree_id>/<int:version>/nodes", "add_node", c.add_node, methods=["POST"])
rule("/<tree_id>/<int:version>/nodes/<node_id>", "node", c.node, methods=["GET", "POST"])
rule(
    "/<tree_id>/<int:version>/nodes/<node_id>/remove",
    "remove_node",
    c.remove_node,
    methods=["POST"],
)
rule("/<tree_id>/<int:version>/yaml", "yaml", c.yaml_view, methods=["GET", "POST"])
rule("/<tree_id>/<int:version>/export.yaml", "export", c.export)
rule("/<tree_id>/<int:version>/simulate", "simulate", c.simulate, methods=["GET", "POST"])
rule("/<tree_id>/<int:version>/po", "po_download", c.po_download)
rule("/<tree_id>/<int:version>/po", "po_upload", c.po_upload, methods=["POST"])
errors.register(blueprint)
