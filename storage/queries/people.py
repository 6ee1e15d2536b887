"""Reads about organisations, users and API tokens."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import ApiToken, Organisation, User


def organisation_by_name(session: Session, name: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.name == name.strip()))


def organisation_by_id(session: Session, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def organisations(session: Session, *, active_only: bool = False) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    if active_only:
        query = query.where(Organisation.active.is_(True))
    return list(session.scalars(query))


def organisation_names(session: Session) -> dict[int, str]:
    """Every organisation's name by id: small (tens of rows), read once per page that needs it."""
    rows = session.execute(select(Organisation.id, Organisation.name))
    return {organisation_id: name for organisation_id, name in rows}


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def users(session: Session, organisation_id: int | None = None) -> list[User]:
    query = select(User).order_by(User.email)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return list(session.scalars(query))


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    return {row.id: row.name or row.email for row in rows}


def user_count(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def api_token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


def api_tokens(session: Session, organisation_id: int | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at)
    if organisation_id is not None:
        query = query.where(ApiToken.organisation_id == organisation_id)
    return list(session.scalars(query))
