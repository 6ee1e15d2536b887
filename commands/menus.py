"""``flask menus``: menu trees as versioned data, for operators and scripts.

``check`` validates files and the published versions; ``versions`` lists a tree's versions;
``import`` makes a draft from a YAML file (``--publish`` publishes it if it has no errors);
``publish`` and ``rollback`` change the current version in one step; ``diff`` shows what changed
between two versions; ``export`` writes a version as YAML that ``import`` reads back identical;
``po export`` and ``po import`` carry one language's texts to and from translators.
Every process serving conversations follows a publish within about a second.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from menus.checker import Judgement
from menus.datasets import transliterated_labels
from menus.diff import diff_documents
from menus.document import Document, to_json, to_yaml
from menus.errors import TreeError
from menus.languages import completeness
from menus.loader import read_document
from menus.po import LANGUAGE_CODE, export_po, import_po, po_language
from menus.problems import Problem
from services import Services, current_services, tree_paths
from storage import operations, queries
from storage.models import TreeVersion

from .table import echo_table


def _default_author() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


BY = click.option(
    "--by",
    default=_default_author,
    show_default="cli:<login>",
    help="Who makes the change (kept with the version).",
)


@click.group(
    "menus", help="Menu trees: versions, import, publish, rollback, diff, export, po files."
)
def menus() -> None:
    pass


def _echo_problems(problems: Iterable[Problem], *, err: bool = True) -> None:
    for problem in problems:
        prefix = "warning: " if problem.severity == "warning" else "  - "
        click.echo(f"{prefix}{problem}", err=err and problem.severity == "error")


def _echo_judgement(judgement: Judgement) -> None:
    _echo_problems(judgement.warnings, err=False)
    if judgement.errors:
        click.echo(f"{len(judgement.errors)} problem(s):", err=True)
        _echo_problems(judgement.errors)


# check ----------------------------------------------------------------------------------------


@menus.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def check(paths: tuple[Path, ...]) -> None:
    """Validate PATHS (default: the seed files and every published version) for every language
    and screen limit.

    Lists every text that transliteration to GSM-7 changes (tree texts, system strings, place
    names), each as written and as sent: a lost accent can change a meaning.
    """
    services = current_services()
    checker = services.checker
    failed = False
    for lang, msgid, written, sent in services.catalog.transliterated():
        click.echo(f"warning: locales/{lang} {msgid!r}: {written!r} is sent as {sent!r}")
    for filename, written, sent in transliterated_labels():
        click.echo(f"warning: menus/data/{filename}: {written!r} is sent as {sent!r}")
    for path in paths or tuple(tree_paths(services.settings)):
        try:
            document = read_document(path)
        except TreeError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        judgement = checker.judge(document, source=str(path))
        failed |= _report(str(path), judgement, "v1")
    if not paths:
        with services.db.session() as session:
            published = queries.published_versions(session)
            for tree_id, version in sorted(published.items()):
                stored = queries.tree_document(session, tree_id, version)
                assert stored is not None  # published_versions just named it
                judgement = queries.judge_document(session, checker, tree_id, version, stored)
                name = f"database: {tree_id} version {version} (published)"
                failed |= _report(name, judgement, f"v{version}")
    if failed:
        raise SystemExit(1)


def _report(name: str, judgement: Judgement, version: str) -> bool:
    """Print one tree's verdict; True when it failed."""
    _echo_problems(judgement.warnings, err=False)
    tree = judgement.tree
    if tree is None or judgement.errors:
        click.echo(f"{name}: {len(judgement.errors)} problem(s)", err=True)
        _echo_problems(judgement.errors)
        return True
    limits = list(current_services().checker.limits)
    click.echo(
        f"{name}: tree '{tree.id}' {version} OK: {len(tree.nodes)} nodes, "
        f"languages {', '.join(tree.languages)}, limits {limits}"
    )
    return False


# versions -------------------------------------------------------------------------------------


@menus.command("versions")
@click.argument("tree_id")
@with_appcontext
def versions(tree_id: str) -> None:
    """The versions of TREE_ID, oldest first, and which one is published."""
    with current_services().db.session() as session:
        found = queries.tree_versions(session, tree_id)
    if not found:
        raise click.ClickException(f"tree '{tree_id}' has no versions")
    columns = [
        ("version", 7),
        ("status", 9),
        ("rev", 3),
        ("created", 16),
        ("by", 14),
        ("published", 16),
        ("published_by", 14),
        ("note", 40),
    ]
    echo_table(
        columns,
        (
            {
                "version": v.version,
                "status": v.status,
                "rev": v.revision,
                "created": v.created_at.isoformat(" ", "minutes")[:16],
                "by": v.created_by,
                "published": v.published_at.isoformat(" ", "minutes")[:16]
                if v.published_at
                else "",
                "published_by": v.published_by or "",
                "note": v.note or "",
            }
            for v in found
        ),
    )


