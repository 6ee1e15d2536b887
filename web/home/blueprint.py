"""The layout shared by every page (base template, macros, error pages), its assets, and ``/``."""

from __future__ import annotations

from flask import Blueprint

from . import controllers

blueprint = Blueprint(
    "home",
    __name__,
    template_folder="templates",
    static_folder="../static",
    static_url_path="/assets",
)
blueprint.add_url_rule("/", "index", controllers.index)
