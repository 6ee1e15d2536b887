"""Who is asking: the logged-in user as Flask-Login sees them, built from their rows per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import flask_login
from flask import Flask
from flask_babel import lazy_gettext
from flask_login import LoginManager

from storage import queries
from storage.models import Organisation, User

from .db import db

P = ParamSpec("P")
R = TypeVar("R")


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    """Flask-Login's decorator, typed: anonymous visitors go to the login page."""
    wrapped: Callable[P, R] = flask_login.login_required(view)
    return wrapped


@dataclass(frozen=True)
class Actor:
    """A user with their organisation's area and expertise: all a permission decision needs."""

    id: int
    email: str
    name: str
    role: str
    organisation_id: int
    organisation_name: str
    language: str | None
    session_version: int
    provinces: frozenset[str] = frozenset()
    territories: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    menu_editor: bool = False  # an org_admin the coordinator allows to edit the menu trees

    # Flask-Login's user protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # The version makes a session die when the password changes or the user is disabled.
        return f"{self.id}:{self.session_version}"

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @classmethod
    def of(cls, user: User, organisation: Organisation) -> Actor:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            organisation_id=organisation.id,
            organisation_name=organisation.name,
            language=user.language,
            session_version=user.session_version,
            provinces=frozenset(organisation.provinces or ()),
            territories=frozenset(organisation.territories or ()),
            categories=frozenset(organisation.categories or ()),
            menu_editor=bool(user.menu_editor),
        )


def load_actor(session_id: str) -> Actor | None:
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    session = db()
    user = queries.user_by_id(session, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    organisation = queries.organisation_by_id(session, user.organisation_id)
    if organisation is None or not organisation.active:
        return None
    return Actor.of(user, organisation)


def init_app(app: Flask) -> None:
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = lazy_gettext("Please log in to see this page.")
    manager.login_message_category = "info"
    # Flask-Login's "session protection" would log people out whose mobile address changes
    # between requests (common on mobile networks); the session cookie's signature and the
    # session version already guard the session.
    manager.session_protection = None
    manager.user_loader(load_actor)
    manager.init_app(app)
