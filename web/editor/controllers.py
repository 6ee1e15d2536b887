"""The menu editor's handlers: parse, authorise (``can_edit_menus`` on every view and action),
call an operation (``storage.operations.tree_edits``: the change and its audit row in one
transaction), render. A save validates the whole tree and shows each problem where it belongs; a
draft with errors is saved but cannot be published. Every save carries the revision the form was
built from: a stale copy is refused with a conflict message, never written over someone's work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from channels.simulator import Simulation, Simulator
from menus import gsm
from menus.checker import Judgement
from menus.diff import diff_documents
from menus.document import Document, option_id, parse_text, to_yaml
from menus.errors import TreeError
from menus.languages import completeness, tree_languages
from menus.model import INPUT_TYPES, NODE_KINDS, Tree
from menus.po import LANGUAGE_CODE, export_po, import_po, po_language
from menus.problems import Problem
from services import current_services
from storage import operations, queries
from storage.models import TreeVersion
from storage.operations import tree_edits

from ..db import after_commit, commit, db
from ..identity import login_required
from ..permissions import can_allow_menu_editors, can_edit_menus
from . import edits
from .edits import Refused
from .placing import Placed

SIM_CHANNELS = ("ussd", "sms")
log = logging.getLogger(__name__)


def _require_editor() -> None:
    if not can_edit_menus(current_user):
        abort(403)


def _by() -> str:
    return str(current_user.email)


def _row(tree_id: str, version: int) -> TreeVersion:
    row = queries.tree_version(db(), tree_id, version)
    if row is None:
        abort(404)
    return row


def _judge(row: TreeVersion, document: Document | None = None) -> Judgement:
    return queries.judge_document(
        db(),
        current_services().checker,
        row.tree_id,
        row.version,
        row.document if document is None else document,
    )


def _used(tree_id: str) -> dict[str, str]:
    """Codes that have reports -> the answer key they were filed under."""
    return {code: use.key for code, use in queries.codes_in_use(db(), tree_id).items()}


def _refusal(exc: Refused) -> str:
    return str(exc.message)


def _stale(exc: operations.StaleRevision) -> str:
    return str(
        _(
            "Someone else saved this draft since you opened it (your copy is revision %(mine)s, "
            "the saved one is revision %(theirs)s). Your changes were NOT saved: the page now shows "
            "their version. Make your changes again.",
            mine=exc.expected,
            theirs=exc.actual,
        )
    )


def _revision() -> int:
    try:
        return int(request.form.get("revision", ""))
    except ValueError:
        abort(400)


# Trees, versions, editors, audit -------------------------------------------------------------


@login_required
def index() -> str:
    _require_editor()
    session = db()
    trees = [
        (tree_id, queries.tree_versions(session, tree_id)) for tree_id in queries.tree_ids(session)
    ]
    admins = queries.org_admins(session) if can_allow_menu_editors(current_user) else []
    return render_template("editor/trees.html", trees=trees, admins=admins)


@login_required
def editors() -> Response:
    if not can_allow_menu_editors(current_user):
        abort(403)
    try:
        user_id = int(request.form.get("user_id", ""))
    except ValueError:
        abort(400)
    user = queries.user_by_id(db(), user_id)
    if user is None or user.role != "org_admin":
        abort(404)
    allowed = request.form.get("allowed") == "1"
    tree_edits.set_menu_editor(
        db(), user, allowed, by_user_id=current_user.id, now=current_services().clock.now()
    )
    commit()
    if allowed:
        flash(_("%(who)s may now edit the menus.", who=user.name or user.email), "success")
    else:
        flash(_("%(who)s may no longer edit the menus.", who=user.name or user.email), "success")
    return redirect(url_for("editor.index"))


@login_required
def audit() -> str:
    _require_editor()
    tree_id = request.args.get("tree") or None
    return render_template(
        "editor/audit.html", entries=queries.tree_audit(db(), tree_id), tree_id=tree_id
    )


@login_required
def versions(tree_id: str) -> str:
    _require_editor()
    found = queries.tree_versions(db(), tree_id)
    if not found:
        abort(404)
    return render_template("editor/versions.html", tree_id=tree_id, versions=found)


@login_required
def new_draft(tree_id: str) -> Response:
    _require_editor()
    try:
        source = int(request.form.get("version", ""))
    except ValueError:
        abort(400)
    _row(tree_id, source)
    row = tree_edits.start_draft(
        db(),
        tree_id,
        source,
        user_id=current_user.id,
        by=_by(),
        now=current_services().clock.now(),
    )
    commit()
    flash(
        _(
            "Draft version %(version)s made from version %(source)s.",
            version=row.version,
            source=source,
        ),
        "success",
    )
    return redirect(url_for("editor.version", tree_id=tree_id, version=row.version))


def _outline(document: Document, language: str) -> list[dict[str, Any]]:
    """The nodes in order, each with its question and options in ``language``, for the outline."""
    found = []
    for raw in document.get("nodes") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        options = []
        for item in raw.get("options") or []:
            if isinstance(item, dict):
                options.append(
                    {
                        "id": option_id(item),
                        "label": edits.text_of(item.get("label"), language),
                        "next": item.get("next") if isinstance(item.get("next"), str) else None,
                        "retired": bool(item.get("retired")),
                        "action": item.get("action"),
                    }
                )
        found.append(
            {
                "id": raw["id"],
                "kind": raw.get("kind"),
                "key": raw.get("key"),
                "text": edits.text_of(raw.get("text"), language),
                "next": raw.get("next") if isinstance(raw.get("next"), str) else None,
                "options": options,
            }
        )
    return found


def _shown_language(document: Document) -> str:
    """The page's language when the tree has it (French first), else the tree's first."""
    from flask_babel import get_locale

    langs = edits.languages(document)
    locale = get_locale()
    wanted = locale.language if locale is not None else "fr"
    return wanted if wanted in langs else (langs[0] if langs else wanted)


def _version_page(
    row: TreeVersion,
    judgement: Judgement | None = None,
    status: int = 200,
    po_problems: list[Problem] | None = None,
) -> tuple[str, int]:
    judgement = judgement or _judge(row)
    document = row.document
    placed = Placed([*judgement.errors, *judgement.warnings])
    outline = _outline(document, _shown_language(document))
    others = queries.tree_versions(db(), row.tree_id)
    languages = completeness(document, current_services().catalog).values()
    return (
        render_template(
            "editor/version.html",
            languages=languages,
            po_problems=po_problems or [],
            row=row,
            judgement=judgement,
            placed=placed,
            outline=outline,
            elsewhere=placed.elsewhere({n["id"] for n in outline}),
            kinds=NODE_KINDS,
            others=others,
        ),
        status,
    )


@login_required
def version(tree_id: str, version: int) -> tuple[str, int]:
    _require_editor()
    return _version_page(_row(tree_id, version))


@login_required
def publish(tree_id: str, version: int) -> Response | tuple[str, int]:
    _require_editor()
    return _make_current(
        tree_edits.publish_edit,
        tree_id,
        version,
        wrong_status=_("Only a draft can be published."),
        done=_(
            "Version %(version)s is published: new conversations use it now; conversations in progress finish on the version they started on.",
            version=version,
        ),
    )


@login_required
def rollback(tree_id: str, version: int) -> Response | tuple[str, int]:
    _require_editor()
    return _make_current(
        tree_edits.rollback_edit,
        tree_id,
        version,
        wrong_status=_("Only a version published before can be published again."),
        done=_("Version %(version)s is published again.", version=version),
    )


def _make_current(
    edit: Callable[..., object], tree_id: str, version: int, *, wrong_status: str, done: str
) -> Response | tuple[str, int]:
    """Publish or republish a version (``edit`` records it in the audit trail); refused with
    its problems when it has errors, or with ``wrong_status`` when its status does not allow it."""
    row = _row(tree_id, version)
    services = current_services()
    try:
        edit(
            db(),
            services.checker,
            tree_id,
            version,
            user_id=current_user.id,
            by=_by(),
            now=services.clock.now(),
        )
    except operations.HasErrors as exc:
        db().rollback()
        flash(
            _(
                "Version %(version)s has %(count)s problem(s) and was not published.",
                version=version,
                count=len(exc.problems),
            ),
            "error",
        )
        return _version_page(_row(tree_id, version), Judgement(None, exc.problems), 409)
    except operations.WrongStatus:
        db().rollback()
        flash(wrong_status, "error")
        return _version_page(row, status=409)
    after_commit(services.trees.announce)
    commit()
    flash(done, "success")
    return redirect(url_for("editor.versions", tree_id=tree_id))


@login_required
def diff(tree_id: str) -> str:
    _require_editor()
    found = queries.tree_versions(db(), tree_id)
    if not found:
        abort(404)
    numbers = [v.version for v in found]
    try:
        a = int(request.args.get("a", numbers[-2] if len(numbers) > 1 else numbers[0]))
        b = int(request.args.get("b", numbers[-1]))
    except ValueError:
        abort(400)
    old, new = _row(tree_id, a), _row(tree_id, b)
    changes = diff_documents(old.document, new.document)
    return render_template(
        "editor/diff.html", tree_id=tree_id, versions=found, a=a, b=b, changes=changes
    )


@login_required
def export(tree_id: str, version: int) -> Response:
    _require_editor()
    row = _row(tree_id, version)
    body = to_yaml(row.document, header=f"tree {tree_id} version {version} ({row.status})")
    return Response(
        body,
        mimetype="application/x-yaml",
        headers={"Content-Disposition": f'attachment; filename="{tree_id}-v{version}.yaml"'},
    )


def _gsm_length(text: str) -> int:
    return gsm.length(gsm.to_gsm(text))


# The node editor ---------------------------------------------------------------------------


def _node_page(
    row: TreeVersion,
    node_id: str,
    *,
    document: Document | None = None,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    document = row.document if document is None else document
    node = edits.find_node(document, node_id)
    if node is None:
        abort(404)
    judgement = _judge(row, document)
    used = _used(row.tree_id)
    options = [
        {
            "index": i,
            "raw": item,
            "id": option_id(item),
            "in_use": edits.in_use(node, item, used),
        }
        for i, item in enumerate(node.get("options") or [])
        if isinstance(item, dict)
    ]
    simulation, sim = _simulation_of(row)
    return (
        render_template(
            "editor/node.html",
            row=row,
            document=document,
            node=node,
            node_id=node_id,
            options=options,
            langs=tree_languages(document),
            ids=edits.node_ids(document),
            kinds=NODE_KINDS,
            input_types=INPUT_TYPES,
            numbers=edits.NUMBERS,
            placed=Placed([*judgement.errors, *judgement.warnings]),
            judgement=judgement,
            text_of=edits.text_of,
            gsm_length=_gsm_length,
            message=message,
            simulation=simulation,
            sim=sim,
        ),
        status,
    )


@login_required
def node(tree_id: str, version: int, node_id: str) -> Response | tuple[str, int]:
    _require_editor()
    row = _row(tree_id, version)
    if request.method == "GET":
        return _node_page(row, node_id)
    if row.status != "draft":
        abort(409)
    expected = _revision()
    op = request.form.get("op", "save")
    form = {k: v for k, v in request.form.items()}
    try:
        document, done = edits.apply_node_form(
            row.document, node_id, form, op, _used(tree_id), tree_languages(row.document)
        )
    except Refused as exc:
        return _node_page(row, node_id, message=_refusal(exc), status=400)
    action = tree_edits.RETIRE if op.startswith("retire:") else tree_edits.SAVE
    try:
        saved = _save_draft(
            tree_id,
            version,
            document,
            expected,
            action=action,
            detail=done,
        )
    except operations.StaleRevision as exc:
        db().rollback()
        return _node_page(_row(tree_id, version), node_id, message=_stale(exc), status=409)
    commit()
    _flash_saved(saved)
    return redirect(url_for("editor.node", tree_id=tree_id, version=version, node_id=node_id))


@login_required
def add_node(tree_id: str, version: int) -> Response | tuple[str, int]:
    _require_editor()
    row = _row(tree_id, version)
    expected = _revision()
    node_id = request.form.get("node_id", "").strip()
    try:
        document = edits.add_node(row.document, node_id, request.form.get("kind", ""))
    except Refused as exc:
        flash(_refusal(exc), "error")
        return _version_page(row, status=400)
    try:
        _save_draft(
            tree_id,
            version,
            document,
            expected,
            detail=f"node {node_id} added",
        )
    except (operations.StaleRevision, operations.WrongStatus) as exc:
        db().rollback()
        message = (
            _stale(exc)
            if isinstance(exc, operations.StaleRevision)
            else _("Only a draft can be changed.")
        )
        flash(message, "error")
        return _version_page(_row(tree_id, version), status=409)
    commit()
    return redirect(url_for("editor.node", tree_id=tree_id, version=version, node_id=node_id))


@login_required
def remove_node(tree_id: str, version: int, node_id: str) -> Response | tuple[str, int]:
    _require_editor()
    row = _row(tree_id, version)
    expected = _revision()
    try:
        document = edits.remove_node(row.document, node_id, _used(tree_id))
    except Refused as exc:
        return _node_page(row, node_id, message=_refusal(exc), status=400)
    try:
        _save_draft(
            tree_id,
            version,
            document,
            expected,
            detail=f"node {node_id} removed",
        )
    except operations.StaleRevision as exc:
        db().rollback()
        return _node_page(_row(tree_id, version), node_id, message=_stale(exc), status=409)
    except operations.WrongStatus:
        abort(409)
    commit()
    flash(_("Node %(node)s removed.", node=node_id), "success")
    return redirect(url_for("editor.version", tree_id=tree_id, version=version))


# The YAML view ------------------------------------------------------------------------------


@login_required
def yaml_view(tree_id: str, version: int) -> Response | tuple[str, int]:
    _require_editor()
    row = _row(tree_id, version)
    if request.method == "GET":
        judgement = _judge(row)
        return _yaml_page(row, to_yaml(row.document), [*judgement.errors, *judgement.warnings])
    if row.status != "draft":
        abort(409)
    expected = _revision()
    text = request.form.get("yaml", "")
    try:
        document = parse_text(text, source="yaml")
    except TreeError as exc:
        return _yaml_page(
            row, text, exc.problems, _("Nothing was saved: the text is not a tree document."), 400
        )
    try:
        saved = _save_draft(
            tree_id,
            version,
            document,
            expected,
            action=tree_edits.YAML,
        )
    except operations.StaleRevision as exc:
        db().rollback()
        return _yaml_page(_row(tree_id, version), text, [], _stale(exc), 409)
    except operations.TreeVersionError as exc:
        db().rollback()
        return _yaml_page(row, text, [], str(exc), 400)
    commit()
    _flash_saved(saved)
    return redirect(url_for("editor.yaml", tree_id=tree_id, version=version))


def _yaml_page(
    row: TreeVersion,
    text: str,
    problems: list[Problem],
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "editor/yaml.html", row=row, text=text, problems=problems, message=message
    ), status


# The phone simulator -----------------------------------------------------------------------


def _sim_choice(row: TreeVersion) -> dict[str, str]:
    """The simulator's channel and language, from the query or the form."""
    values = MultiDict({**request.args, **request.form})
    channel = values.get("channel", "ussd")
    if channel not in SIM_CHANNELS:
        channel = "ussd"
    langs = edits.languages(row.document)
    lang = values.get("lang", "")
    if lang not in langs:
        lang = ""
    return {"channel": channel, "lang": lang}


