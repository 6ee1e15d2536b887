from __future__ import annotations

from flask import Blueprint

from .. import errors
from . import controllers

blueprint = Blueprint("auth", __name__, template_folder="templates")
blueprint.add_url_rule("/login", "login", controllers.login, methods=["GET", "POST"])
blueprint.add_url_rule("/logout", "logout", controllers.logout, methods=["POST"])
blueprint.add_url_rule("/account", "account", controllers.account, methods=["GET"])
blueprint.add_url_rule("/account/password", "password", controllers.password, methods=["POST"])
blueprint.add_url_rule("/account/language", "language", controllers.language, methods=["POST"])
errors.register(blueprint)
