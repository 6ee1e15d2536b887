"""What SMS says outside the menus, in the reporter's language: how to start, help, expiry."""

from __future__ import annotations

from dataclasses import dataclass

from .. import gsm
from ..i18n import N_, Catalog
from .words import Vocabulary

MSG_START = N_("Text {keyword} to report an incident at a mine.")
MSG_HELP = N_("Reply with the number of your choice. 0 back, 00 start again, {stop} to cancel.")
MSG_EXPIRED = N_(
    "Your unfinished report has expired. Nothing was sent. Text {keyword} to start again."
)
MSG_NOTHING_TO_STOP = N_("You have no report in progress.")


@dataclass(frozen=True)
class SmsTexts:
    catalog: Catalog
    words: Vocabulary
    languages: tuple[str, ...]  # the default tree's: a welcome is written in each of them

    def start_line(self, lang: str | None) -> str:
        text = self.catalog.gettext(lang, MSG_START)
        return text.replace("{keyword}", self.words.shown_keyword(lang))

    def welcome(self) -> str:
        """Outside any conversation, language unknown: how to start one, in every language."""
        return "\n".join(self.start_line(lang) for lang in self.languages)

    def help(self, lang: str | None) -> str:
        return self.catalog.gettext(lang, MSG_HELP).replace("{stop}", self.words.shown_stop(lang))

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
