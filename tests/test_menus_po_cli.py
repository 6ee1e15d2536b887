"""``flask menus po``: a translator's round trip through PO files, as an operator runs it."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from flask import Flask

from services import Services
from storage import queries

from .trees_support import TREE, default_document, node, option


def _run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["menus", "po", *args])


def _stored(services: Services, version: int) -> dict[str, object] | None:
    with services.db.session() as session:
        return queries.tree_document(session, TREE, version)


def _export(app: Flask, tmp_path: Path, lang: str) -> Path:
    path = tmp_path / f"{lang}.po"
    result = _run(app, "export", TREE, "--lang", lang, "-o", str(path))
    assert result.exit_code == 0, result.stderr
    return path


def test_export_then_import_changes_nothing(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "fr.po"
    result = _run(app, "export", TREE, "--lang", "fr", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    total = result.stdout.split(": ")[1].split()[0]
    assert result.stdout == (
        f"tree 'incident' version 1: {total} texts, {total} already in 'fr', written to {path}\n"
    )
    text = path.read_text(encoding="utf-8")
    assert '"Language: fr\\n"' in text
    assert 'msgctxt "category/accident/label"\nmsgid "Ajali"\nmsgstr "Accident"\n' in text

    same = _run(app, "import", TREE, str(path))
    assert same.exit_code == 0, same.stderr
    assert same.stdout == f"tree 'incident': {path} changes no text; nothing imported\n"

    nowhere = _run(app, "export", TREE, "--lang", "fr", "-o", str(tmp_path / "no" / "fr.po"))
    assert nowhere.exit_code == 1
    assert "cannot write" in nowhere.stderr and "No such file or directory" in nowhere.stderr


def test_import_makes_a_draft_then_updates_it(
    app: Flask, services: Services, tmp_path: Path
) -> None:
    path = _export(app, tmp_path, "fr")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('msgstr "Suivi"', 'msgstr "Suivre mon alerte"'), "utf-8")
    first = _run(app, "import", TREE, str(path), "--by", "amani")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith(
        "tree 'incident' version 2: draft created from version 1 (revision 1); 1 text(s) changed\n"
    )
    stored = _stored(services, 2)
    assert stored is not None
    assert option(stored, "main", "follow")["label"]["fr"] == "Suivre mon alerte"
    assert services.trees.current(TREE).version == 1  # a draft: nothing served changes

    sw = _export(app, tmp_path, "sw")  # the published version's Swahili
    sw.write_text(
        sw.read_text(encoding="utf-8").replace(
            'msgid "Ilitokea lini?"\nmsgstr "Ilitokea lini?"',
            'msgid "Ilitokea lini?"\nmsgstr "Ilitokea siku gani?"',
        ),
        "utf-8",
    )
    second = _run(app, "import", TREE, str(sw))
    assert second.exit_code == 0, second.stderr
    assert second.stdout.startswith(
        "tree 'incident' version 2: draft updated (revision 2); 1 text(s) changed\n"
    )
    stored = _stored(services, 2)
    assert stored is not None
    assert node(stored, "when")["text"]["sw"] == "Ilitokea siku gani?"
    assert option(stored, "main", "follow")["label"]["fr"] == "Suivre mon alerte"  # kept


def test_an_import_with_a_screen_over_the_limit_is_refused_naming_the_node(
    app: Flask, services: Services, tmp_path: Path
) -> None:
    path = _export(app, tmp_path, "fr")
    too_long = "Explosifs, dynamite ou détonateurs volés au dépôt de la coopérative " * 2
    path.write_text(
        path.read_text(encoding="utf-8").replace('msgstr "Explosifs"', f'msgstr "{too_long}"'),
        "utf-8",
    )
    result = _run(app, "import", TREE, str(path))
    assert result.exit_code == 1
    assert "  - node 'sub_accident' (fr): screen does not fit in 160 characters" in result.stderr
    assert "not imported: it would add 1 problem(s) to tree 'incident'" in result.stderr
    assert _stored(services, 2) is None


def test_a_fuzzy_entry_is_left_out_and_said(app: Flask, services: Services, tmp_path: Path) -> None:
    path = _export(app, tmp_path, "en")
    text = path.read_text(encoding="utf-8").replace(
        'msgctxt "when/text"', '#, fuzzy\nmsgctxt "when/text"'
    )
    path.write_text(
        text.replace('msgstr "When did it happen?"', 'msgstr "When?"').replace(
            'msgstr "Yesterday"', 'msgstr "The day before"'
        ),
        "utf-8",
    )
    result = _run(app, "import", TREE, str(path))
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: node 'when' text (en): 'when/text' is marked fuzzy (a guess to review): "
        "left out\n" in result.stdout
    )
    stored = _stored(services, 2)
    assert stored is not None
    assert node(stored, "when")["text"]["en"] == "When did it happen?"
    assert option(stored, "when", "yesterday")["label"]["en"] == "The day before"


def test_a_language_being_added_is_imported_but_not_offered_yet(
    app: Flask, services: Services, tmp_path: Path
) -> None:
    empty = _run(app, "export", TREE, "--lang", "ln", "-o", str(tmp_path / "ln.po"))
    assert empty.exit_code == 0, empty.stderr
    # Only the texts written once for every language ("Lugha / Langue / Language").
    assert " texts, 2 already in 'ln'" in empty.stdout
    # A translator's Lingala file (the French texts stand in for it here).
    french = _export(app, tmp_path, "fr").read_text(encoding="utf-8")
    ln = tmp_path / "ln-done.po"
    ln.write_text(
        french.replace("Language: fr", "Language: ln").replace(
            'msgstr "Français"', 'msgstr "Lingala"'
        ),
        "utf-8",
    )
    result = _run(app, "import", TREE, str(ln))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tree 'incident' version 2: draft created from version 1")
    # No Lingala catalog in locales/: complete in the tree, yet not offered.
    assert any(
        line.startswith("warning: tree (ln): not offered to reporters until complete: no system")
        for line in lines
    )
    assert lines[-1].endswith("system strings incomplete: not offered yet")
    stored = _stored(services, 2)
    assert stored is not None and stored["language_names"] == {
        **default_document()["language_names"],
        "ln": "Lingala",
    }
