"""Typed names on a list: a reporter may type "Walikale", "sud kivu" or "jana" instead of a number.

Reporters type on keypads, in three languages, with or without accents, hyphens and spaces, and
make typos, so names are compared as *keys*: upper case, accents dropped, letters and digits only
(``Sud-Kivu`` and ``sud kivu`` are both ``SUDKIVU``). A label answers to its whole key and to each
of its words, so "kivu" finds both Kivus and "semaine" finds "Cette semaine".

Keys are computed once per compiled tree and per data set (``Option.names``, ``Item.names``),
never per request: a USSD hop has about a second of our own time, and lists have dozens of items.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# One typo only in a key at least this long: with three letters, one typo turns "leo" into "ileo"
# and "na" into "ya"; short words must be typed exactly.
MIN_TYPO_LENGTH = 4
# A prefix shorter than this matches too much ("ka" starts half the territoires of Sud-Kivu).
MIN_PREFIX_LENGTH = 3
# Words shorter than this ("na", "au", "ou", "de") are glue, not names.
MIN_WORD_LENGTH = 3


def fold(text: str) -> str:
    """Upper case without accents: ``Arrêt`` -> ``ARRET``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()


def compact(text: str) -> str:
    """Folded letters and digits only: ``" k u-fatilia! "`` -> ``KUFATILIA``."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


def _words(text: str) -> list[str]:
    word: list[str] = []
    found: list[str] = []
    for ch in fold(text):
        if ch.isalnum():
            word.append(ch)
        elif word:
            found.append("".join(word))
            word = []
    if word:
        found.append("".join(word))
    return found


@dataclass(frozen=True)
class Names:
    """The keys a label answers to: the whole label, and each of its words."""

    whole: tuple[str, ...]  # one per distinct label (an option has one per language)
    words: tuple[str, ...]

    @classmethod
    def of(cls, labels: Iterable[str]) -> Names:
        whole: list[str] = []
        words: list[str] = []
        for label in labels:
            key = compact(label)
            if key and key not in whole:
                whole.append(key)
            for word in _words(label):
                if len(word) >= MIN_WORD_LENGTH and word not in words and word != key:
                    words.append(word)
        return cls(tuple(whole), tuple(words))


def is_name(text: str) -> bool:
    """Whether a typed answer reads as a name rather than a number or a slip (it has a letter)."""
    return any(ch.isalpha() for ch in text)


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one insertion, deletion, substitution or swap
    of neighbours (the optimal string alignment distance is at most one)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    start = 0
    while start < min(la, lb) and a[start] == b[start]:
        start += 1
    if la == lb:
        if a[start + 1 :] == b[start + 1 :]:
            return True  # one substitution
        return (
            start + 1 < la
            and a[start] == b[start + 1]
            and a[start + 1] == b[start]
            and a[start + 2 :] == b[start + 2 :]
        )
    if la > lb:
        return a[start + 1 :] == b[start:]
    return a[start:] == b[start + 1 :]


def _close(typed: str, key: str) -> bool:
    if typed == key:
        return True
    if len(typed) >= MIN_PREFIX_LENGTH and key.startswith(typed):
        return True
    return len(typed) >= MIN_TYPO_LENGTH and _one_edit(typed, key)


@dataclass(frozen=True)
class Match:
    """What a typed name picked: ``exact`` positions equal a whole label; ``close`` ones are near
    a label or one of its words (a prefix, or one typo)."""

    exact: tuple[int, ...]
    close: tuple[int, ...]

    @property
    def found(self) -> tuple[int, ...]:
        """A single exact match wins over close ones ("Beni" beside "Benin"); else all close."""
        if len(self.exact) == 1:
            return self.exact
        return self.close


def match(typed: str, candidates: Sequence[Names | None]) -> Match:
    """Positions in ``candidates`` that ``typed`` names. ``None`` is a candidate that never matches
    (an option that must be chosen by its number, such as "send")."""
    key = compact(typed)
    exact: list[int] = []
    close: list[int] = []
    if not key:
        return Match((), ())
    for index, names in enumerate(candidates):
        if names is None:
            continue
        if key in names.whole:
            exact.append(index)
            close.append(index)
        elif any(_close(key, whole) for whole in names.whole) or any(
            _close(key, word) for word in names.words
        ):
            close.append(index)
    return Match(tuple(exact), tuple(close))
