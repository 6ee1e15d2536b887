"""Live conversations keep the tree version they started on; new ones get the published version.

Version 2 relabels the main menu's first option in French ("Signaler un fait"), so every screen
says which version a conversation is on.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from menus.codes import code_labels
from services import Services
from storage.models import Report

from .phone import TO_CONFIRM_FR, Phone
from .sms_support import Conversation
from .trees_support import (
    TREE,
    default_document,
    option,
    publish_document,
    relabel_report_fr,
    rollback,
)
from .trees_support import changed as changed_tree

V1_LABEL, V2_LABEL = "1 Signaler un incident\n", "1 Signaler un fait\n"


def _reports(services: Services) -> dict[str, int]:
    """Report reference -> the tree version it was filed on."""
    with services.db.session() as session:
        return {r.reference: r.tree_version for r in session.scalars(select(Report))}


def _reference(end_screen: str) -> str:
    return next(word.strip(".") for word in end_screen.split() if word.strip(".").isdigit())


def test_a_ussd_session_finishes_on_the_version_it_started_on(
    client: FlaskClient, services: Services
) -> None:
    before = Phone(client, "ATUid_pin_v1", number="+243990000301")
    before.dial()
    assert V1_LABEL in before.send("2")  # French: the main menu of version 1

    assert publish_document(services, changed_tree(relabel_report_fr)) == 2
    assert services.trees.current(TREE).version == 2

    # Back to the main menu, then on to the end: still version 1's screens.
    assert V1_LABEL in before.send("0", "2")
    before.send(*TO_CONFIRM_FR[1:])
    end_v1 = before.send("1")
    assert end_v1.startswith("END Merci !")

    after = Phone(client, "ATUid_pin_v2", number="+243990000302")
    after.dial()
    assert V2_LABEL in after.send("2")
    after.send(*TO_CONFIRM_FR[1:])
    end_v2 = after.send("1")

    assert _reports(services) == {_reference(end_v1): 1, _reference(end_v2): 2}


def test_a_rollback_serves_the_earlier_version_to_new_sessions_only(
    client: FlaskClient, services: Services
) -> None:
    publish_document(services, changed_tree(relabel_report_fr))
    during = Phone(client, "ATUid_pin_during", number="+243990000303")
    during.dial()
    assert V2_LABEL in during.send("2")

    rollback(services, 1)
    assert services.trees.current(TREE).version == 1

    assert V2_LABEL in during.send("0", "2")  # the live session stays on version 2
    fresh = Phone(client, "ATUid_pin_after", number="+243990000304")
    fresh.dial()
    assert V1_LABEL in fresh.send("2")


def test_an_sms_conversation_finishes_on_the_version_it_started_on(
    client: FlaskClient, services: Services
) -> None:
    before = Conversation(client, services, phone="+243990000311")
    assert V1_LABEL in before.send("ALERTE") + "\n"

    publish_document(services, changed_tree(relabel_report_fr))

    assert before.send("1").startswith("Que s'est-il passé ?")
    for answer in TO_CONFIRM_FR[2:]:
        before.send(answer)
    end_v1 = before.send("1")

    after = Conversation(client, services, phone="+243990000312")
    assert V2_LABEL in after.send("ALERTE") + "\n"
    for answer in TO_CONFIRM_FR[1:]:
        after.send(answer)
    end_v2 = after.send("1")

    assert _reports(services) == {_reference(end_v1): 1, _reference(end_v2): 2}


def test_sms_keywords_follow_the_published_version(client: FlaskClient, services: Services) -> None:
    """A new keyword in version 2 works at once in this process, without a restart."""
    conversation = Conversation(client, services, phone="+243990000313")
    assert "ALERTE" in conversation.send("SIGNALEMENT")  # not a keyword yet: the hint

    def add_keyword(document: dict[str, object]) -> None:
        relabel_report_fr(document)
        keywords = document["keywords"]
        assert isinstance(keywords, dict)
        keywords["fr"] = [*keywords["fr"], "SIGNALEMENT"]

    publish_document(services, changed_tree(add_keyword))
    assert V2_LABEL in conversation.send("SIGNALEMENT") + "\n"


def test_the_default_document_is_what_version_1_serves(services: Services) -> None:
    tree = services.trees.current(TREE)
    assert tree.version == 1
    assert tree.language_names["fr"] == "Francais"  # compiled from the stored document...
    assert default_document()["language_names"]["fr"] == "Français"  # ...kept as written


def test_a_session_started_before_a_code_is_retired_may_still_file_it(
    client: FlaskClient, services: Services
) -> None:
    """Retiring "pit collapse" hides it from new conversations only: one already at the
    sub-category screen files it on version 1, and statistics still have its label."""
    before = Phone(client, "ATUid_pin_retire_v1", number="+243990000321")
    before.dial()
    assert before.send("2", "1", "1").startswith("CON Accident : quel type ?\n1 Éboulement\n")

    def retire_collapse(document: dict[str, object]) -> None:
        option(document, "sub_accident", "accident.collapse")["retired"] = True

    assert publish_document(services, changed_tree(retire_collapse)) == 2

    after = Phone(client, "ATUid_pin_retire_v2", number="+243990000322")
    after.dial()
    assert after.send("2", "1", "1").startswith("CON Accident : quel type ?\n1 Puits inondé\n")

    before.send("1", *TO_CONFIRM_FR[4:])  # pit collapse, then the rest
    end = before.send("1")
    assert end.startswith("END Merci !")
    with services.db.session() as session:
        report = session.scalars(select(Report)).one()
    assert (report.subcategory, report.tree_version) == ("accident.collapse", 1)

    current = services.trees.current(TREE)
    assert current.version == 2
    assert "accident.collapse" not in [o.value for o in current.node("sub_accident").options]
    assert code_labels(current, "fr")["accident.collapse"] == "Éboulement"
    assert code_labels(current, "en")["accident.collapse"] == "Pit collapse"