# import, publish, rollback ---------------------------------------------------------------------


@menus.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--publish", "then_publish", is_flag=True, help="Publish it too, if it has no errors."
)
@BY
@with_appcontext
def import_(path: Path, then_publish: bool, by: str) -> None:
    """Make a new draft version from the YAML file PATH (its 'id' names the tree)."""
    services = current_services()
    try:
        document = read_document(path)
    except TreeError as exc:
        raise click.ClickException(str(exc)) from exc
    tree_id = str(document.get("id") or "")
    same = _identical_version(services, tree_id, document)
    if same is not None:
        version, status = same
        click.echo(f"tree '{tree_id}': identical to version {version} ({status}); nothing imported")
        if then_publish and status == "draft":
            _change(services, "publish", tree_id, version, by)
        elif then_publish and status == "archived":
            raise click.ClickException(
                f"to serve version {version} again: flask menus rollback {tree_id} --to {version}"
            )
        return
    try:
        with services.db.transaction() as session:
            row = operations.create_draft(
                session, document, by=by, now=services.clock.now(), note=f"imported from {path}"
            )
            judgement = queries.judge_document(
                session, services.checker, row.tree_id, row.version, row.document
            )
            tree_id, version = row.tree_id, row.version
    except operations.TreeVersionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"tree '{tree_id}' version {version}: draft created (revision 1)")
    _echo_judgement(judgement)
    if then_publish:
        if judgement.errors:
            raise click.ClickException(
                f"version {version} not published: fix its problems, then import it again"
            )
        _change(services, "publish", tree_id, version, by)


@menus.command("publish")
@click.argument("tree_id")
@click.option("--version", "version", type=int, required=True, help="The draft to publish.")
@BY
@with_appcontext
def publish(tree_id: str, version: int, by: str) -> None:
    """Publish draft VERSION of TREE_ID: new conversations use it within a second."""
    _change(current_services(), "publish", tree_id, version, by)


@menus.command("rollback")
@click.argument("tree_id")
@click.option("--to", "version", type=int, required=True, help="A version published before.")
@BY
@with_appcontext
def rollback(tree_id: str, version: int, by: str) -> None:
    """Publish again an earlier VERSION of TREE_ID as the current one."""
    _change(current_services(), "rollback", tree_id, version, by)


def _change(services: Services, how: str, tree_id: str, version: int, by: str) -> None:
    change = operations.publish_version if how == "publish" else operations.rollback_tree
    try:
        with services.db.transaction() as session:
            previous = queries.published_versions(session).get(tree_id)
            change(session, services.checker, tree_id, version, by=by, now=services.clock.now())
    except operations.TreeVersionError as exc:
        raise click.ClickException(str(exc)) from exc
    services.trees.announce()  # after the commit: every process re-reads within a second
    was = f" (was version {previous})" if previous else ""
    click.echo(f"tree '{tree_id}': version {version} is published{was}")


def _identical_version(
    services: Services, tree_id: str, document: Document
) -> tuple[int, str] | None:
    """(version, status) of a version whose document is exactly this one, newest first."""
    wanted = to_json(document)
    with services.db.session() as session:
        for info in reversed(queries.tree_versions(session, tree_id)):
            stored = queries.tree_document(session, tree_id, info.version)
            if stored is not None and to_json(stored) == wanted:
                return info.version, info.status
    return None


# diff, export ---------------------------------------------------------------------------------


def _document(services: Services, tree_id: str, version: int | None) -> tuple[int, Document]:
    """A version's document; ``None`` means the published one."""
    with services.db.session() as session:
        if version is None:
            version = queries.published_versions(session).get(tree_id)
            if version is None:
                raise click.ClickException(f"tree '{tree_id}' has no published version")
        document = queries.tree_document(session, tree_id, version)
    if document is None:
        raise click.ClickException(f"tree '{tree_id}' has no version {version}")
    return version, document


@menus.command("diff")
@click.argument("tree_id")
@click.argument("old", type=int)
@click.argument("new", type=int)
@with_appcontext
def diff(tree_id: str, old: int, new: int) -> None:
    """What changed in TREE_ID from version OLD to version NEW."""
    services = current_services()
    _, before = _document(services, tree_id, old)
    _, after = _document(services, tree_id, new)
    changes = diff_documents(before, after)
    click.echo(f"tree '{tree_id}': version {old} -> {new}, {len(changes)} change(s)")
    for change in changes:
        click.echo(str(change))


