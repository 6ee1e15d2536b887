"""Translators' PO files (``menus.po``) and per-language completeness (``menus.languages``).

Pure: documents in, PO text out and back; Babel and GNU gettext's ``msgfmt`` (what Poedit runs)
read what we write.
"""

from __future__ import annotations

import copy
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from menus import problems as codes
from menus.checker import TreeChecker
from menus.datasets import Datasets, load_default_datasets
from menus.document import Document
from menus.i18n import Catalog
from menus.languages import (
    LANGUAGE_NAME,
    completeness,
    offered_languages,
    text_slots,
    tree_languages,
)
from menus.po import export_po, import_po
from menus.problems import Problem

from .trees_support import changed, default_document, lingala, lingala_catalog, node, option

LANGUAGES = ("sw", "fr", "en")


@pytest.fixture(scope="module")
def datasets() -> Datasets:
    return load_default_datasets()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def _with_retired(document: Document) -> None:
    option(document, "sub_accident", "accident.collapse")["retired"] = True


def _texts(document: Document) -> dict[str, dict[str, str]]:
    """Context -> language -> text: every text of the document, as the slots read it."""
    return {slot.context: dict(slot.texts) for slot in text_slots(document)}


def _without(document: Document, lang: str) -> Document:
    """The document with every text of ``lang`` removed (plain texts become per-language)."""
    stripped = copy.deepcopy(document)
    others = [x for x in tree_languages(document) if x != lang]

    def drop(holder: dict[str, object], key: str) -> None:
        raw = holder.get(key)
        if isinstance(raw, dict):
            raw.pop(lang, None)
        elif raw is not None:
            holder[key] = {x: str(raw) for x in others}

    stripped["language_names"].pop(lang)
    stripped["keywords"].pop(lang, None)
    for raw_node in stripped["nodes"]:
        for name in ("text", "error", "title"):
            drop(raw_node, name)
        for raw_option in raw_node.get("options") or []:
            drop(raw_option, "label")
        if "skip" in raw_node:
            drop(raw_node["skip"], "label")
    return stripped


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_po_round_trip_preserves_every_text(lang: str) -> None:
    """Every text of one language (nodes, options, retired options, skip options, the language's
    name, the keywords) leaves in the PO file and comes back from it."""
    document = changed(_with_retired)
    po = export_po(document, lang, version=2)

    # Into the same document: nothing to change, nothing to say.
    same, problems = import_po(document, po)
    assert problems == []
    assert same == document

    # Into the document without that language: every text is back.
    restored, problems = import_po(_without(document, lang), po)
    assert problems == []
    expected = _texts(document)
    found = _texts(restored)
    assert {c: t.get(lang) for c, t in found.items()} == {
        c: t.get(lang) for c, t in expected.items()
    }
    assert restored["keywords"][lang] == document["keywords"][lang]
    assert restored["language_names"][lang] == document["language_names"][lang]
    # ...and the retired label among them.
    assert found["sub_accident/accident.collapse/label"][lang]


def test_babel_and_msgfmt_read_what_we_write(tmp_path: Path) -> None:
    document = changed(_with_retired)
    po = export_po(document, "fr", version=2)

    catalog = read_po(io.StringIO(po))
    assert catalog.locale_identifier == "fr"
    entries = {m.context: m for m in catalog if m.id}
    slots = text_slots(document)
    assert set(entries) == {s.context for s in slots} | {"keywords"}
    accident = entries["category/accident/label"]
    assert (accident.id, accident.string) == ("Ajali", "Accident")  # msgid: the source (sw)
    assert "en: Accident" in accident.auto_comments
    retired = entries["sub_accident/accident.collapse/label"]
    assert retired.string == "Éboulement"
    assert any(c.startswith("retired") for c in retired.auto_comments)
    end = entries["done/text"]
    assert "python-brace-format" in end.flags
    assert isinstance(end.string, str) and "{reference}" in end.string

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    path = tmp_path / "fr.po"
    path.write_text(po, encoding="utf-8")
    checked = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", str(tmp_path / "fr.mo"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert f"{len(slots) + 1} translated messages" in checked.stderr


def test_a_new_language_exports_empty_and_plain_texts_prefilled() -> None:
    document = default_document()
    catalog = read_po(io.StringIO(export_po(document, "ln")))
    entries = {m.context: m for m in catalog if m.id}
    assert catalog.locale_identifier == "ln"
    assert entries["category/accident/label"].string == ""
    # "Lugha / Langue / Language" is written once for every language: it is Lingala's too.
    assert entries["language/text"].string == "Lugha / Langue / Language"
    assert entries[LANGUAGE_NAME].id == "Kiswahili"


def _po(entries: str, language: str | None = "fr") -> str:
    header = f'"Language: {language}\\n"\n' if language else ""
    return (
        'msgid ""\nmsgstr ""\n'
        + header
        + '"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        + entries
    )


