"""Reads for the menu editor: its audit trail, and the org admins a coordinator may allow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Organisation, TreeAudit, User


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str
    tree_id: str | None
    version: int | None
    action: str
    detail: str


def tree_audit(session: Session, tree_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """The newest editor actions first (of one tree, or all: allowing editors concerns none)."""
    query = (
        select(
            TreeAudit.at,
            User.name,
            User.email,
            TreeAudit.tree_id,
            TreeAudit.version,
            TreeAudit.action,
            TreeAudit.detail,
        )
        .join(User, User.id == TreeAudit.user_id)
        .order_by(TreeAudit.id.desc())
        .limit(limit)
    )
    if tree_id is not None:
        query = query.where(TreeAudit.tree_id == tree_id)
    return [
        AuditEntry(row.at, row.name or row.email, row.tree_id, row.version, row.action, row.detail)
        for row in session.execute(query)
    ]


@dataclass(frozen=True)
class OrgAdmin:
    id: int
    name: str
    email: str
    organisation: str
    menu_editor: bool


def org_admins(session: Session) -> list[OrgAdmin]:
    """Every active organisation admin, with whether they may edit the menu trees."""
    rows = session.execute(
        select(User.id, User.name, User.email, Organisation.name, User.menu_editor)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.role == "org_admin", User.active.is_(True))
        .order_by(Organisation.name, User.email)
    )
    return [OrgAdmin(*row) for row in rows]
