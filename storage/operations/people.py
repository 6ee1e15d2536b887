"""Writes about the people of the platform: organisations, users, API tokens.

Passwords arrive already hashed (``web.passwords``) and tokens as their SHA-256: no clear secret
reaches this module, so none can end up in a row or a log by mistake here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiToken, Organisation, User

ROLES = ("coordinator", "org_admin", "analyst", "viewer")


class PeopleError(ValueError):
    """A request the data refuses (a name or e-mail already taken, an unknown role)."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _clean(values: Iterable[str]) -> list[str]:
    return sorted({v.strip() for v in values if v and v.strip()})


def create_organisation(
    session: Session,
    *,
    name: str,
    provinces: Iterable[str] = (),
    territories: Iterable[str] = (),
    categories: Iterable[str] = (),
    now: datetime,
) -> Organisation:
    name = name.strip()
    if not name:
        raise PeopleError("an organisation needs a name")
    if session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise PeopleError(f"an organisation named {name!r} exists already")
    organisation = Organisation(
        name=name,
        provinces=_clean(provinces),
        territories=_clean(territories),
        categories=_clean(categories),
        active=True,
        created_at=now,
    )
    session.add(organisation)
    session.flush()
    return organisation


def update_organisation(
    session: Session,
    organisation: Organisation,
    *,
    name: str,
    provinces: Iterable[str],
    territories: Iterable[str],
    categories: Iterable[str],
    active: bool,
) -> Organisation:
    name = name.strip()
    taken = session.scalar(
        select(Organisation.id).where(Organisation.name == name, Organisation.id != organisation.id)
    )
    if not name or taken is not None:
        raise PeopleError(f"an organisation named {name!r} exists already")
    organisation.name = name
    organisation.provinces = _clean(provinces)
    organisation.territories = _clean(territories)
    organisation.categories = _clean(categories)
    organisation.active = active
    session.flush()
    return organisation


def create_user(
    session: Session,
    *,
    email: str,
    password_hash: str,
    organisation: Organisation,
    role: str,
    now: datetime,
    name: str = "",
    language: str | None = None,
) -> User:
    email = normalise_email(email)
    if role not in ROLES:
        raise PeopleError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if "@" not in email:
        raise PeopleError(f"not an e-mail address: {email!r}")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise PeopleError(f"a user with the e-mail {email} exists already")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=password_hash,
        organisation_id=organisation.id,
        role=role,
        language=language or None,
        active=True,
        session_version=1,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password_hash: str, now: datetime) -> None:
    """A new password also ends every session opened with the old one."""
    user.password_hash = password_hash
    user.password_changed_at = now
    user.session_version += 1
    session.flush()


def rehash_password(session: Session, user: User, password_hash: str) -> None:
    """The same password under stronger hashing parameters: sessions stay open."""
    user.password_hash = password_hash
    session.flush()


def set_user_active(session: Session, user: User, active: bool) -> None:
    user.active = active
    if not active:
        user.session_version += 1  # a disabled user's open sessions end at their next request
    session.flush()


def update_user(
    session: Session, user: User, *, name: str, role: str, language: str | None
) -> None:
    if role not in ROLES:
        raise PeopleError(f"unknown role {role!r}")
    user.name = name.strip()
    if role != user.role:
        user.session_version += 1
    user.role = role
    user.language = language or None
    session.flush()


def set_user_language(session: Session, user: User, language: str | None) -> None:
    user.language = language or None
    session.flush()


def record_login(session: Session, user: User, now: datetime) -> None:
    user.last_login_at = now
    session.flush()


def create_api_token(
    session: Session, *, organisation: Organisation, token_hash: str, prefix: str, now: datetime
) -> ApiToken:
    token = ApiToken(
        organisation_id=organisation.id,
        token_hash=token_hash,
        prefix=prefix,
        scope="read",
        created_at=now,
    )
    session.add(token)
    session.flush()
    return token


def revoke_api_token(session: Session, token: ApiToken, now: datetime) -> None:
    token.revoked_at = now
    session.flush()