def test_import_fills_texts_and_reports_what_it_cannot_use() -> None:
    document = default_document()
    po = _po(
        'msgctxt "category/accident/label"\nmsgid "Ajali"\nmsgstr "Accident grave"\n\n'
        '#, fuzzy\nmsgctxt "category/violence/label"\nmsgid "Mashambulio na mateso"\n'
        'msgstr "Violence ?"\n\n'
        'msgctxt "category/volcano/label"\nmsgid "Volkano"\nmsgstr "Volcan"\n\n'
        'msgid "Ajali"\nmsgstr "Accident"\n\n'
        'msgctxt "category/fraud/label"\nmsgid "Fraude"\nmsgstr "Fraude"\n\n'
        'msgctxt "category/text"\nmsgid "Nini imetokea?"\nmsgstr ""\n'
    )
    new, problems = import_po(document, po)
    assert option(new, "category", "accident")["label"]["fr"] == "Accident grave"
    assert option(new, "category", "violence")["label"]["fr"] == "Violences"  # fuzzy: kept out
    assert node(new, "category")["text"]["fr"] == "Que s'est-il passé ?"  # empty: untouched
    assert [(p.code, p.node, p.option, p.language, p.severity) for p in problems] == [
        (codes.PO_FUZZY, "category", "violence", "fr", "warning"),
        (codes.PO_UNKNOWN_CONTEXT, None, None, "fr", "warning"),
        (codes.PO_UNKNOWN_CONTEXT, None, None, "fr", "warning"),
        (codes.PO_SOURCE_CHANGED, "category", "fraud", "fr", "warning"),
    ]
    assert "'category/volcano/label' names no text of this tree" in problems[1].message
    assert "has no msgctxt" in problems[2].message
    assert "'Fraude na rushwa'" in problems[3].message  # the source text as it is now
    assert document == default_document()  # the input is never changed


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        (
            'msgid ""\nmsgstr ""\n"Language: fr\\n"\n\nmsgctxt "x"\nmsgid "a\n',
            codes.PO_MALFORMED,
            "",
        ),
        ("this is not a PO file\n", codes.PO_MALFORMED, "not a PO file"),
        (
            _po('msgctxt "category/text"\nmsgid "Nini imetokea?"\nmsgstr "Quoi ?"\n', None),
            codes.PO_NO_LANGUAGE,
            "names no language",
        ),
    ],
    ids=["unterminated string", "not a PO file", "no language"],
)
def test_a_file_that_cannot_be_used_imports_nothing(text: str, code: str, says: str) -> None:
    document = default_document()
    new, problems = import_po(document, text)
    assert new == document
    assert [(p.code, p.severity) for p in problems] == [(code, "error")]
    assert says in problems[0].message


def test_the_language_given_must_agree_with_the_header() -> None:
    po = _po('msgctxt "category/text"\nmsgid "Nini imetokea?"\nmsgstr "Quoi ?"\n')
    _, problems = import_po(default_document(), po, language="en")
    assert [p.code for p in problems] == [codes.PO_NO_LANGUAGE]
    assert problems[0].message == "the file is in 'fr', not 'en'"


def test_a_plain_text_translated_becomes_one_text_per_language() -> None:
    po = _po(
        'msgctxt "language/text"\nmsgid "Lugha / Langue / Language"\n'
        'msgstr "Lugha / Langue / Language / Monoko"\n',
        "ln",
    )
    new, problems = import_po(default_document(), po)
    assert problems == []
    assert node(new, "language")["text"] == {
        "sw": "Lugha / Langue / Language",
        "fr": "Lugha / Langue / Language",
        "en": "Lugha / Langue / Language",
        "ln": "Lugha / Langue / Language / Monoko",
    }


def test_an_imported_screen_over_the_limit_is_refused_naming_the_node(
    datasets: Datasets, catalog: Catalog
) -> None:
    document = default_document()
    too_long = (
        "Explosifs, dynamite, détonateurs ou mèches volés au dépôt de la coopérative, "
        "utilisés sans autorisation dans les puits ou vendus aux creuseurs du site"
    )
    po = export_po(document, "fr").replace('msgstr "Explosifs"', f'msgstr "{too_long}"')
    new, problems = import_po(document, po)
    assert problems == []
    judgement = TreeChecker(datasets, catalog, (160,)).judge(new, tree_id="incident")
    assert not judgement.ok
    assert [(p.code, p.node, p.language) for p in judgement.errors] == [
        (codes.SCREEN_TOO_LONG, "sub_accident", "fr")
    ]
    assert str(judgement.errors[0]).startswith(
        "node 'sub_accident' (fr): screen does not fit in 160 characters"
    )


# Completeness and the languages offered ----------------------------------------------------------


