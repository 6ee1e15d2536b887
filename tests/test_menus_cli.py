"""``flask menus`` as an operator uses it: versions, import, publish, rollback, diff, export."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from flask import Flask

from menus.document import parse_text, to_yaml
from services import Services
from storage import queries

from .conftest import Backend
from .phone import built_app
from .trees_support import TREE, changed, default_document, node, option, relabel_report_fr


def _run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["menus", *args])


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _stored(services: Services, version: int) -> dict[str, object] | None:
    with services.db.session() as session:
        return queries.tree_document(session, TREE, version)


def test_export_then_import_gives_an_identical_document(
    app: Flask, services: Services, tmp_path: Path
) -> None:
    target = tmp_path / "incident.yaml"
    result = _run(app, "export", TREE, "-o", str(target))
    assert result.exit_code == 0, result.stdout
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Tree 'incident', version 1 (published)")
    assert parse_text(text) == _stored(services, 1)

    same = _run(app, "import", str(target))
    assert same.exit_code == 0, same.stdout
    assert same.stdout == (
        "tree 'incident': identical to version 1 (published); nothing imported\n"
    )

    edited = _write(tmp_path / "v2.yaml", to_yaml(changed(relabel_report_fr)))
    imported = _run(app, "import", str(edited))
    assert imported.exit_code == 0, imported.stderr
    assert imported.stdout.startswith("tree 'incident' version 2: draft created (revision 1)\n")
    assert "warning: tree language_names (fr): transliterated to GSM-7: 'ç'->'c'" in imported.stdout

    again = _run(app, "export", TREE, "--version", "2")
    assert again.exit_code == 0
    assert parse_text(again.stdout) == _stored(services, 2) == changed(relabel_report_fr)


def test_versions_publish_rollback_as_an_operator_sees_them(
    app: Flask, services: Services, tmp_path: Path
) -> None:
    edited = _write(tmp_path / "v2.yaml", to_yaml(changed(relabel_report_fr)))
    assert _run(app, "import", str(edited), "--by", "ana").exit_code == 0

    published = _run(app, "publish", TREE, "--version", "2", "--by", "ana")
    assert published.stdout == "tree 'incident': version 2 is published (was version 1)\n"
    assert services.trees.current(TREE).version == 2

    listing = _run(app, "versions", TREE)
    lines = listing.stdout.splitlines()
    assert lines[0].split() == [
        "version",
        "status",
        "rev",
        "created",
        "by",
        "published",
        "published_by",
        "note",
    ]
    assert lines[2].split()[:2] == ["1", "archived"]
    assert lines[3].split()[:2] == ["2", "published"]
    assert "ana" in lines[3]

    again = _run(app, "publish", TREE, "--version", "1")
    assert again.exit_code == 1
    assert "version 1 is archived, not a draft (use rollback to publish it again)" in again.stderr

    back = _run(app, "rollback", TREE, "--to", "1")
    assert back.stdout == "tree 'incident': version 1 is published (was version 2)\n"
    assert services.trees.current(TREE).version == 1


def test_import_publish_refuses_a_draft_with_errors_and_keeps_it(
    app: Flask, services: Services, tmp_path: Path
) -> None:
    def broken(document: dict[str, object]) -> None:
        option(document, "confirm", "submit")["next"] = "details"

    path = _write(tmp_path / "broken.yaml", to_yaml(changed(broken)))
    result = _run(app, "import", str(path), "--publish")
    assert result.exit_code == 1
    assert result.stdout.startswith("tree 'incident' version 2: draft created (revision 1)\n")
    assert "  - node 'confirm' option 'submit': 'submit' must lead to an end node" in result.stderr
    assert "version 2 not published" in result.stderr
    assert services.trees.current(TREE).version == 1
    assert _stored(services, 2) is not None


def test_import_publish_of_an_identical_draft_publishes_that_draft(
    app: Flask, services: Services, tmp_path: Path
) -> None:
    edited = _write(tmp_path / "v2.yaml", to_yaml(changed(relabel_report_fr)))
    assert _run(app, "import", str(edited)).exit_code == 0
    again = _run(app, "import", str(edited), "--publish")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == (
        "tree 'incident': identical to version 2 (draft); nothing imported\n"
        "tree 'incident': version 2 is published (was version 1)\n"
    )
    original = _write(tmp_path / "v1.yaml", to_yaml(default_document()))
    back = _run(app, "import", str(original), "--publish")
    assert back.exit_code == 1
    assert "flask menus rollback incident --to 1" in back.stderr
    assert services.trees.current(TREE).version == 2


def test_import_refuses_a_file_that_is_not_a_tree(app: Flask, tmp_path: Path) -> None:
    path = _write(tmp_path / "list.yaml", "- a\n- b\n")
    result = _run(app, "import", str(path))
    assert result.exit_code == 1
    assert "the document must be a mapping" in result.stderr


def test_diff_names_each_change_language_by_language(app: Flask, tmp_path: Path) -> None:
    def edit(document: dict[str, object]) -> None:
        relabel_report_fr(document)
        node(document, "when")["text"]["sw"] = "Lini?"
        node(document, "category")["title"]["en"] = "Incident"
        option(document, "sub_labour", "labour.pregnant_women")["retired"] = True
        moved = node(document, "sub_accident")["options"].pop(1)  # accident.flooding
        node(document, "sub_environment")["options"].append(moved)

    path = _write(tmp_path / "v2.yaml", to_yaml(changed(edit)))
    assert _run(app, "import", str(path)).exit_code == 0
    result = _run(app, "diff", TREE, "1", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "tree 'incident': version 1 -> 2, 5 change(s)",
        "~ option 'report' in node 'main' label (fr): \"Signaler un incident\" -> "
        '"Signaler un fait"',
        '~ node \'category\' title (en): "What happened" -> "Incident"',
        "~ option 'labour.pregnant_women' in node 'sub_labour' retired: null -> true",
        "~ option 'accident.flooding' in node 'sub_environment' moved: from node 'sub_accident'",
        '~ node \'when\' text (sw): "Ilitokea lini?" -> "Lini?"',
    ]


def test_check_covers_the_published_versions_in_the_database(app: Flask) -> None:
    result = _run(app, "check")
    assert result.exit_code == 0, result.stderr
    assert "database: incident version 1 (published): tree 'incident' v1 OK" in result.stdout


def test_db_upgrade_seeds_the_configured_trees(backend: Backend, tmp_path: Path) -> None:
    if backend.name != "embedded":
        return  # the real server's database is already migrated for the whole run
    fresh = Backend("embedded", f"sqlite:///{tmp_path / 'fresh.db'}", backend.redis_url)
    with built_app(fresh, tmp_path) as app:
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.stderr
        assert "tree 'incident' version 1 seeded and published" in result.stdout
        services: Services = app.extensions["kufatilia"]
        assert services.trees.current(TREE).version == 1
        assert _stored(services, 1) == default_document()
        again = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert "seeded" not in again.stdout
