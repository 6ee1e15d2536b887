"""Tree versions in the database: seeding, drafts, stale saves, publish and rollback, stable codes,
retired codes, and a publish seen by another app instance within seconds."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import StartupError
from menus import problems as codes
from menus.codes import codes_of
from menus.document import Document
from menus.errors import TreeError
from menus.problems import Problem
from services import EXTENSION_KEY, Services
from storage import operations, queries
from storage.models import Report, TreeVersion

from .conftest import Backend, make_app
from .phone import TO_CONFIRM_FR, Phone, built_app
from .trees_support import (
    TREE,
    changed,
    default_document,
    draft,
    node,
    option,
    publish,
    publish_document,
    relabel_report_fr,
    rollback,
)


def _statuses(services: Services) -> dict[int, str]:
    with services.db.session() as session:
        return {v.version: v.status for v in queries.tree_versions(session, TREE)}


def _file_a_collapse(client: FlaskClient, services: Services) -> Report:
    """A report of an accident (pit collapse) through USSD, on the published version."""
    phone = Phone(client, f"ATUid_collapse_{time.monotonic_ns()}", number="+243990000401")
    phone.dial()
    phone.send(*TO_CONFIRM_FR)
    assert phone.send("1").startswith("END ")
    with services.db.session() as session:
        report = session.scalars(select(Report).order_by(Report.id.desc())).first()
    assert report is not None and report.subcategory == "accident.collapse"
    return report


# Seeding ------------------------------------------------------------------------------------


def test_start_up_seeds_version_1_from_the_configured_file(services: Services) -> None:
    with services.db.session() as session:
        (info,) = queries.tree_versions(session, TREE)
        stored = queries.tree_document(session, TREE, 1)
    assert (info.version, info.status, info.revision, info.created_by) == (
        1,
        "published",
        1,
        "seed",
    )
    assert info.note is not None and info.note.endswith("incident.yaml")
    assert stored == default_document()  # as written: "Français", not "Francais"
    assert services.trees.current(TREE).version == 1


def test_a_second_start_seeds_nothing(backend: Backend, tmp_path: Path, services: Services) -> None:
    with built_app(backend, tmp_path / "second") as second:
        assert second.extensions[EXTENSION_KEY].trees.current(TREE).version == 1
    assert _statuses(services) == {1: "published"}


# Publish, rollback, and the one published version -------------------------------------------------


def test_publish_archives_the_previous_version_and_rollback_restores_it(
    services: Services,
) -> None:
    version = draft(services, changed(relabel_report_fr))
    assert _statuses(services) == {1: "published", 2: "draft"}
    assert services.trees.current(TREE).version == 1  # a draft serves nobody

    publish(services, version)
    assert _statuses(services) == {1: "archived", 2: "published"}
    assert services.trees.current(TREE).version == 2

    rollback(services, 1)
    assert _statuses(services) == {1: "published", 2: "archived"}
    assert services.trees.current(TREE).version == 1


def test_the_database_refuses_a_second_published_version(services: Services) -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    with pytest.raises(IntegrityError), services.db.transaction() as session:
        session.add(
            TreeVersion(
                tree_id=TREE,
                version=2,
                status="published",
                document=default_document(),
                revision=1,
                created_at=now,
                created_by="test",
                updated_at=now,
                updated_by="test",
            )
        )
    assert _statuses(services) == {1: "published"}


@pytest.mark.parametrize(
    ("how", "version", "message"),
    [
        ("publish", 1, "tree 'incident' version 1 is published, not a draft"),
        ("rollback", 2, "tree 'incident' version 2 is draft: only a version published before"),
        ("publish", 9, "tree 'incident' has no version 9"),
    ],
)
def test_publish_and_rollback_refuse_the_wrong_version(
    services: Services, how: str, version: int, message: str
) -> None:
    draft(services, changed(relabel_report_fr))
    change = publish if how == "publish" else rollback
    with pytest.raises(operations.TreeVersionError, match=message):
        change(services, version)
    assert _statuses(services) == {1: "published", 2: "draft"}


def test_a_draft_with_errors_is_saved_but_not_published(services: Services) -> None:
    def too_long(document: Document) -> None:
        option(document, "sub_labour", "labour.forced")["label"]["en"] = "Forced " * 30

    version = draft(services, changed(too_long))
    with pytest.raises(operations.HasErrors) as raised:
        publish(services, version)
    assert raised.value.problems == [
        Problem(
            codes.SCREEN_TOO_LONG,
            "screen does not fit in 160 characters (page 2)",
            "sub_labour",
            language="en",
        )
    ]
    assert _statuses(services) == {1: "published", 2: "draft"}


# Saving drafts ----------------------------------------------------------------------------


def test_a_stale_save_is_refused_and_the_first_save_kept(services: Services) -> None:
    with services.db.transaction() as session:
        started = operations.draft_from(session, TREE, 1, by="ana", now=services.clock.now())
        version = started.version
        assert (version, started.revision, started.note) == (2, 1, "from version 1")
        assert started.document == default_document()
    first = changed(relabel_report_fr)
    second = changed(lambda d: option(d, "main", "report")["label"].update(en="Report"))
    now = services.clock.now()
    with services.db.transaction() as session:
        row = operations.save_draft(session, TREE, version, first, 1, by="ana", now=now)
        assert row.revision == 2
    with pytest.raises(operations.StaleRevision) as raised:
        with services.db.transaction() as session:
            operations.save_draft(session, TREE, version, second, 1, by="ben", now=now)
    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert "saved by someone else since you loaded it" in str(raised.value)
    with services.db.session() as session:
        stored = queries.tree_version(session, TREE, version)
        assert stored is not None
        assert (stored.document, stored.revision, stored.updated_by) == (first, 2, "ana")


def test_only_a_draft_can_be_saved(services: Services) -> None:
    with pytest.raises(operations.WrongStatus, match="version 1 is published: only a draft"):
        with services.db.transaction() as session:
            operations.save_draft(
                session, TREE, 1, default_document(), 1, by="ana", now=services.clock.now()
            )


# Stable codes -------------------------------------------------------------------------------


def _judge(services: Services, document: Document) -> list[Problem]:
    with services.db.session() as session:
        return queries.judge_document(session, services.checker, TREE, 2, document).errors


def test_a_code_with_reports_cannot_be_removed_or_moved(
    client: FlaskClient, services: Services
) -> None:
    def remove_collapse(document: Document) -> None:
        node(document, "sub_accident")["options"].pop(0)

    def move_collapse(document: Document) -> None:
        moved = node(document, "sub_accident")["options"].pop(0)
        node(document, "sub_violence")["options"].insert(0, moved)

    assert _judge(services, changed(remove_collapse)) == []  # no report carries it yet
    _file_a_collapse(client, services)
    assert _judge(services, changed(remove_collapse)) == [
        Problem(
            codes.CODE_REMOVED,
            "code 'accident.collapse' has reports and cannot be removed: "
            "retire its option instead (retired: true)",
            option="accident.collapse",
        )
    ]
    assert _judge(services, changed(move_collapse)) == [
        Problem(
            codes.CODE_REUSED,
            "code 'accident.collapse' has reports under 'accident'; "
            "it cannot move under 'violence'",
            "sub_violence",
            "accident.collapse",
        )
    ]


def test_a_retired_code_is_not_offered_but_old_reports_keep_it(
    client: FlaskClient, services: Services
) -> None:
    old = _file_a_collapse(client, services)

    def retire_collapse(document: Document) -> None:
        option(document, "sub_accident", "accident.collapse")["retired"] = True

    assert publish_document(services, changed(retire_collapse)) == 2
    tree = services.trees.current(TREE)
    offered = [o.value for o in tree.node("sub_accident").options]
    assert "accident.collapse" not in offered
    defined, _ = codes_of(tree)
    assert defined["accident.collapse"].retired  # still known, with its labels

    phone = Phone(client, "ATUid_retired", number="+243990000402")
    phone.dial()
    screen = phone.send("2", "1", "1")  # French, report, accident
    assert screen.startswith("CON Accident : quel type ?\n1 Puits inondé\n")
    with services.db.session() as session:
        again = session.get(Report, old.id)
    assert again is not None and again.subcategory == "accident.collapse"
    assert again.tree_version == 1


# Another process ----------------------------------------------------------------------------


def test_another_app_instance_sees_a_publish_within_seconds(
    backend: Backend, tmp_path: Path, services: Services
) -> None:
    prefix = services.sessions.prefix
    with built_app(backend, tmp_path / "other", redis_prefix=prefix) as other_app:
        other: Services = other_app.extensions[EXTENSION_KEY]
        assert other.trees.current(TREE).version == 1
        version = draft(services, changed(relabel_report_fr))
        publish(services, version)
        published_at = time.monotonic()
        while other.trees.current(TREE).version != version:
            assert time.monotonic() - published_at < 3, "the other instance never saw it"
            time.sleep(0.01)
        seen_after = time.monotonic() - published_at
    assert seen_after <= other.trees.check_every + 0.5


def test_a_version_too_long_for_a_stricter_process_never_serves_there(
    backend: Backend, tmp_path: Path, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Published where the limit is 160, refused where a network's limit is 140: the stricter
    process keeps serving version 1, and one starting afterwards refuses to start."""
    strict = {"redis_prefix": services.sessions.prefix, "ussd": {"network_limits": {"63902": 140}}}

    def long_label(document: Document) -> None:
        option(document, "category", "other")["label"]["en"] = "Other: " + "o" * 120

    with built_app(backend, tmp_path / "strict", **strict) as strict_app:
        running: Services = strict_app.extensions[EXTENSION_KEY]
        publish_document(services, changed(long_label))
        assert services.trees.current(TREE).version == 2
        running.trees.refresh(force=True)
        assert running.trees.current(TREE).version == 1
        assert "version 2 is published but cannot serve here; still serving 1" in caplog.text
    # Start-up refuses (StartupError: the hosts show it without a traceback), the tree says why.
    with pytest.raises(StartupError, match=r"incident version 2 is invalid") as raised:
        make_app(backend, tmp_path / "later", **strict)
    assert isinstance(raised.value.__cause__, TreeError)
    assert "screen does not fit in 140 characters" in str(raised.value)