def test_completeness_per_language(tmp_path: Path, catalog: Catalog) -> None:
    document = default_document()
    total = len(text_slots(document))
    found = completeness(document, catalog)
    assert list(found) == ["sw", "fr", "en"]
    assert all(found[x].complete and found[x].offered and found[x].declared for x in found)
    assert found["fr"].present == found["fr"].total == total

    partial = lingala(document)
    del option(partial, "category", "accident")["label"]["ln"]
    found = completeness(partial, lingala_catalog(tmp_path))
    ln = found["ln"]
    assert (ln.declared, ln.total, ln.present) == (False, total, total - 1)
    assert ln.missing_contexts == ("category/accident/label",)
    assert ln.system_complete and not ln.complete and not ln.offered
    assert ln.to_dict()["texts_missing"] == [
        {
            "context": "category/accident/label",
            "node": "category",
            "option": "accident",
            "field": "label",
        }
    ]

    # Without a catalog for it, a language lacks every system string.
    ln = completeness(lingala(document), catalog)["ln"]
    assert ln.texts_complete and not ln.has_catalog and not ln.complete
    # A language an editor is about to add: only the texts written once for every language.
    kg = completeness(document, catalog, extra=["kg"])["kg"]
    assert (kg.present, kg.declared, kg.offered) == (2, False, False)
    assert offered_languages(document, catalog) == ("sw", "fr", "en")


def test_a_language_is_offered_once_complete_without_code(
    tmp_path: Path, datasets: Datasets, catalog: Catalog
) -> None:
    with_ln = lingala_catalog(tmp_path)
    checker = TreeChecker(datasets, with_ln, (160, 140))
    document = lingala(default_document())
    assert offered_languages(document, with_ln) == ("sw", "fr", "en", "ln")
    judgement = checker.judge(document, tree_id="incident")
    assert judgement.ok, [str(p) for p in judgement.errors]
    assert judgement.tree is not None and judgement.tree.languages == ("sw", "fr", "en", "ln")
    assert not [p for p in judgement.warnings if p.code == codes.INCOMPLETE_LANGUAGE]

    # Without its system catalog: not offered, and the editor is told why.
    judgement = TreeChecker(datasets, catalog, (160,)).judge(document, tree_id="incident")
    assert judgement.ok and judgement.tree is not None
    assert judgement.tree.languages == ("sw", "fr", "en")
    assert [(p.code, p.language, p.severity) for p in judgement.warnings[-1:]] == [
        (codes.INCOMPLETE_LANGUAGE, "ln", "warning")
    ]
    assert "no system catalog locales/ln/LC_MESSAGES/messages.po" in judgement.warnings[-1].message

    # One text missing: not offered, and the tree still serves its other languages.
    partial = copy.deepcopy(document)
    del node(partial, "date")["error"]["ln"]
    judgement = checker.judge(partial, tree_id="incident")
    assert judgement.ok and judgement.tree is not None
    assert judgement.tree.languages == ("sw", "fr", "en")
    assert judgement.warnings[-1] == Problem(
        codes.INCOMPLETE_LANGUAGE,
        "not offered to reporters until complete: 1 of "
        f"{len(text_slots(document))} texts missing (first: date/error)",
        language="ln",
        severity="warning",
    )

    # One system string untranslated: not offered either.
    missing = "Type a number."
    checker = TreeChecker(datasets, lingala_catalog(tmp_path / "b", untranslated=missing), (160,))
    judgement = checker.judge(document, tree_id="incident")
    assert judgement.tree is not None and judgement.tree.languages == ("sw", "fr", "en")
    assert (
        "1 of" in judgement.warnings[-1].message and repr(missing) in judgement.warnings[-1].message
    )


def test_a_declared_language_must_be_complete(datasets: Datasets, catalog: Catalog) -> None:
    """Declaring a language makes it required: a missing text is then an error, not a delay."""
    document = lingala(default_document())
    document["languages"] = ["sw", "fr", "en", "ln"]
    del node(document, "date")["error"]["ln"]
    judgement = TreeChecker(datasets, catalog, (160,)).judge(document, tree_id="incident")
    assert Problem(codes.MISSING_TEXT, "no text in ln", "date", None, "ln", "error") in (
        judgement.errors
    )
    assert any(p.code == codes.UNTRANSLATED_SYSTEM_MESSAGES for p in judgement.errors)


def test_a_regional_language_fills_the_tree_language() -> None:
    """Poedit offers "French (Congo)": its fr_CD file fills the tree's French texts."""
    po = _po('msgctxt "category/text"\nmsgid "Nini imetokea?"\nmsgstr "Quoi donc ?"\n', "fr_CD")
    new, problems = import_po(default_document(), po)
    assert problems == []
    assert node(new, "category")["text"]["fr"] == "Quoi donc ?"
    assert "fr_CD" not in tree_languages(new)
