"""Helpers for the tree version tests: change the default tree, store and publish versions."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from menus.document import Document
from menus.loader import read_document
from services import Services
from storage import operations

DEFAULT_TREE = Path(__file__).resolve().parents[1] / "menus" / "trees" / "incident.yaml"
TREE = "incident"


def default_document() -> Document:
    return read_document(DEFAULT_TREE)


def node(document: Document, node_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(n for n in document["nodes"] if n["id"] == node_id)
    return found


def option(document: Document, node_id: str, option_id: str) -> dict[str, Any]:
    options = node(document, node_id)["options"]
    found: dict[str, Any] = next(
        o for o in options if option_id in (o.get("id"), o.get("value"), o.get("action"))
    )
    return found


def changed(edit: Callable[[Document], None], base: Document | None = None) -> Document:
    document = copy.deepcopy(base if base is not None else default_document())
    edit(document)
    return document


def relabel_report_fr(document: Document) -> None:
    """Version 2 of the tests: the main menu's first option says something else in French."""
    option(document, "main", "report")["label"]["fr"] = "Signaler un fait"


def draft(services: Services, document: Document) -> int:
    with services.db.transaction() as session:
        row = operations.create_draft(session, document, by="test", now=services.clock.now())
        return row.version


def publish(services: Services, version: int, tree_id: str = TREE) -> None:
    with services.db.transaction() as session:
        operations.publish_version(
            session, services.checker, tree_id, version, by="test", now=services.clock.now()
        )
    services.trees.announce()


def rollback(services: Services, version: int, tree_id: str = TREE) -> None:
    with services.db.transaction() as session:
        operations.rollback_tree(
            session, services.checker, tree_id, version, by="test", now=services.clock.now()
        )
    services.trees.announce()


def publish_document(services: Services, document: Document) -> int:
    version = draft(services, document)
    publish(services, version)
    return version
