"""Phone numbers: normalising, keyed hashing, encryption, masking, and scrubbed logs."""

from __future__ import annotations

import logging
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logging_setup import ScrubbingFilter, scrub
from storage import phones
from storage.phones import InvalidPhoneNumber, PhoneVault

from .conftest import PHONE_KEY

OTHER_KEY = "another-phone-key-with-enough-characters-0123"
NUMBER = "+243812345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+243812345678", "+243812345678"),
        ("0812345678", "+243812345678"),  # national format: the default region
        ("812345678", "+243812345678"),  # national, without the trunk 0
        ("00243812345678", "+243812345678"),
        ("243812345678", "+243812345678"),  # a gateway that drops the "+"
        ("+2430812345678", "+243812345678"),  # the trunk 0 written after the country code
        ("+243 81 234 5678", "+243812345678"),
        ("+243-81-234-5678", "+243812345678"),
        ("(+243) 812.345.678", "+243812345678"),
        (" +243990000001 ", "+243990000001"),
        ("+254739495441", "+254739495441"),  # the AT sandbox number, kept as it is
        ("254739495441", "+254739495441"),  # another country, "+" dropped: still one phone
    ],
)
def test_normalise_to_e164(raw: str, expected: str) -> None:
    assert phones.normalise(raw, "CD") == expected


def test_every_way_of_writing_one_phone_is_one_identity() -> None:
    vault = PhoneVault(PHONE_KEY)
    forms = ["+243812345678", "0812345678", "812345678", "00243812345678", "243812345678"]
    assert len({vault.hash(phones.normalise(form, "CD")) for form in forms}) == 1


def test_normalise_reads_national_numbers_in_the_given_region() -> None:
    assert phones.normalise("0739495441", "KE") == "+254739495441"
    with pytest.raises(InvalidPhoneNumber):
        phones.normalise("0739495441", "CD")  # 73 is no DRC prefix


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "Vodacom",  # an operator's alphanumeric sender
        "+",
        "+0812345678",
        "12345",
        "081234567",  # a DRC mobile number one digit short
        "+24381234567",  # the same, international: the old check accepted it
        "+2438123456",  # seven digits after 243: the length of a DRC landline, not a valid one
        "1234567890",  # the old check made this +1234567890
        "+1234567890",
        "+243 81 234 5678 x",  # phonenumbers alone would read "x" as an extension
        "+243812345678 ext. 12",
        "+2438",
        "+2438123456789012",
        "0812345678;DROP",
        "++243812345678",
        "+243+812345678",
    ],
)
def test_junk_is_not_a_phone_number(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        phones.normalise(raw, "CD")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789+ ()-.x#*", max_size=20))
def test_normalise_gives_valid_e164_or_refuses(raw: str) -> None:
    try:
        number = phones.normalise(raw, "CD")
    except InvalidPhoneNumber:
        return
    assert re.fullmatch(r"\+[1-9]\d{6,14}", number), number
    assert phones.normalise(number, "CD") == number  # a normal form is its own normal form


def test_hash_is_keyed_and_stable() -> None:
    vault, same, other = PhoneVault(PHONE_KEY), PhoneVault(PHONE_KEY), PhoneVault(OTHER_KEY)
    digest = vault.hash(NUMBER)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert same.hash(NUMBER) == digest
    assert other.hash(NUMBER) != digest
    assert vault.hash("+243812345679") != digest
    assert NUMBER[1:] not in digest


def test_encrypt_decrypt_round_trip_and_fresh_ciphertexts() -> None:
    vault = PhoneVault(PHONE_KEY)
    first, second = vault.encrypt(NUMBER), vault.encrypt(NUMBER)
    assert first != second  # Fernet: a fresh IV each time, so ciphertexts do not link reports
    assert NUMBER[1:] not in first
    assert vault.decrypt(first) == NUMBER
    assert PhoneVault(PHONE_KEY).decrypt(second) == NUMBER


def test_decrypt_with_another_key_fails() -> None:
    token = PhoneVault(PHONE_KEY).encrypt(NUMBER)
    with pytest.raises(ValueError, match="another PHONE_KEY"):
        PhoneVault(OTHER_KEY).decrypt(token)


def test_hash_and_encryption_keys_differ() -> None:
    # One secret, two purposes: the hash key is not the encryption key.
    vault = PhoneVault(PHONE_KEY)
    assert phones._derive(PHONE_KEY, b"phone-hash-v1") != phones._derive(
        PHONE_KEY, b"phone-encrypt-v1"
    )
    assert vault.hash(NUMBER) != vault.hash(NUMBER.replace("+", ""))


def test_mask_of_a_congolese_number() -> None:
    assert phones.mask(NUMBER) == "+243******678"


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_mask_never_shows_more_than_the_last_three_digits(number: str) -> None:
    masked = phones.mask(number)
    assert len(masked) == len(number)
    # Beyond the "+" and at most a three-digit country code, only the last three digits show.
    subscriber = masked[4:]
    assert len(re.sub(r"\D", "", subscriber)) <= 3
    assert subscriber.rstrip("0123456789") == "*" * (len(subscriber) - min(3, len(subscriber)))


@pytest.mark.parametrize("short", ["", "+2", "1234567"])
def test_mask_of_short_strings_hides_everything(short: str) -> None:
    assert phones.mask(short) == "*" * len(short)


@pytest.mark.parametrize(
    ("message", "hidden"),
    [
        ("report from +243812345678 stored", "243812345678"),
        ("phoneNumber=%2B254739495441&text=1", "254739495441"),
        ("number 0812345678 unknown", "0812345678"),
        ("number 00243812345678 unknown", "00243812345678"),
        ("number +243 81 234 5678 unknown", "812345678"),
        ('{"from": "+243812345678"}', "243812345678"),
    ],
)
def test_scrub_masks_phone_numbers(message: str, hidden: str) -> None:
    cleaned = scrub(message)
    assert hidden not in cleaned
    assert hidden not in cleaned.replace(" ", "")
    assert "*****" in cleaned


def test_scrub_hides_token_values_and_keeps_the_rest() -> None:
    cleaned = scrub("POST /ussd/africastalking?token=s3cr3t-XYZ&x=1 HTTP/1.1")
    assert "s3cr3t" not in cleaned
    assert cleaned == "POST /ussd/africastalking?token=***&x=1 HTTP/1.1"
    assert scrub("TOKEN=abc def") == "TOKEN=*** def"


@pytest.mark.parametrize(
    "message",
    [
        "report 1234567 stored",
        "at 2026-11-24 09:30:00",
        "session ATUid_7c898d72eb11f723ed8ea05ef232f279",
    ],
)
def test_scrub_leaves_references_dates_and_session_ids(message: str) -> None:
    assert scrub(message) == message


def test_logging_filter_scrubs_formatted_records() -> None:
    record = logging.LogRecord(
        "kufatilia", logging.INFO, __file__, 1, "sms from %s via %s", (NUMBER, "token=abc"), None
    )
    assert ScrubbingFilter().filter(record) is True
    message = record.getMessage()
    assert "812345678" not in message
    assert "abc" not in message
    assert message.startswith("sms from +243")
