"""Keywords, stop words and help words: folding a message and matching it against them.

Reporters type on keypads, in three languages, with or without accents and spaces, so words
are compared "compacted": upper case, accents dropped, only letters and digits kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..names import compact, fold

__all__ = ["Keyword", "Vocabulary", "WordLists", "after_word", "compact", "fold"]

WordLists = Mapping[str, Iterable[str]]  # language ("" for none) -> words


def after_word(text: str, word: str) -> str | None:
    """What follows ``word`` (compacted) at the start of ``text``, or None if it does not start so.

    Case, accents, spaces and punctuation inside or before the word do not matter. When the word
    runs on into more letters (``REPORTING``) the rest is part of it, not answers.
    """
    need = word
    for index, ch in enumerate(text):
        if not need:
            rest = text[index:]
            return "" if rest[:1].isalpha() else rest
        folded = compact(ch)
        if not folded:
            continue
        if not need.startswith(folded):
            return None
        need = need[len(folded) :]
    return "" if not need else None


@dataclass(frozen=True)
class Keyword:
    word: str  # compacted
    tree_id: str
    language: str | None  # None: ask the language (or use the phone's remembered one)


def _language(code: str) -> str | None:
    return str(code) or None


def _table(lists: WordLists) -> tuple[dict[str, str | None], dict[str, str]]:
    """(compacted word -> its language, language -> the first word as shown to reporters)."""
    table: dict[str, str | None] = {}
    first: dict[str, str] = {}
    for lang, words in lists.items():
        for raw in words or ():
            table.setdefault(compact(str(raw)), _language(lang))
            first.setdefault(str(lang), str(raw).upper())
    return table, first


@dataclass(frozen=True)
class Vocabulary:
    """The words SMS understands outside the menus."""

    keywords: tuple[Keyword, ...]  # longest first, so that the most specific word wins
    stop: dict[str, str | None]  # compacted word -> its language
    help: dict[str, str | None]
    shown: dict[str, str]  # language -> the keyword our texts tell reporters to send
    stop_shown: dict[str, str]

    @classmethod
    def build(
        cls,
        *,
        keywords: WordLists,
        tree_keywords: Iterable[tuple[str, WordLists]],
        default_tree: str,
        languages: Iterable[str],
        stop_words: WordLists,
        help_words: WordLists,
    ) -> Vocabulary:
        """``keywords`` (configured) start ``default_tree`` and win over a tree's own
        ``tree_keywords`` for the same word; every one of ``languages`` gets a keyword to show,
        the language-neutral one when none is its own."""
        found: dict[str, Keyword] = {}
        shown: dict[str, str] = {}

        def add(words: Iterable[str], tree_id: str, lang: str | None) -> None:
            for raw in words:
                word = compact(str(raw))
                if word and word not in found:
                    found[word] = Keyword(word, tree_id, lang)
                    if lang and lang not in shown:
                        shown[lang] = str(raw).upper()

        for lang, words in keywords.items():
            add(words or (), default_tree, _language(lang))
        for tree_id, lists in tree_keywords:
            for lang, words in lists.items():
                add(words, tree_id, _language(lang))
        neutral = next((k.word for k in found.values() if k.language is None), "KUFATILIA")
        for lang in languages:
            shown.setdefault(lang, neutral)
        stop, stop_shown = _table(stop_words)
        help_table, _shown = _table(help_words)
        ordered = tuple(sorted(found.values(), key=lambda k: -len(k.word)))
        return cls(ordered, stop, help_table, shown, stop_shown)

    def keyword(self, text: str) -> tuple[Keyword, str] | None:
        """The keyword ``text`` starts with, and the rest of the text after it."""
        for keyword in self.keywords:
            rest = after_word(text, keyword.word)
            if rest is not None:
                return keyword, rest
        return None

    def shown_keyword(self, language: str | None) -> str:
        return self.shown.get(language or "", "KUFATILIA")

    def shown_stop(self, language: str | None) -> str:
        return self.stop_shown.get(language or "", "STOP")
