"""Phone numbers: one E.164 form per phone, then a keyed hash to recognise it and an encrypted
copy to reply.

A phone must have exactly one form before it is hashed: ``0812345678``, ``243812345678`` and
``+243 81 234 5678`` are one reporter, and a hash of each would make three. ``normalise`` parses
with Google's numbering plans (``phonenumbers``) in the region a national number belongs to, and
refuses what is not a valid number there (too short, an unknown prefix, letters).

Both keys derive from the one ``PHONE_KEY`` secret with HKDF, each for its own purpose. The clear
number exists only in memory while a request is handled; ``mask`` is what logs and screens show.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# What a gateway may send: digits, one leading "+", and the punctuation people write numbers with.
# phonenumbers alone would read "+243 81 234 5678 x" as a number with an extension, or skip "++".
_WRITTEN = re.compile(r"^\(?\+?[\d\s().-]+$")


class InvalidPhoneNumber(ValueError):
    pass


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kufatilia", info=purpose).derive(
        secret.encode("utf-8")
    )


def normalise(raw: str, region: str) -> str:
    """The E.164 form (``+243812345678``) of what a gateway sends, or ``InvalidPhoneNumber``.

    ``region`` (``CD``) is where a number without its country code belongs (``0812345678``).
    Validity, not only length: DRC's plan has 7-digit numbers, so a length check would still take
    a truncated mobile number for a phone of its own.
    """
    text = (raw or "").strip()
    if not _WRITTEN.match(text):
        raise InvalidPhoneNumber("not a valid phone number")
    # A national reading first; then, for a gateway that drops the "+" (254739495441), the
    # international one. A number valid in the region always keeps its national reading.
    readings: list[tuple[str, str | None]] = [(text, region)]
    if text[:1].isdigit() and text[:1] != "0":
        readings.append(("+" + text, None))
    for candidate, in_region in readings:
        try:
            number = phonenumbers.parse(candidate, in_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneNumber("not a valid phone number")


def is_region(code: str) -> bool:
    """Whether ``code`` names a region whose numbering plan we know (``CD``, ``KE``)."""
    return code in phonenumbers.SUPPORTED_REGIONS


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
