"""What SMS says outside the menus, in the reporter's language: how to start, help, expiry, and
the acknowledgement of a report written in the reporter's own words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import gsm
from .. import problems as codes
from ..i18n import N_, Catalog
from ..problems import Problem
from .words import Vocabulary

MSG_START = N_("Text {keyword} to report an incident at a mine.")
MSG_HELP = N_("Reply with the number of your choice. 0 back, 00 start again, {stop} to cancel.")
MSG_EXPIRED = N_(
    "Your unfinished report has expired. Nothing was sent. Text {keyword} to start again."
)
MSG_NOTHING_TO_STOP = N_("You have no report in progress.")
MSG_CONTACT = N_("To talk to a person, call {contact}.")
MSG_CONTACT_ASK = N_("To talk to a person, say so in your report: an organisation will call you.")
MSG_SAVED = N_("Thank you. Your message is saved as report {reference}. Delete it from this phone.")


@dataclass(frozen=True)
class SmsTexts:
    catalog: Catalog
    words: Vocabulary
    languages: tuple[str, ...]  # the default tree's: a welcome is written in each of them
    contact: str = ""  # ``sms.help_contact``: a number that reaches a person, if there is one

    def start_line(self, lang: str | None) -> str:
        text = self.catalog.gettext(lang, MSG_START)
        return text.replace("{keyword}", self.words.shown_keyword(lang))

    def welcome(self) -> str:
        """Outside any conversation, language unknown: how to start one, in every language."""
        return "\n".join(self.start_line(lang) for lang in self.languages)

    def help(self, lang: str | None) -> str:
        """The numbers, and how to reach a person: help words are often typed in distress."""
        numbers = self.catalog.gettext(lang, MSG_HELP).replace(
            "{stop}", self.words.shown_stop(lang)
        )
        if self.contact:
            person = self.catalog.gettext(lang, MSG_CONTACT).replace("{contact}", self.contact)
        else:
            person = self.catalog.gettext(lang, MSG_CONTACT_ASK)
        return f"{numbers}\n{person}"

    def help_outside(self, lang: str | None) -> str:
        """Help with no conversation open: the numbers, then how to start one."""
        if lang is None:
            return self.welcome()
        return f"{self.help(lang)}\n{self.start_line(lang)}"

    def expired(self, lang: str | None) -> str:
        if lang is None:
            return self.welcome()
        text = self.catalog.gettext(lang, MSG_EXPIRED)
        return text.replace("{keyword}", self.words.shown_keyword(lang))

    def saved(self, lang: str | None, reference: str) -> str:
        """A report in the reporter's own words was stored: its reference, in their language or,
        when it is unknown, in every language."""
        if lang is None:
            text = self.catalog.in_each(self.languages, MSG_SAVED)
        else:
            text = self.catalog.gettext(lang, MSG_SAVED)
        return text.replace("{reference}", reference)

    def nothing_to_stop(self, lang: str | None) -> str:
        return f"{self.catalog.gettext(lang, MSG_NOTHING_TO_STOP)} {self.start_line(lang)}"


def reply_text(question: str | None, *, prefix: str = "", text: str = "", max_length: int) -> str:
    """One SMS reply in GSM-7 within ``max_length``: ``prefix`` above the ``question`` when both
    fit (else the prefix alone, which tells how to go on), or ``text`` when there is no question."""
    if question is None:
        out = text
    elif prefix:
        out = f"{prefix}\n{question}"
        if gsm.length(gsm.to_gsm(out)) > max_length:
            out = prefix
    else:
        out = question
    return gsm.truncate(gsm.to_gsm(out), max_length)


REFERENCE_SAMPLE = "0000000"
NEUTRAL_KEYWORD = "KUFATILIA"  # sms.keywords' language-neutral word, as shipped
STOP_SAMPLE = "ARRET"  # the longest of sms.stop_words as shipped


def check_texts(
    catalog: Catalog,
    languages: tuple[str, ...],
    keywords: Iterable[str],
    max_length: int,
    contact: str = "",
) -> list[Problem]:
    """Every SMS text outside the menus fits one reply (``sms.max_length``: three segments), in
    every offered language: the welcome (one line per language, so it grows with each language
    added), help, expiry, "nothing to stop" and the acknowledgement of a report in one's own
    words. Keywords are measured at the longest the tree or the shipped settings give."""
    keyword = max([NEUTRAL_KEYWORD, *(str(k).upper() for k in keywords)], key=len)
    words = Vocabulary(
        keywords=(),
        stop={},
        help={},
        shown={lang: keyword for lang in languages},
        stop_shown={lang: STOP_SAMPLE for lang in languages},
    )
    texts = SmsTexts(catalog, words, languages, contact)
    found: list[tuple[str, str | None, str]] = [
        ("@sms_welcome", None, texts.welcome()),
        ("@sms_saved", None, texts.saved(None, REFERENCE_SAMPLE)),
    ]
    for lang in languages:
        found += [
            ("@sms_help", lang, texts.help_outside(lang)),
            ("@sms_expired", lang, texts.expired(lang)),
            ("@sms_nothing_to_stop", lang, texts.nothing_to_stop(lang)),
            ("@sms_saved", lang, texts.saved(lang, REFERENCE_SAMPLE)),
        ]
    problems: list[Problem] = []
    for node, shown_in, text in found:
        length = gsm.length(gsm.to_gsm(text))
        if length > max_length:
            problems.append(
                Problem(
                    codes.SCREEN_TOO_LONG,
                    f"SMS is {length} characters, more than sms.max_length ({max_length})",
                    node,
                    language=shown_in,
                )
            )
    return problems
