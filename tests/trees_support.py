"""Helpers for the tree version tests: change the default tree, store and publish versions."""

from __future__ import annotations

import copy
import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po, write_po

from menus.document import Document
from menus.i18n import LOCALES_DIR, Catalog
from menus.loader import read_document
from menus.po import export_po, import_po
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


# A language added without code: Lingala --------------------------------------------------------


LINGALA_MAIN = "Kufatilia: yebisa likambo na mine. Nimero na yo ya telefone ekobombama."
LINGALA_REPORT = "Yebisa likambo"


def lingala(document: Document) -> Document:
    """The document with Lingala texts, through a translator's PO file: the main menu's own
    (``LINGALA_MAIN``, ``LINGALA_REPORT``), the French texts standing in for the rest (what
    matters is that each text exists and fits), Lingala's own name, and a keyword."""
    po = export_po(document, "fr").replace("Language: fr", "Language: ln")
    po = po.replace('msgstr "Français"', 'msgstr "Lingala"').replace(
        'msgstr "ALERTE, SIGNALER"', 'msgstr "LIKAMBO"'
    )
    po = po.replace('msgstr "Signaler un incident"', f'msgstr "{LINGALA_REPORT}"').replace(
        'msgstr "Kufatilia: signaler un incident dans une mine. Votre numéro de téléphone reste '
        'secret."',
        f'msgstr "{LINGALA_MAIN}"',
    )
    new, problems = import_po(document, po)
    assert problems == []
    assert node(new, "main")["text"]["ln"] == LINGALA_MAIN
    return new


def lingala_catalog(tmp_path: Path, *, untranslated: str | None = None) -> Catalog:
    return Catalog.load(lingala_locales(tmp_path, untranslated=untranslated))


def lingala_locales(tmp_path: Path, *, untranslated: str | None = None) -> Path:
    """locales/ as shipped, plus locales/ln (the French catalog under Lingala's name), with
    ``untranslated`` left out of it."""
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    ln = locales / "ln" / "LC_MESSAGES"
    ln.mkdir(parents=True)
    text = (locales / "fr" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    text = text.replace("Language: fr", "Language: ln")
    if untranslated is not None:
        catalog = read_po(io.StringIO(text))
        catalog[untranslated].string = ""
        out = io.BytesIO()
        write_po(out, catalog)
        text = out.getvalue().decode("utf-8")
    (ln / "messages.po").write_text(text, encoding="utf-8")
    return locales
