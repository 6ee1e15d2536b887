"""Issue 9 through the channels, on both backends: a searched phone, words in the reporter's own
words, and help that reaches a person."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from services import EXTENSION_KEY, Services
from storage.models import Report

from .conftest import Backend
from .phone import Phone, built_app
from .sms_support import Conversation, outbox_rows


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


# USSD: a lost END screen, a shared phone -----------------------------------------------------

# French, to the confirmation, with a site to look for on later screens.
TO_CONFIRM = ["2", "1", "1", "1", "1", "2", "Mongbwalu", "3", "2"]


def test_the_reference_by_sms_only_when_the_reporter_asks(
    client: FlaskClient, services: Services
) -> None:
    phone = Phone(client, "ATUid_ref_sms", number="+243812000131")
    phone.dial()
    confirm = phone.send(*TO_CONFIRM)
    assert "\n2 Envoyer + numéro par SMS\n" in confirm
    end = phone.send("2")
    (report,) = _reports(services)
    assert report.reference in end
    (sms,) = outbox_rows(services, "+243812000131")
    assert sms.text == (
        f"Kufatilia : le numéro de votre alerte est {report.reference}. Notez-le et gardez-le "
        "secret, puis effacez ce message."
    )
    # "1 Envoyer" sends no SMS.
    other = Phone(client, "ATUid_ref_none", number="+243812000132")
    other.dial()
    other.send(*TO_CONFIRM, "1")
    assert outbox_rows(services, "+243812000132") == []


def test_a_deployment_may_not_offer_the_reference_by_sms(backend: Backend, tmp_path: Path) -> None:
    with built_app(backend, tmp_path, ussd={"sms_reference": False}) as app:
        phone = Phone(app.test_client(), "ATUid_no_ref_sms", number="+243812000133")
        phone.dial()
        confirm = phone.send(*TO_CONFIRM)
    assert confirm.endswith("\n1 Envoyer\n2 Modifier\n3 Ne pas envoyer\n0 Retour")


def test_the_next_dial_hears_once_that_the_report_was_received(
    client: FlaskClient, services: Services
) -> None:
    first = Phone(client, "ATUid_lost_end", number="+243812000134")
    first.dial()
    first.send(*TO_CONFIRM, "1")  # the END screen may never reach the handset
    (report,) = _reports(services)
    again = Phone(client, "ATUid_lost_end_2", number="+243812000134").dial()
    assert again.startswith(f"CON Votre alerte {report.reference} est bien arrivée.\n")
    once = Phone(client, "ATUid_lost_end_3", number="+243812000134").dial()
    assert report.reference not in once
    assert once.startswith("CON Kufatilia: signaler un incident dans une mine.")


def test_the_resume_offer_shows_no_earlier_answer(client: FlaskClient) -> None:
    first = Phone(client, "ATUid_shared_1", number="+243812000135")
    first.dial()
    first.send(*TO_CONFIRM)  # broken off at the confirmation
    offer = Phone(client, "ATUid_shared_2", number="+243812000135").dial()
    assert offer == "CON Vous avez une alerte non terminée.\n1 Continuer\n2 Recommencer"


def test_a_deployment_for_shared_phones_turns_both_off(backend: Backend, tmp_path: Path) -> None:
    settings = {"ussd": {"resume_offer": False, "received_notice": False}}
    with built_app(backend, tmp_path, **settings) as app:
        client = app.test_client()
        first = Phone(client, "ATUid_off_1", number="+243812000136")
        first.dial()
        first.send(*TO_CONFIRM)  # broken off
        second = Phone(client, "ATUid_off_2", number="+243812000136").dial()
        assert second.startswith("CON Kufatilia: signaler un incident dans une mine.")
        finishing = Phone(client, "ATUid_off_3", number="+243812000136")
        finishing.dial()
        assert finishing.send(*TO_CONFIRM[1:], "1").startswith("END Merci !")
        after = Phone(client, "ATUid_off_4", number="+243812000136").dial()
        assert after.startswith("CON Kufatilia: signaler un incident dans une mine.")
