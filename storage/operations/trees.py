"""Writes of menu tree versions: drafts, saves with a revision check, publish, rollback, seeds.

Each function runs inside the caller's transaction. After a publish or a rollback commits, the
caller calls ``services.trees.announce()`` so that every process follows within a second (it is
not done here: a signal sent before the commit could be read before the change is visible).

The editor's writes, in order: ``draft_from`` (a new draft copied from a version, usually the
published one; ``create_draft`` from any document), ``save_draft`` (with the revision it loaded: a stale copy is refused, never merged),
``publish_version``, ``rollback_tree``. A draft with errors can be saved but not published.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from menus.checker import TreeChecker
from menus.document import Document, normalise
from menus.problems import Problem

from ..models import TreeVersion
from ..queries import trees as queries

DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"


class TreeVersionError(Exception):
    """A refused change; the message is meant for the person who asked for it."""


class UnknownVersion(TreeVersionError):
    def __init__(self, tree_id: str, version: int) -> None:
        super().__init__(f"tree '{tree_id}' has no version {version}")


class StaleRevision(TreeVersionError):
    """Someone saved this draft since it was loaded: their work would be overwritten."""

    def __init__(self, tree_id: str, version: int, expected: int, actual: int) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(
            f"tree '{tree_id}' version {version} was saved by someone else since you loaded it "
            f"(your copy is revision {expected}, the saved one is revision {actual}): "
            "reload it and make your changes again"
        )


class WrongStatus(TreeVersionError):
    pass


class HasErrors(TreeVersionError):
    def __init__(self, tree_id: str, version: int, problems: list[Problem]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"tree '{tree_id}' version {version} has {len(problems)} problem(s) and cannot be "
            f"published:\n{listing}"
        )


def _tree_id(document: Document) -> str:
    tree_id = document.get("id")
    if not isinstance(tree_id, str) or not tree_id:
        raise TreeVersionError("the document has no tree 'id'")
    return tree_id


def create_draft(
    session: Session, document: Document, *, by: str, now: datetime, note: str | None = None
) -> TreeVersion:
    """A new draft numbered after the tree's latest version (problems are the caller's to show).

    Two drafts created at once get the same number: the unique (tree_id, version) refuses one.
    """
    document = normalise(document)
    tree_id = _tree_id(document)
    row = TreeVersion(
        tree_id=tree_id,
        version=queries.latest_version(session, tree_id) + 1,
        status=DRAFT,
        document=document,
        revision=1,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


def draft_from(
    session: Session, tree_id: str, version: int, *, by: str, now: datetime
) -> TreeVersion:
    """A new draft holding a copy of ``version`` (usually the published one): where an edit starts."""
    document = queries.tree_document(session, tree_id, version)
    if document is None:
        raise UnknownVersion(tree_id, version)
    return create_draft(session, document, by=by, now=now, note=f"from version {version}")


def save_draft(
    session: Session,
    tree_id: str,
    version: int,
    document: Document,
    expected_revision: int,
    *,
    by: str,
    now: datetime,
) -> TreeVersion:
    """Replace a draft's document if nobody saved it since ``expected_revision`` was loaded.

    One conditional UPDATE: of two concurrent saves of the same revision exactly one succeeds.
    """
    document = normalise(document)
    if _tree_id(document) != tree_id:
        raise TreeVersionError(f"the document is tree '{document['id']}', not '{tree_id}'")
    result = session.execute(
        update(TreeVersion)
        .where(
            TreeVersion.tree_id == tree_id,
            TreeVersion.version == version,
            TreeVersion.status == DRAFT,
            TreeVersion.revision == expected_revision,
        )
        .values(
            document=document,
            revision=TreeVersion.revision + 1,
            updated_at=now,
            updated_by=by,
        )
        .execution_options(synchronize_session=False)
    )
    row = queries.tree_version(session, tree_id, version)
    if row is None:
        raise UnknownVersion(tree_id, version)
    session.refresh(row)  # the UPDATE went around the ORM: read what is stored now
    saved = result.rowcount if isinstance(result, CursorResult) else 0
    if saved == 0:
        if row.status != DRAFT:
            raise WrongStatus(
                f"tree '{tree_id}' version {version} is {row.status}: only a draft can be "
                "changed (start a new draft from it)"
            )
        raise StaleRevision(tree_id, version, expected_revision, row.revision)
    return row


def publish_version(
    session: Session,
    checker: TreeChecker,
    tree_id: str,
    version: int,
    *,
    by: str,
    now: datetime,
) -> TreeVersion:
    """Make a draft the published version, in one step: the previous one becomes archived."""
    row = _lock_tree(session, tree_id, version)
    if row.status != DRAFT:
        hint = " (use rollback to publish it again)" if row.status == ARCHIVED else ""
        raise WrongStatus(f"tree '{tree_id}' version {version} is {row.status}, not a draft{hint}")
    return _make_published(session, checker, row, by=by, now=now)


def rollback_tree(
    session: Session,
    checker: TreeChecker,
    tree_id: str,
    version: int,
    *,
    by: str,
    now: datetime,
) -> TreeVersion:
    """Publish again a version that was published before (archived), as the current one."""
    row = _lock_tree(session, tree_id, version)
    if row.status != ARCHIVED:
        raise WrongStatus(
            f"tree '{tree_id}' version {version} is {row.status}: only a version published "
            "before can be rolled back to"
        )
    return _make_published(session, checker, row, by=by, now=now)


def seed_tree(
    session: Session, document: Document, *, by: str, now: datetime, note: str
) -> TreeVersion | None:
    """Version 1 of a tree that has none, published (a validated seed file); None if it has."""
    tree_id = _tree_id(normalise(document))
    if queries.latest_version(session, tree_id):
        return None
    row = create_draft(session, document, by=by, now=now, note=note)
    row.status = PUBLISHED
    row.published_at = now
    row.published_by = by
    session.flush()
    return row


def _lock_tree(session: Session, tree_id: str, version: int) -> TreeVersion:
    """Lock every version of the tree (PostgreSQL; SQLite has one writer anyway), so that two
    publishes of one tree run one after the other."""
    session.execute(
        select(TreeVersion.id).where(TreeVersion.tree_id == tree_id).with_for_update()
    ).all()
    row = queries.tree_version(session, tree_id, version)
    if row is None:
        raise UnknownVersion(tree_id, version)
    return row


def _make_published(
    session: Session, checker: TreeChecker, row: TreeVersion, *, by: str, now: datetime
) -> TreeVersion:
    # Judged again here, not trusted from the last save: the codes in use and this service's
    # limits and translations may have changed since.
    judgement = queries.judge_document(session, checker, row.tree_id, row.version, row.document)
    if not judgement.ok:
        raise HasErrors(row.tree_id, row.version, judgement.errors)
    session.execute(
        update(TreeVersion)
        .where(TreeVersion.tree_id == row.tree_id, TreeVersion.status == PUBLISHED)
        .values(status=ARCHIVED)
    )
    # The archive is flushed first: the unique index allows one published row at any moment.
    row.status = PUBLISHED
    row.published_at = now
    row.published_by = by
    session.flush()
    return row
