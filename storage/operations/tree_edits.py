"""The menu editor's writes: each change to a tree version made from the web, with its audit row
written in the same transaction (a change without its record cannot be committed).

These wrap the version operations of ``trees.py`` (which the CLI uses as they are) and add who
did it. The audit trail (``tree_audit``) is append-only: this module only adds rows, the ORM
refuses to update or delete one, and the migration's triggers refuse as well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from menus.checker import TreeChecker
from menus.document import Document

from ..models import TreeAudit, TreeVersion, User
from . import trees

# What an audit row says was done.
DRAFT, SAVE, YAML, PUBLISH, ROLLBACK, RETIRE, PO_IMPORT = (
    "draft",
    "save",
    "yaml",
    "publish",
    "rollback",
    "retire",
    "po_import",
)
ALLOW_EDITOR, DENY_EDITOR = "allow_editor", "deny_editor"
ACTIONS = (DRAFT, SAVE, YAML, PUBLISH, ROLLBACK, RETIRE, PO_IMPORT, ALLOW_EDITOR, DENY_EDITOR)


class AuditError(ValueError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_rewrites(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, TreeAudit) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditError("tree_audit is append-only")


def record_tree_action(
    session: Session,
    *,
    user_id: int,
    action: str,
    now: datetime,
    tree_id: str | None = None,
    version: int | None = None,
    detail: str = "",
) -> TreeAudit:
    if action not in ACTIONS:
        raise AuditError(f"unknown editor action {action!r}")
    row = TreeAudit(
        at=now,
        user_id=user_id,
        tree_id=tree_id,
        version=version,
        action=action,
        detail=detail[:2000],
    )
    session.add(row)
    session.flush()
    return row


def start_draft(
    session: Session, tree_id: str, version: int, *, user_id: int, by: str, now: datetime
) -> TreeVersion:
    """A new draft copied from ``version``, recorded."""
    row = trees.draft_from(session, tree_id, version, by=by, now=now)
    record_tree_action(
        session,
        user_id=user_id,
        action=DRAFT,
        now=now,
        tree_id=tree_id,
        version=row.version,
        detail=f"from version {version}",
    )
    return row


def save_edit(
    session: Session,
    tree_id: str,
    version: int,
    document: Document,
    expected_revision: int,
    *,
    user_id: int,
    by: str,
    now: datetime,
    action: str = SAVE,
    detail: str = "",
) -> TreeVersion:
    """A draft saved from the editor (``StaleRevision`` if someone saved it since), recorded."""
    row = trees.save_draft(session, tree_id, version, document, expected_revision, by=by, now=now)
    record_tree_action(
        session,
        user_id=user_id,
        action=action,
        now=now,
        tree_id=tree_id,
        version=version,
        detail=detail or f"revision {row.revision}",
    )
    return row


def import_draft(
    session: Session,
    document: Document,
    *,
    user_id: int,
    by: str,
    now: datetime,
    note: str,
) -> TreeVersion:
    """A new draft holding an imported document (a translator's PO file applied), recorded."""
    row = trees.create_draft(session, document, by=by, now=now, note=note)
    record_tree_action(
        session,
        user_id=user_id,
        action=PO_IMPORT,
        now=now,
        tree_id=row.tree_id,
        version=row.version,
        detail=note,
    )
    return row


def publish_edit(
    session: Session,
    checker: TreeChecker,
    tree_id: str,
    version: int,
    *,
    user_id: int,
    by: str,
    now: datetime,
) -> TreeVersion:
    row = trees.publish_version(session, checker, tree_id, version, by=by, now=now)
    record_tree_action(
        session, user_id=user_id, action=PUBLISH, now=now, tree_id=tree_id, version=version
    )
    return row


def rollback_edit(
    session: Session,
    checker: TreeChecker,
    tree_id: str,
    version: int,
    *,
    user_id: int,
    by: str,
    now: datetime,
) -> TreeVersion:
    row = trees.rollback_tree(session, checker, tree_id, version, by=by, now=now)
    record_tree_action(
        session, user_id=user_id, action=ROLLBACK, now=now, tree_id=tree_id, version=version
    )
    return row


def set_menu_editor(
    session: Session, user: User, allowed: bool, *, by_user_id: int, now: datetime
) -> None:
    """Allow (or no longer allow) an org admin to edit the menu trees, recorded."""
    if user.menu_editor == allowed:
        return
    user.menu_editor = allowed
    record_tree_action(
        session,
        user_id=by_user_id,
        action=ALLOW_EDITOR if allowed else DENY_EDITOR,
        now=now,
        detail=user.email,
    )