def _unreachable_database() -> str:
    """A PostgreSQL URL where nothing listens: every connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere"


def test_a_process_started_without_the_database_serves_the_trees_others_serve(
    backend: Backend,
    tmp_path: Path,
    client: FlaskClient,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The published versions come from the copy every process keeps in Redis: the current one
    (here version 2, not the seed file), and a live session's pinned one; hops that need no
    database are served, the confirmation says "try again" until the database is back."""
    prefix = services.sessions.prefix
    on_v1 = Phone(client, "ATUid_pinned_v1")
    on_v1.dial()
    on_v1.send(*TO_CONFIRM_FR[:4])  # French, report, accident, collapse: pinned to version 1
    publish(services, draft(services, changed(relabel_report_fr)))
    assert services.trees.current(TREE).version == 2
    with built_app(
        backend, tmp_path / "cut off", redis_prefix=prefix, database_url=_unreachable_database()
    ) as cut_off:
        trees: Services = cut_off.extensions[EXTENSION_KEY]
        assert trees.trees.current(TREE).version == 2
        # The live session goes on there, on its version, up to the confirmation.
        on_v1.client = cut_off.test_client()
        assert on_v1.send(*TO_CONFIRM_FR[4:]).startswith("CON ")
        assert on_v1.send("1").startswith("CON Désolé, nous n'avons pas pu enregistrer.")
        # A phone whose language Redis remembers starts a new session, on version 2.
        again = Phone(cut_off.test_client(), "ATUid_new_session_v2")
        assert "1 Signaler un fait" in again.dial()
        assert "serving the copy kept in Redis" in caplog.text
    # Back where the database answers, the same "1" stores the report.
    on_v1.client = client
    assert on_v1.send("1").startswith("END Merci !")
    with services.db.session() as session:
        (report,) = session.scalars(select(Report))
    assert report.tree_version == 1
