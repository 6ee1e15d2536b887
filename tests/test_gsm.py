"""The GSM 03.38 tables, septet counting, transliteration and SMS segments (menus/gsm.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from menus import gsm

from .conftest import TEST_DATA

ESCAPE = 0x1B
CEDILLA = 0x09  # ç in Unicode's table, Ç in ETSI's figure: excluded on purpose


def _read_gsm0338() -> tuple[dict[int, str], dict[int, str]]:
    """(basic, extension): GSM code -> Unicode character, from the Unicode consortium's table."""
    basic: dict[int, str] = {}
    extension: dict[int, str] = {}
    for line in (TEST_DATA / "GSM0338.TXT").read_text(encoding="latin-1").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        code, char = int(fields[0], 16), chr(int(fields[1], 16))
        if code > 0xFF:
            extension[code & 0xFF] = char
        else:
            basic[code] = char
    return basic, extension


BASIC_TABLE, EXTENSION_TABLE = _read_gsm0338()


def test_the_reference_table_is_complete() -> None:
    assert sorted(BASIC_TABLE) == list(range(128))
    assert len(EXTENSION_TABLE) == 10


@pytest.mark.parametrize("code", range(128))
def test_basic_table_agrees_with_gsm0338(code: int) -> None:
    char = BASIC_TABLE[code]
    if code == ESCAPE:
        # The escape shows as NBSP in the table; it is no character of its own.
        assert gsm.BASIC[code] == "\x1b"
        assert not gsm.is_gsm("\u00a0")
        assert not gsm.is_gsm("\x1b")
    elif code == CEDILLA:
        assert not gsm.is_gsm("ç")
        assert not gsm.is_gsm("Ç")
    else:
        assert gsm.BASIC[code] == char
        assert gsm.is_gsm(char)
        assert gsm.length(char) == 1


def test_extension_table_agrees_with_gsm0338() -> None:
    assert set(gsm.EXTENSION) == set(EXTENSION_TABLE.values())
    for char in EXTENSION_TABLE.values():
        assert gsm.is_gsm(char)
        assert gsm.length(char) == 2


@pytest.mark.parametrize("char", ["ê", "â", "œ", "«", "’", "…", "–", "\u00a0", "\t", "😀", "Ж"])
def test_characters_outside_the_alphabet(char: str) -> None:
    assert not gsm.is_gsm(char)
    assert not gsm.is_gsm(f"abc{char}def")


@pytest.mark.parametrize(
    ("text", "septets"),
    [
        ("", 0),
        ("abc", 3),
        ("é à è ù É ä ö ü", 15),
        ("€", 2),
        ("[1]", 5),
        ("^{}\\[~]|€\f", 20),
        ("Prix: 5€ {net}", 17),
    ],
)
def test_length_counts_extension_characters_twice(text: str, septets: int) -> None:
    assert gsm.length(text) == septets


# Every character protocols.md lists as outside the alphabet, with what a reader expects instead.
TRANSLITERATIONS = [
    ("â", "a"),
    ("ê", "e"),
    ("ë", "e"),
    ("î", "i"),
    ("ï", "i"),
    ("ô", "o"),
    ("û", "u"),
    ("ÿ", "y"),
    ("ç", "c"),
    ("œ", "oe"),
    ("À", "A"),
    ("È", "E"),
    ("Ê", "E"),
    ("Ô", "O"),
    ("Ù", "U"),
    ("Û", "U"),
    ("«", '"'),
    ("»", '"'),
    ("’", "'"),
    ("‘", "'"),
    ("“", '"'),
    ("”", '"'),
    ("…", "..."),
    ("–", "-"),
    ("—", "-"),
    ("\u00a0", " "),
]


@pytest.mark.parametrize(("char", "expected"), TRANSLITERATIONS)
def test_transliteration_of_each_listed_character(char: str, expected: str) -> None:
    assert not gsm.is_gsm(char)
    assert gsm.to_gsm(char) == expected
    assert gsm.is_gsm(gsm.to_gsm(char))
    assert gsm.changed_characters(f"x{char}y") == [char]


def test_transliteration_of_a_french_sentence_keeps_gsm_accents() -> None:
    text = "« Où êtes-vous ? » — l’été à Bukavu… Ça coûte 5\u00a0€"
    assert gsm.to_gsm(text) == '" Où etes-vous ? " - l\'été à Bukavu... Ca coute 5 €'


def test_gsm_text_is_returned_unchanged() -> None:
    text = "Éboulement à Mongbwalu: 3 blessés, 1 mort. Prix [5€]"
    assert gsm.is_gsm(text)
    assert gsm.to_gsm(text) == text
    assert gsm.changed_characters(text) == []


def test_changed_characters_lists_each_once_sorted() -> None:
    assert gsm.changed_characters("Forêt «forêt» ç") == ["«", "»", "ç", "ê"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_transliteration_is_gsm_and_idempotent(text: str) -> None:
    once = gsm.to_gsm(text)
    assert gsm.is_gsm(once)
    assert gsm.to_gsm(once) == once
    assert gsm.changed_characters(once) == []


GSM_CHARS = st.sampled_from(sorted(set(gsm.BASIC + gsm.EXTENSION) - {"\x1b", "Ç"}))


@settings(max_examples=300, deadline=None)
@given(st.text(GSM_CHARS, max_size=250), st.integers(min_value=0, max_value=200))
def test_truncate_never_exceeds_its_limit(text: str, limit: int) -> None:
    cut = gsm.truncate(text, limit)
    assert gsm.length(cut) <= limit
    if gsm.length(text) <= limit:
        assert cut == text
    elif limit >= 2:
        assert cut.endswith("..")
        assert text.startswith(cut[:-2])


def test_truncate_does_not_split_an_extension_character() -> None:
    # "abcde" is 5, "€" would take 2 more: over the 6 left after the marker.
    assert gsm.truncate("abcde€xyz", 8) == "abcde.."
    assert gsm.truncate("€€€€", 5) == "€.."
    assert gsm.truncate("short", 5) == "short"


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("a" * 459, "GSM-7", 459, 3),
        ("a" * 460, "GSM-7", 460, 4),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("ê" * 70, "UCS-2", 70, 1),
        ("ê" * 71, "UCS-2", 71, 2),
        ("ê" * 134, "UCS-2", 134, 2),
        ("ê" * 135, "UCS-2", 135, 3),
        # One character outside the alphabet turns the whole message into UCS-2.
        ("a" * 69 + "ê", "UCS-2", 70, 1),
        ("a" * 70 + "ê", "UCS-2", 71, 2),
        # Characters beyond the BMP take two UTF-16 units.
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_sms_encoding_segment_boundaries(
    text: str, encoding: str, units: int, segments: int
) -> None:
    found = gsm.sms_encoding(text)
    assert (found.name, found.units, found.segments) == (encoding, units, segments)


def test_sms_segments_never_split_an_escape_sequence() -> None:
    # 152 septets, then "€" (escape + code) cannot straddle the 153-septet boundary: it opens the
    # second segment, which then overflows into a third.
    text = "a" * 152 + "€" + "a" * 152
    found = gsm.sms_encoding(text)
    assert found.units == 306
    assert found.segments == 3


def test_sms_segments_never_split_a_surrogate_pair() -> None:
    text = "ê" + "a" * 65 + "😀" + "a" * 66
    found = gsm.sms_encoding(text)
    assert found.units == 134
    assert found.segments == 3
