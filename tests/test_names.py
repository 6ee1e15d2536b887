"""Typed names: folding, one typo, words and prefixes (``menus.names``)."""

from __future__ import annotations

import pytest

from menus.names import Names, compact, is_name, match

PLACES = [Names.of([label]) for label in ("Nord-Kivu", "Sud-Kivu", "Ituri", "Beni", "Benin")]


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Sud Kivu", "SUDKIVU"),
        ("sud-kivu", "SUDKIVU"),
        (" Haut-Uélé ", "HAUTUELE"),
        ("ARRÊT", "ARRET"),
    ],
)
def test_keys_ignore_case_accents_spaces_and_hyphens(typed: str, key: str) -> None:
    assert compact(typed) == key


def test_a_label_answers_to_its_whole_key_and_to_its_longer_words() -> None:
    names = Names.of(["Taxes, barrières", "Kodi na bariyeri"])
    assert names.whole == ("TAXESBARRIERES", "KODINABARIYERI")
    assert names.words == ("TAXES", "BARRIERES", "KODI", "BARIYERI")  # "na" is glue


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("sud kivu", (1,)),
        ("SUDKIVU", (1,)),
        ("Sud-Kivou", (1,)),  # one typo
        ("kivu", (0, 1)),  # a word of both
        ("iturri", (2,)),  # one letter too many
        ("itrui", (2,)),  # two neighbours swapped
        ("itu", (2,)),  # a prefix
        ("beni", (3,)),  # exact wins over "Benin", one typo away
        ("benin", (4,)),
        ("ben", (3, 4)),
        ("xyz", ()),
        ("kvu", ()),  # three letters: exact only, no typo
        ("", ()),
    ],
)
def test_match(typed: str, found: tuple[int, ...]) -> None:
    assert match(typed, PLACES).found == found


def test_two_typos_do_not_match() -> None:
    assert match("Itori", PLACES).found == (2,)  # one substitution
    assert match("Itoro", PLACES).found == ()


def test_a_candidate_that_must_be_chosen_by_number_never_matches() -> None:
    assert match("send", [None, Names.of(["Send"])]).found == (1,)
    assert match("send", [None]).found == ()


@pytest.mark.parametrize(("text", "name"), [("Walikale", True), ("3", False), ("1.5", False)])
def test_a_name_has_a_letter(text: str, name: bool) -> None:
    assert is_name(text) is name
