"""The CSO follow-up platform: server-rendered pages inside the same Flask app as the gateways.

Each feature is a folder whose files have fixed roles (as in Indico): ``blueprint.py`` (URL rules
only), ``controllers.py`` (parse, authorise, call an operation, render), ``forms.py`` and
``templates/``. Writes go through ``storage.operations``, reads through ``storage.queries``.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import get_locale
from flask_wtf.csrf import CSRFProtect

from services import Services

from . import db, errors, i18n, identity, labels, security, taxonomy
from .config import LANGUAGES
from .permissions import TEMPLATE_FUNCTIONS


def init_app(app: Flask, services: Services) -> None:
    web = services.settings.web
    security.init_app(app, web)
    db.init_app(app)
    i18n.init_app(app)
    identity.init_app(app)
    # CSRF is checked on the platform's blueprints only: the gateways' callbacks are posted by
    # Africa's Talking, not by a browser holding a form.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)

    from .admin.blueprint import blueprint as admin
    from .api.blueprint import blueprint as api
    from .auth.blueprint import blueprint as auth
    from .dashboard.blueprint import blueprint as dashboard
    from .editor.blueprint import blueprint as editor
    from .exports.blueprint import blueprint as exports
    from .home.blueprint import blueprint as home
    from .notifications.blueprint import blueprint as notifications
    from .reports.blueprint import blueprint as reports

    # The exports' rule (/reports/export.csv) before the report page's (/reports/<reference>).
    platform = (home, auth, exports, reports, dashboard, notifications, admin, editor)
    for blueprint in platform:
        app.register_blueprint(blueprint)
    names = {blueprint.name for blueprint in platform}
    # The API reads with a bearer token, never a session cookie: no CSRF, and its own errors.
    app.register_blueprint(api)
    # An address that matches no route belongs to no blueprint: people get the platform's page.
    app.register_error_handler(404, errors.page)

    @app.before_request
    def check_csrf() -> None:
        if request.blueprint in names and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            csrf.protect()

    app.jinja_env.globals.update(TEMPLATE_FUNCTIONS)
    app.jinja_env.globals.update(labels.TEMPLATE_FUNCTIONS)
    app.jinja_env.globals.update(taxonomy.TEMPLATE_FUNCTIONS)
    app.jinja_env.globals.update(
        get_locale=get_locale,
        languages=LANGUAGES,
        language_names=i18n.LANGUAGE_NAMES,
        web_settings=web,
    )