def _sim_tree(row: TreeVersion) -> Tree | None:
    """The version as the engine runs it: a draft compiled as it is now (never through the
    registry, which keeps what it loads: a draft changes), any other version as served."""
    if row.status != "draft":
        served = current_services().trees.get(row.tree_id, row.version)
        if served is not None:
            return served
    return _judge(row).tree


def _simulation_of(row: TreeVersion) -> tuple[Simulation, dict[str, str]]:
    sim = _sim_choice(row)
    key = Simulator.key(current_user.id, row.tree_id, row.version, sim["channel"])  # type: ignore[arg-type]
    return Simulator(current_services()).load(key), sim


@login_required
def simulate(tree_id: str, version: int) -> Response | tuple[str, int]:
    _require_editor()
    row = _row(tree_id, version)
    sim = _sim_choice(row)
    if request.method == "GET":
        simulation, sim = _simulation_of(row)
        return render_template(
            "editor/simulate.html",
            row=row,
            simulation=simulation,
            sim=sim,
            langs=edits.languages(row.document),
            error=None,
        ), 200
    simulator = Simulator(current_services())
    channel = sim["channel"]
    key = Simulator.key(current_user.id, tree_id, version, channel)  # type: ignore[arg-type]
    tree = _sim_tree(row)
    op = request.form.get("op", "send")
    text = request.form.get("text", "")[:500]
    error = None
    if op == "reset":
        simulator.reset(key)
    elif tree is None:
        error = _("This version cannot run: fix the problems that stop it compiling first.")
    else:
        try:
            if channel == "ussd":
                simulator.ussd(key, tree, None if op == "dial" else text, sim["lang"] or None)
            else:
                simulator.sms(key, tree, text, sim["lang"] or None)
        except Exception:  # a draft with errors may trip the engine: say so, never a 500
            log.exception("simulator stopped on %s version %s", tree_id, version)
            error = _("The simulator stopped: this draft has problems to fix first.")
    back = request.form.get("back", "")
    if error is None and back.startswith("/menus/") and "//" not in back:
        return redirect(back + f"?channel={channel}&lang={sim['lang']}#phone")
    if error is None:
        return redirect(
            url_for(
                "editor.simulate",
                tree_id=tree_id,
                version=version,
                channel=channel,
                lang=sim["lang"],
            )
        )
    simulation = simulator.load(key)
    return render_template(
        "editor/simulate.html",
        row=row,
        simulation=simulation,
        sim=sim,
        langs=edits.languages(row.document),
        error=error,
    ), 400


