"""Keyword folding and matching (menus/sms/words.py), table by table."""

from __future__ import annotations

import pytest

from menus.sms.words import Keyword, Vocabulary, after_word, compact, fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Arrêt", "ARRET"),
        ("ripoti", "RIPOTI"),
        ("Éboulement à Kamituga", "EBOULEMENT A KAMITUGA"),
        ("ﬁn", "FIN"),  # a ligature decomposes (NFKD)
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "compacted"),
    [
        (" k u-fatilia! ", "KUFATILIA"),
        ("Arrêt.", "ARRET"),
        ("RIPOTI 1*2", "RIPOTI12"),
        ("***", ""),
    ],
)
def test_compact(text: str, compacted: str) -> None:
    assert compact(text) == compacted


@pytest.mark.parametrize(
    ("text", "word", "rest"),
    [
        ("RIPOTI", "RIPOTI", ""),
        ("ripoti 1 1 1", "RIPOTI", " 1 1 1"),
        ("Ri-po ti*1", "RIPOTI", "*1"),
        ("  ripoti", "RIPOTI", ""),
        ("RIPOTI1", "RIPOTI", "1"),  # digits after the word are answers
        ("REPORTING", "REPORT", ""),  # letters after the word are part of it, not answers
        ("RIPOT", "RIPOTI", None),  # too short
        ("Habari", "RIPOTI", None),
        ("1 RIPOTI", "RIPOTI", None),  # the word must come first
        ("", "RIPOTI", None),
    ],
)
def test_after_word(text: str, word: str, rest: str | None) -> None:
    assert after_word(text, word) == rest


def vocabulary() -> Vocabulary:
    return Vocabulary.build(
        keywords={"": ["Kufatilia"], "sw": ["RIPOTI"], "fr": ["ALERTE"], "en": ["report"]},
        tree_keywords=[
            ("incident", {"sw": ["RIPOTI", "TUKIO"], "fr": ["SIGNALER"], "en": ["REPORT"]}),
            ("water", {"fr": ["Alerte eau", "ALERTE"]}),
        ],
        default_tree="incident",
        languages=("sw", "fr", "en", "ln"),
        stop_words={"sw": ["ACHA"], "fr": ["ARRÊT"], "en": ["STOP", "end"]},
        help_words={"sw": ["MSAADA"], "": ["?"]},
    )


def test_a_vocabulary_is_built_from_plain_data() -> None:
    words = vocabulary()
    assert {k.word: (k.tree_id, k.language) for k in words.keywords} == {
        "KUFATILIA": ("incident", None),
        "RIPOTI": ("incident", "sw"),  # configured and in the tree: configured wins
        "ALERTE": ("incident", "fr"),  # configured wins over the water tree's own
        "REPORT": ("incident", "en"),
        "TUKIO": ("incident", "sw"),
        "SIGNALER": ("incident", "fr"),
        "ALERTEEAU": ("water", "fr"),
    }
    # Longest first, so that the most specific word wins.
    assert [len(k.word) for k in words.keywords] == sorted(
        (len(k.word) for k in words.keywords), reverse=True
    )
    assert words.stop == {"ACHA": "sw", "ARRET": "fr", "STOP": "en", "END": "en"}
    assert words.help == {"MSAADA": "sw", "": None}


@pytest.mark.parametrize(
    ("language", "keyword", "stop"),
    [
        ("sw", "RIPOTI", "ACHA"),
        ("fr", "ALERTE", "ARRÊT"),
        ("en", "REPORT", "STOP"),
        ("ln", "KUFATILIA", "STOP"),  # no keyword of its own: the language-neutral one
        (None, "KUFATILIA", "STOP"),
    ],
)
def test_the_words_shown_to_reporters(language: str | None, keyword: str, stop: str) -> None:
    words = vocabulary()
    assert words.shown_keyword(language) == keyword
    assert words.shown_stop(language) == stop


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("ripoti 1 2", (Keyword("RIPOTI", "incident", "sw"), " 1 2")),
        ("Alerte eau 2", (Keyword("ALERTEEAU", "water", "fr"), " 2")),  # the longer word wins
        ("Alerte 2", (Keyword("ALERTE", "incident", "fr"), " 2")),
        ("kufatilia", (Keyword("KUFATILIA", "incident", None), "")),
        ("Habari", None),
    ],
)
def test_keyword_matching(text: str, found: tuple[Keyword, str] | None) -> None:
    assert vocabulary().keyword(text) == found
