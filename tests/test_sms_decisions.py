"""What an incoming SMS leads to (menus/sms/decisions.py): one typed decision per case."""

from __future__ import annotations

import pytest

from menus.sms.decisions import (
    Answer,
    Decision,
    Expired,
    FreeText,
    Help,
    Start,
    Stop,
    Welcome,
    decide,
)
from menus.sms.words import Keyword, Vocabulary

WORDS = Vocabulary.build(
    keywords={"": ["KUFATILIA"], "sw": ["RIPOTI"], "en": ["REPORT"]},
    tree_keywords=[],
    default_tree="incident",
    languages=("sw", "en"),
    stop_words={"sw": ["ACHA"], "en": ["STOP"]},
    help_words={"sw": ["MSAADA"], "en": ["HELP"]},
)
RIPOTI = Keyword("RIPOTI", "incident", "sw")
NOTHING, OPEN, AT_TEXT, EXPIRED = (
    {"open": False, "at_free_text": False, "expired": False},
    {"open": True, "at_free_text": False, "expired": False},
    {"open": True, "at_free_text": True, "expired": False},
    {"open": False, "at_free_text": False, "expired": True},
)


@pytest.mark.parametrize(
    ("text", "known", "decision"),
    [
        ("Habari", NOTHING, Welcome()),
        ("", NOTHING, Welcome()),
        ("Habari", EXPIRED, Expired()),
        ("ripoti", NOTHING, Start(RIPOTI, "")),
        ("RIPOTI 1 1", EXPIRED, Start(RIPOTI, " 1 1")),
        ("Ripoti", OPEN, Start(RIPOTI, "")),  # a keyword inside a conversation starts afresh
        ("Ripoti", AT_TEXT, Start(RIPOTI, "")),  # the keyword alone, even at a typed question
        # ...but a description that starts with the word is a description.
        ("Ripoti ya ajali", AT_TEXT, Answer("Ripoti ya ajali")),
        ("Ripoti 2", OPEN, Start(RIPOTI, " 2")),
        ("2", OPEN, Answer("2")),
        ("1 1 1", AT_TEXT, Answer("1 1 1")),
        ("stop", OPEN, Stop("en")),
        ("A c h a", NOTHING, Stop("sw")),  # the whole message is the word, spelt any way
        ("STOP it", OPEN, Answer("STOP it")),  # not the whole message: an answer
        ("msaada", OPEN, Help("sw")),
        ("Help!", NOTHING, Help("en")),
        ("Help me", NOTHING, Welcome()),
        # Issue 9: words that read as a report are kept as one, even after an expiry.
        ("askari wanatoza kodi kila siku", NOTHING, FreeText("askari wanatoza kodi kila siku")),
        (" Please help us now ", EXPIRED, FreeText("Please help us now")),
        ("ok asante sana", NOTHING, Welcome()),  # three words, too few letters
        ("askari wanatoza kodi", OPEN, Answer("askari wanatoza kodi")),  # inside: an answer
    ],
)
def test_decide(text: str, known: dict[str, bool], decision: Decision) -> None:
    assert decide(text, WORDS, **known) == decision
