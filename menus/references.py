"""Report references as a reporter types them back: seven digits, the last a Damm check digit.

Pure, so that the engine can tell a mistyped reference from a wrong one without asking anybody:
the Damm digit catches every single-digit typo and every swap of two adjacent digits. Drawing
new references is storage's job (``storage.references``).
"""

from __future__ import annotations

import re

LENGTH = 7

# The Damm algorithm's quasigroup table (order 10, weakly totally anti-symmetric).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
# What people put between digits when they copy a number: "123 4567", "123-4567", "123.4567".
_SEPARATORS = re.compile(r"[\s.\-*/]+")


def check_digit(digits: str) -> str:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def is_valid(reference: str) -> bool:
    reference = reference.strip()
    return (
        len(reference) == LENGTH
        and reference.isascii()
        and reference.isdigit()
        and check_digit(reference) == "0"
    )


def typed(text: str) -> str:
    """A reference as typed, without the separators a reporter may have put in it."""
    return _SEPARATORS.sub("", text.strip())
