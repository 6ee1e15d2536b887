"""The GSM 03.38 7-bit default alphabet: membership, length, transliteration, SMS segments.

Every screen we send over USSD or SMS is rendered in this alphabet. A single character outside it
makes the operator switch the whole message to UCS-2, halving the room, so we transliterate
instead (``ê`` -> ``e``, a curly quote -> ``'``) and count the escape-table characters as two.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Basic table, in code order 0x00-0x7F (0x1B, the escape, is left out). 0x09 is listed as ç in
# Unicode's table but as Ç in ETSI's figure; handsets disagree, so neither is treated as safe.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters reached through the escape 0x1B: each costs two septets.
EXTENSION = "\f^{}\\[~]|€"

_SAFE_BASIC = frozenset(BASIC) - {"\x1b", "Ç", "ç"}
_EXTENSION = frozenset(EXTENSION)
_EXTENSION_CHARS = tuple(_EXTENSION)
_SENDABLE = _SAFE_BASIC | _EXTENSION

# Common characters outside the alphabet with the replacement a reader expects. Anything not
# listed falls back to its decomposition without accents, then to "?".
_REPLACEMENTS = {
    "ç": "c",
    "Ç": "C",
    "â": "a",
    "ê": "e",
    "ë": "e",
    "î": "i",
    "ï": "i",
    "ô": "o",
    "û": "u",
    "ÿ": "y",
    "À": "A",
    "Â": "A",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "Î": "I",
    "Ï": "I",
    "Ô": "O",
    "Ù": "U",
    "Û": "U",
    "Ÿ": "Y",
    "œ": "oe",
    "Œ": "OE",
    "á": "a",
    "í": "i",
    "ó": "o",
    "ú": "u",
    "Á": "A",
    "Í": "I",
    "Ó": "O",
    "Ú": "U",
    "ã": "a",
    "õ": "o",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "′": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "″": '"',
    "…": "...",
    "–": "-",
    "—": "-",
    "‑": "-",
    "−": "-",
    "•": "-",
    "·": ".",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2007": " ",
    "\t": " ",
    "\r": "",
}

SEGMENT_GSM = 160
SEGMENT_GSM_CONCAT = 153
SEGMENT_UCS2 = 70
SEGMENT_UCS2_CONCAT = 67


def is_gsm(text: str) -> bool:
    """True when every character is in the basic or extension table (ç/Ç excluded, see above)."""
    # One set test in C: a generator over the characters was a twentieth of a hop's engine time.
    return _SENDABLE.issuperset(text)


def length(text: str) -> int:
    """Septets the text takes in GSM-7: extension characters count two."""
    # Counted by str.count, in C: a character at a time in Python was a tenth of a USSD hop's
    # engine time (every screen is measured several times while it is laid out).
    return len(text) + sum(map(text.count, _EXTENSION_CHARS))


def _replace(ch: str) -> str:
    if ch in _SAFE_BASIC or ch in _EXTENSION:
        return ch
    if ch in _REPLACEMENTS:
        return _REPLACEMENTS[ch]
    stripped = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if stripped and all(c in _SAFE_BASIC for c in stripped):
        return stripped
    return "?"


def to_gsm(text: str) -> str:
    """Transliterate into the GSM 7-bit alphabet. Idempotent; cheap when nothing changes."""
    if is_gsm(text):
        return text
    return "".join(_replace(ch) for ch in text)


def changed_characters(text: str) -> list[str]:
    """The characters of ``text`` that transliteration would change (for editors' warnings)."""
    return sorted({ch for ch in text if _replace(ch) != ch})


def truncate(text: str, limit: int, marker: str = "..") -> str:
    """Cut a GSM-7 text to at most ``limit`` septets, marking the cut."""
    if length(text) <= limit:
        return text
    budget = max(0, limit - len(marker))
    out: list[str] = []
    used = 0
    for ch in text:
        cost = 2 if ch in _EXTENSION else 1
        if used + cost > budget:
            break
        out.append(ch)
        used += cost
    return ("".join(out).rstrip() + marker)[: max(limit, 0)] if limit > 0 else ""


@dataclass(frozen=True)
class Encoding:
    """How an SMS will travel: its alphabet, its length in that alphabet, and its segments."""

    name: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int


def sms_encoding(text: str) -> Encoding:
    if is_gsm(text):
        costs = [length(ch) for ch in text]
        single, concat, name = SEGMENT_GSM, SEGMENT_GSM_CONCAT, "GSM-7"
    else:
        # UTF-16 code units: characters beyond the BMP take two.
        costs = [len(ch.encode("utf-16-le")) // 2 for ch in text]
        single, concat, name = SEGMENT_UCS2, SEGMENT_UCS2_CONCAT, "UCS-2"
    units = sum(costs)
    return Encoding(name=name, units=units, segments=_segments(costs, units, single, concat))


def _segments(costs: list[int], units: int, single: int, concat: int) -> int:
    """Segments of a concatenated message: an escape sequence or a surrogate pair never straddles
    two segments, so a segment may close a unit short of ``concat``."""
    if units <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > concat:
            segments, used = segments + 1, 0
        used += cost
    return segments
