"""Report references: seven digits, random, the last a Damm check digit.

Digits are what a feature phone types fastest. Random rather than sequential, so a reference says
nothing about how many reports exist or who sent the one before. The Damm digit catches every
single-digit typo and every swap of two adjacent digits when a reporter types it back.
"""

from __future__ import annotations

import random
import secrets

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


def generate(rng: random.Random | None = None) -> str:
    """A fresh reference; the first digit is never 0, so nothing is lost when it is read as a number."""
    if rng is None:
        body = str(secrets.randbelow(9) + 1) + "".join(
            str(secrets.randbelow(10)) for _ in range(LENGTH - 2)
        )
    else:
        body = str(rng.randrange(1, 10)) + "".join(
            str(rng.randrange(10)) for _ in range(LENGTH - 2)
        )
    return body + check_digit(body)
