"""Adding a language needs no code: Lingala's tree texts (a PO file) and its system catalog (a
file in locales/) make it offered to reporters, by USSD and SMS; one text missing and it is not.

The app here reads its catalogs from a copy of ``locales/`` plus ``locales/ln`` in the test's
temporary folder: nothing in the code names Lingala.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from flask import Flask

from menus import i18n
from services import EXTENSION_KEY, Services

from .conftest import Backend, make_app
from .phone import Phone
from .sms_support import Conversation
from .trees_support import (
    LINGALA_MAIN,
    LINGALA_REPORT,
    TREE,
    default_document,
    lingala,
    lingala_locales,
    node,
    publish_document,
)


@pytest.fixture
def with_lingala(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """An app whose locales/ has a complete Lingala catalog."""
    monkeypatch.setattr(i18n, "LOCALES_DIR", lingala_locales(tmp_path))
    return make_app(backend, tmp_path)


def test_lingala_is_offered_once_its_texts_and_catalog_exist(with_lingala: Flask) -> None:
    services: Services = with_lingala.extensions[EXTENSION_KEY]
    client = with_lingala.test_client()
    assert "ln" in services.catalog.languages
    assert services.trees.current(TREE).languages == ("sw", "fr", "en")  # no Lingala texts yet

    before = Phone(client, "ATUid_ln_before", number="+243990000501")
    assert "4 Lingala" not in before.dial()

    assert publish_document(services, lingala(default_document())) == 2
    assert services.trees.current(TREE).languages == ("sw", "fr", "en", "ln")

    phone = Phone(client, "ATUid_ln_1", number="+243990000502")
    assert phone.dial().endswith("3 English\n4 Lingala")
    main = phone.send("4")
    assert main.startswith(f"CON {LINGALA_MAIN}\n1 {LINGALA_REPORT}\n")

    # By SMS, the tree's Lingala keyword sets the language.
    conversation = Conversation(client, services, phone="+243990000503")
    assert conversation.send("LIKAMBO").startswith(f"{LINGALA_MAIN}\n1 {LINGALA_REPORT}\n")

    # Version 3 loses one Lingala text: Lingala is no longer offered to new conversations...
    partial = lingala(default_document())
    del node(partial, "date")["error"]["ln"]
    assert publish_document(services, copy.deepcopy(partial)) == 3
    assert services.trees.current(TREE).languages == ("sw", "fr", "en")
    fresh = Phone(client, "ATUid_ln_2", number="+243990000504")
    assert "Lingala" not in fresh.dial()
    # ...while the session started on version 2 keeps it.
    assert phone.send("0").endswith("3 English\n4 Lingala")


def test_tree_texts_without_a_catalog_are_not_offered(services: Services) -> None:
    """The shipped locales/ has no Lingala: its tree texts alone offer nothing."""
    assert "ln" not in services.catalog.languages
    publish_document(services, lingala(default_document()))
    assert services.trees.current(TREE).version == 2
    assert services.trees.current(TREE).languages == ("sw", "fr", "en")
