"""Password hashing (argon2id) and generated passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .config import WebSettings

TOKEN_PREFIX = "kuf_"


def hasher(web: WebSettings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=web.argon2.time_cost,
        memory_cost=web.argon2.memory_kib,
        parallelism=web.argon2.parallelism,
    )


def verify(ph: PasswordHasher, password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches. With no hash (unknown e-mail) a dummy is verified all the same,
    so that the answer takes as long and tells nobody which addresses have an account."""
    try:
        return ph.verify(password_hash or _dummy_hash(ph), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


_DUMMIES: dict[tuple[int, int, int], str] = {}


def _dummy_hash(ph: PasswordHasher) -> str:
    key = (ph.time_cost, ph.memory_cost, ph.parallelism)
    if key not in _DUMMIES:
        _DUMMIES[key] = ph.hash(secrets.token_urlsafe(16))
    return _DUMMIES[key]


def generate_password() -> str:
    """16 URL-safe characters (96 bits): typed once, then changed by its owner."""
    return secrets.token_urlsafe(12)


def new_api_token() -> tuple[str, str, str]:
    """(token, its SHA-256 hex, a short prefix to recognise it). Only the hash is stored: a
    token is 256 random bits, so a fast hash is enough (unlike a password)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_token(token), token[: len(TOKEN_PREFIX) + 6]


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
