"""Pseudonymising phone numbers: a keyed hash to recognise a phone, an encrypted copy to reply.

Both keys derive from the one ``PHONE_KEY`` secret with HKDF, each for its own purpose. The clear
number exists only in memory while a request is handled; ``mask`` is what logs and screens show.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class InvalidPhoneNumber(ValueError):
    pass


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kufatilia", info=purpose).derive(
        secret.encode("utf-8")
    )


def normalise(raw: str, default_country_code: str = "243") -> str:
    """An E.164 number (``+243812345678``) from what a gateway sends, or ``InvalidPhoneNumber``."""
    digits = re.sub(r"[\s().-]", "", raw or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0") and len(digits) == 10:
        digits = f"+{default_country_code}{digits[1:]}"
    elif not digits.startswith("+") and digits.isdigit() and len(digits) > 9:
        digits = "+" + digits
    if not _E164.match(digits):
        raise InvalidPhoneNumber("phone number is not a valid international number")
    return digits


def mask(number: str) -> str:
    """``+243812345678`` -> ``+243******678``: enough to tell numbers apart in a log, no more."""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 7) + number[-3:]


class PhoneVault:
    def __init__(self, secret: str) -> None:
        self._hash_key = _derive(secret, b"phone-hash-v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"phone-encrypt-v1")))

    def hash(self, number: str) -> str:
        return hmac.new(self._hash_key, number.encode("ascii"), hashlib.sha256).hexdigest()

    def encrypt(self, number: str) -> str:
        return self._fernet.encrypt(number.encode("ascii")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise ValueError("this number was encrypted with another PHONE_KEY") from exc
