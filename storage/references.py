"""Report references: seven digits, random, the last a Damm check digit.

Digits are what a feature phone types fastest. Random rather than sequential, so a reference says
nothing about how many reports exist or who sent the one before. The check digit itself is pure
(``menus.references``): the engine checks a typed reference with it before anything is looked up.
"""

from __future__ import annotations

import random
import secrets

from menus.references import LENGTH, check_digit, is_valid

__all__ = ["LENGTH", "check_digit", "generate", "is_valid"]


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