# Translators' PO files ----------------------------------------------------------------------


@login_required
def po_download(tree_id: str, version: int) -> Response:
    """One language's texts as a PO file (Poedit, Weblate); a new language's msgstrs are empty."""
    _require_editor()
    row = _row(tree_id, version)
    language = request.args.get("lang", "").strip()
    if not LANGUAGE_CODE.match(language):
        abort(400)
    body = export_po(row.document, language, version=version, created=row.updated_at)
    return Response(
        body,
        mimetype="text/x-gettext-translation",
        headers={
            "Content-Disposition": f'attachment; filename="{tree_id}-v{version}-{language}.po"'
        },
    )


@login_required
def po_upload(tree_id: str, version: int) -> Response | tuple[str, int]:
    """A translator's PO file applied to this version: a draft is updated (with the revision the
    page was built from), any other version gives a new draft. Like the CLI, an import that would
    add errors (a translation too long for a screen) is refused, each problem named."""
    _require_editor()
    row = _row(tree_id, version)
    upload = request.files.get("po")
    data = upload.read() if upload is not None else b""
    if not data:
        flash(_("Choose a PO file."), "error")
        return _version_page(row, status=400)
    language = request.form.get("lang", "").strip() or None
    document, problems = import_po(row.document, data, language=language)
    if any(p.severity == "error" for p in problems):
        flash(_("Nothing was imported: the file cannot be used."), "error")
        return _version_page(row, status=400, po_problems=problems)
    changes = diff_documents(row.document, document)
    if not changes:
        flash(_("This file changes no text: nothing was imported."), "info")
        return _version_page(row, status=200, po_problems=problems)
    before, after = _judge(row), _judge(row, document)
    added = [p for p in after.errors if p not in before.errors]
    if added:
        flash(
            _(
                "Not imported: the file would add %(count)s problem(s). Fix it and import it again.",
                count=len(added),
            ),
            "error",
        )
        return _version_page(row, status=400, po_problems=[*added, *problems])
    lang = po_language(row.document, data, language) or "?"
    name = upload.filename if upload is not None and upload.filename else "PO"
    note = f"{lang} texts imported from {name}: {len(changes)} text(s) changed"
    services = current_services()
    try:
        if row.status == "draft":
            saved = _save_draft(
                tree_id,
                version,
                document,
                _revision(),
                action=tree_edits.PO_IMPORT,
                detail=note,
            )
        else:
            saved = tree_edits.import_draft(
                db(),
                document,
                user_id=current_user.id,
                by=_by(),
                now=services.clock.now(),
                note=note,
            )
    except operations.StaleRevision as exc:
        db().rollback()
        flash(_stale(exc), "error")
        return _version_page(_row(tree_id, version), status=409)
    commit()
    flash(_("%(count)s text(s) imported in %(lang)s.", count=len(changes), lang=lang), "success")
    return redirect(url_for("editor.version", tree_id=tree_id, version=saved.version))


def _flash_saved(saved: TreeVersion) -> None:
    """Say a save went through, and whether the draft can be published as it is."""
    errors = _judge(saved).errors
    if errors:
        flash(
            _("Saved, with %(count)s problem(s) to fix before publishing.", count=len(errors)),
            "error",
        )
    else:
        flash(_("Saved."), "success")


def _save_draft(
    tree_id: str, version: int, document: Document, expected: int, **audit: str
) -> TreeVersion:
    """Save a draft as the signed-in editor (``StaleRevision`` if someone saved it since);
    ``audit`` is the trail's action and detail."""
    return tree_edits.save_edit(
        db(),
        tree_id,
        version,
        document,
        expected,
        user_id=current_user.id,
        by=_by(),
        now=current_services().clock.now(),
        **audit,
    )