@menus.command("export")
@click.argument("tree_id")
@click.option("--version", "version", type=int, help="Default: the published version.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout."
)
@with_appcontext
def export(tree_id: str, version: int | None, output: Path | None) -> None:
    """Write a version of TREE_ID as YAML; `flask menus import` reads it back identical."""
    services = current_services()
    version, document = _document(services, tree_id, version)
    with services.db.session() as session:
        row = queries.tree_version(session, tree_id, version)
        status = row.status if row is not None else "?"
    header = (
        f"Tree '{tree_id}', version {version} ({status}), exported by `flask menus export`.\n"
        "Edit, then `flask menus import FILE` makes it a new draft version."
    )
    text = to_yaml(document, header=header)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"tree '{tree_id}' version {version} written to {output}")


# po: translators' files ------------------------------------------------------------------------


@menus.group("po", help="A tree's texts as PO files for translators (Poedit, Weblate).")
def po() -> None:
    pass


@po.command("export")
@click.argument("tree_id")
@click.option("--lang", "language", required=True, help="The language to translate into: sw, ln.")
@click.option("--version", "version", type=int, help="Default: the published version.")
@click.option("--source", help="The msgids' language (default: the tree's first language).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout."
)
@with_appcontext
def po_export(
    tree_id: str, language: str, version: int | None, source: str | None, output: Path | None
) -> None:
    """Write every text of TREE_ID as a PO file for one language (empty msgstr: to translate)."""
    if not LANGUAGE_CODE.match(language):
        raise click.BadParameter(f"'{language}' is not a language code", param_hint="--lang")
    services = current_services()
    version, document = _document(services, tree_id, version)
    with services.db.session() as session:
        row = queries.tree_version(session, tree_id, version)
        created = row.updated_at if row is not None else None
    text = export_po(document, language, source=source, version=version, created=created)
    state = completeness(document, services.catalog, extra=[language])[language]
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(
        f"tree '{tree_id}' version {version}: {state.total} texts, {state.present} already in "
        f"'{language}', written to {output}"
    )


@po.command("import")
@click.argument("tree_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", "language", help="Default: the file's Language header.")
@BY
@with_appcontext
def po_import(tree_id: str, path: Path, language: str | None, by: str) -> None:
    """Fill TREE_ID's texts in one language from the PO file PATH.

    The texts go into the tree's draft (the newest version, when it is a draft) or into a new
    draft made from the published version, judged like any save. An import that would add
    errors (a translation too long for a screen, a lost placeholder) is refused, each problem
    naming its node and language; fix the file and import it again.
    """
    services = current_services()
    data = path.read_bytes()
    try:
        with services.db.transaction() as session:
            base = _po_base(session, tree_id)
            document, problems = import_po(base.document, data, language=language)
            _echo_problems(problems)
            if any(p.severity == "error" for p in problems):
                raise click.ClickException(f"{path}: nothing imported")
            lang = po_language(base.document, data, language) or ""
            changes = diff_documents(base.document, document)
            if not changes:
                click.echo(f"tree '{tree_id}': {path} changes no text; nothing imported")
                return
            before = queries.judge_document(
                session, services.checker, tree_id, base.version, base.document
            )
            after = queries.judge_document(
                session, services.checker, tree_id, base.version, document
            )
            added = [p for p in after.errors if p not in before.errors]
            if added:
                click.echo(f"{len(added)} problem(s):", err=True)
                _echo_problems(added)
                raise click.ClickException(
                    f"{path} not imported: it would add {len(added)} problem(s) to tree "
                    f"'{tree_id}' (fix the file and import it again)"
                )
            note = f"{lang} texts imported from {path.name}"
            if base.status == "draft":
                row = operations.save_draft(
                    session,
                    tree_id,
                    base.version,
                    document,
                    base.revision,
                    by=by,
                    now=services.clock.now(),
                )
                done = f"draft updated (revision {row.revision})"
            else:
                row = operations.create_draft(
                    session, document, by=by, now=services.clock.now(), note=note
                )
                done = f"draft created from version {base.version} (revision 1)"
            version = row.version
    except operations.TreeVersionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"tree '{tree_id}' version {version}: {done}; {len(changes)} text(s) changed")
    _echo_judgement(after)
    state = completeness(document, services.catalog, extra=[lang]).get(lang)
    if state is not None and not state.declared:
        offered = "offered to reporters once published" if state.complete else "not offered yet"
        click.echo(
            f"'{lang}': {state.present} of {state.total} texts, system strings "
            f"{'complete' if state.system_complete else 'incomplete'}: {offered}"
        )


def _po_base(session: Session, tree_id: str) -> TreeVersion:
    """Where an import goes: the newest version if it is a draft, else the published one."""
    found = queries.tree_versions(session, tree_id)
    if not found:
        raise click.ClickException(f"tree '{tree_id}' has no versions")
    newest = found[-1]
    if newest.status != "draft":
        published = [v for v in found if v.status == "published"]
        if not published:
            raise click.ClickException(f"tree '{tree_id}' has no draft and no published version")
        newest = published[-1]
    row = queries.tree_version(session, tree_id, newest.version)
    assert row is not None  # just listed
    return row
