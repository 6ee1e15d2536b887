"""What an incoming SMS leads to, decided from its words and what we know of the conversation.

One typed variant per outcome, so that the service handles each explicitly (``match``) and
tests can compare decisions as values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .words import Keyword, Vocabulary, compact

# A message reads as a report in its own words when it has at least this many words with letters
# and this many letters: "askari wanatoza kodi" does, "Habari" or "ok asante" does not.
REPORT_WORDS = 3
REPORT_LETTERS = 15
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Start:
    """A keyword: open a new conversation on its tree, and apply any answers after it."""

    keyword: Keyword
    rest: str


@dataclass(frozen=True)
class Answer:
    """Answers to the open conversation's current question (and maybe the next ones)."""

    text: str


@dataclass(frozen=True)
class Help:
    """A help word: explain the numbers; repeat the current question if one is open."""

    language: str | None  # the help word's own language


@dataclass(frozen=True)
class Stop:
    """A stop word: cancel the open conversation, or say there is none."""

    language: str | None  # the stop word's own language


@dataclass(frozen=True)
class Expired:
    """A reply to a conversation that has expired: say so, in its language."""


@dataclass(frozen=True)
class FreeText:
    """Text outside a conversation that reads as a report in the reporter's own words: keep it
    as a report for the organisations to read and classify, then offer the menu."""

    text: str


@dataclass(frozen=True)
class Welcome:
    """Any other text outside a conversation: how to start one."""


Decision = Start | Answer | Help | Stop | Expired | FreeText | Welcome


def reads_as_report(text: str) -> bool:
    """Whether ``text`` is more than a greeting: enough words and letters to be worth a report."""
    words = _WORD.findall(text)
    return len(words) >= REPORT_WORDS and sum(len(w) for w in words) >= REPORT_LETTERS


def decide(
    text: str, words: Vocabulary, *, open: bool, at_free_text: bool, expired: bool
) -> Decision:
    """``open``: a conversation is waiting for an answer; ``at_free_text``: its question takes
    typed text; ``expired``: the phone had a conversation here that has expired."""
    word = compact(text)
    if word in words.stop:
        return Stop(words.stop[word])
    if word in words.help:
        return Help(words.help[word])
    found = words.keyword(text)
    if found is not None and open and at_free_text and word != found[0].word:
        found = None  # "Ripoti ya ajali..." typed as a description is a description
    if found is not None:
        return Start(*found)
    if open:
        return Answer(text)
    if reads_as_report(text):
        return FreeText(text.strip())  # what it says matters more than an expired conversation
    if expired:
        return Expired()
    return Welcome()
