"""Issue 9 through the channels, on both backends: a searched phone, words in the reporter's own
words, and help that reaches a person."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from services import EXTENSION_KEY, Services
from storage.models import Report

from .conftest import Backend
from .phone import built_app
from .sms_support import Conversation


def _reports(services: Services) -> list[Report]:
    with services.db.session() as session:
        return list(session.scalars(select(Report).order_by(Report.id)))


def test_words_outside_a_conversation_are_kept_for_the_organisations(
    client: FlaskClient, services: Services
) -> None:
    talk = Conversation(client, services, "+243812000121")
    reply = talk.send("Ripoti askari wanatoza kodi Nyabibwe kila siku")
    (report,) = _reports(services)
    assert (report.channel, report.language, report.category) == ("sms", "sw", None)
    assert report.details == "askari wanatoza kodi Nyabibwe kila siku"
    # Flagged for the organisations to classify: no category, and the answer says it is free text.
    assert report.answers["details"]["free_text"] is True
    assert reply.startswith(f"Asante. Ujumbe wako umehifadhiwa kama ripoti {report.reference}.")
    assert "1 Ripoti tukio" in reply  # the menu is offered
    # The menu's own report, if the reporter goes on, is another report with its own key.
    assert report.conversation_key.endswith(":text")


def test_the_sms_confirmation_names_no_category(client: FlaskClient, services: Services) -> None:
    talk = Conversation(client, services, "+243812000122")
    talk.send("REPORT 1 2 3 1 1")
    confirmation = talk.send("Bisie 1 2")
    assert confirmation.startswith("Please check:\nAru, Ituri\nToday\n1 Send")  # where, when
    for word in ("Violence", "Soldiers", "police"):
        assert word not in confirmation
    done = talk.send("1")
    assert done.endswith("Then delete these messages.")
    (report,) = _reports(services)
    assert report.subcategory == "violence.security_forces"  # stored whole all the same


def test_help_gives_the_configured_number(backend: Backend, tmp_path: Path) -> None:
    with built_app(backend, tmp_path, sms={"help_contact": "+243 970 000 111"}) as app:
        services: Services = app.extensions[EXTENSION_KEY]
        talk = Conversation(app.test_client(), services, "+243812000123")
        talk.send("ALERTE")
        reply = talk.send("AIDE")
    assert reply.split("\n")[1] == "Pour parler à une personne, appelez le +243 970 000 111."
