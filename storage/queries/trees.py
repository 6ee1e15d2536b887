"""Reads of menu tree versions: what the registry, ``flask menus`` and the editor show.

The editor's calls, in order: ``tree_versions`` (list a tree's versions), ``tree_version`` (load
a draft's document and revision), ``judge_document`` (its problems, as a save shows them), then
the writes in ``storage.operations.trees``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from menus.checker import Judgement, TreeChecker
from menus.codes import CodeUse
from menus.contract import CATEGORY, SUBCATEGORY
from menus.document import Document

from ..models import Report, TreeVersion


@dataclass(frozen=True)
class VersionInfo:
    """A version without its document, for listings."""

    tree_id: str
    version: int
    status: str
    revision: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    published_at: datetime | None
    published_by: str | None
    note: str | None


def tree_ids(session: Session) -> list[str]:
    return list(
        session.scalars(select(TreeVersion.tree_id).distinct().order_by(TreeVersion.tree_id))
    )


def tree_versions(session: Session, tree_id: str) -> list[VersionInfo]:
    rows = session.execute(
        select(
            TreeVersion.tree_id,
            TreeVersion.version,
            TreeVersion.status,
            TreeVersion.revision,
            TreeVersion.created_at,
            TreeVersion.created_by,
            TreeVersion.updated_at,
            TreeVersion.updated_by,
            TreeVersion.published_at,
            TreeVersion.published_by,
            TreeVersion.note,
        )
        .where(TreeVersion.tree_id == tree_id)
        .order_by(TreeVersion.version)
    )
    return [VersionInfo(*row) for row in rows]


def tree_version(session: Session, tree_id: str, version: int) -> TreeVersion | None:
    return session.scalar(
        select(TreeVersion).where(TreeVersion.tree_id == tree_id, TreeVersion.version == version)
    )


def tree_document(session: Session, tree_id: str, version: int) -> Document | None:
    document: Document | None = session.scalar(
        select(TreeVersion.document).where(
            TreeVersion.tree_id == tree_id, TreeVersion.version == version
        )
    )
    return document


def published_versions(session: Session) -> dict[str, int]:
    """Tree id -> its published version: the registry's "which version is current"."""
    rows = session.execute(
        select(TreeVersion.tree_id, TreeVersion.version).where(TreeVersion.status == "published")
    )
    return {tree_id: version for tree_id, version in rows}


def latest_version(session: Session, tree_id: str) -> int:
    """The highest version number of a tree (0 when it has none)."""
    found = session.scalar(
        select(func.max(TreeVersion.version)).where(TreeVersion.tree_id == tree_id)
    )
    return int(found or 0)


def codes_in_use(session: Session, tree_id: str) -> dict[str, CodeUse]:
    """The taxonomy codes that reports of this tree carry, with the category each was filed under.

    Read from the reports themselves, whatever version filed them: that is what statistics read.
    """
    rows = session.execute(
        select(Report.category, Report.subcategory)
        .where(Report.tree_id == tree_id, Report.category.is_not(None))
        .distinct()
    )
    parents: dict[str, set[str]] = {}
    categories: set[str] = set()
    for category, subcategory in rows:
        if category is None:
            continue
        categories.add(category)
        if subcategory:
            parents.setdefault(subcategory, set()).add(category)
    used = {code: CodeUse(CATEGORY.key) for code in categories}
    for code, found in parents.items():
        used.setdefault(code, CodeUse(SUBCATEGORY.key, frozenset(found)))
    return used


def judge_document(
    session: Session, checker: TreeChecker, tree_id: str, version: int, document: Document
) -> Judgement:
    """Everything wrong with a document as a version of ``tree_id``, the code rules included."""
    return checker.judge(
        document,
        tree_id=tree_id,
        version=version,
        source=f"{tree_id} version {version}",
        in_use=codes_in_use(session, tree_id),
    )
