"""Report references: seven random digits, the last a Damm check digit (storage/references.py)."""

from __future__ import annotations

import itertools
import random

import pytest

from storage import references


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("572", "4"),  # the worked example of Damm's algorithm
        ("5724", "0"),  # a number followed by its check digit checks to 0
        ("112946", "0"),
        ("11294", "6"),
        ("", "0"),
        ("0", "0"),
    ],
)
def test_damm_check_digit_known_vectors(digits: str, check: str) -> None:
    assert references.check_digit(digits) == check


@pytest.fixture(scope="module")
def generated() -> list[str]:
    rng = random.Random(7)
    return [references.generate(rng) for _ in range(300)]


def test_generated_references_are_seven_digits_with_a_valid_check_digit(
    generated: list[str],
) -> None:
    for reference in generated:
        assert len(reference) == references.LENGTH == 7
        assert reference.isascii() and reference.isdigit()
        assert reference[0] != "0"
        assert references.check_digit(reference[:-1]) == reference[-1]
        assert references.is_valid(reference)


def test_every_single_digit_substitution_is_detected(generated: list[str]) -> None:
    for reference in generated:
        for position in range(len(reference)):
            for digit in "0123456789":
                if digit == reference[position]:
                    continue
                typo = reference[:position] + digit + reference[position + 1 :]
                assert not references.is_valid(typo), (reference, typo)


def test_every_adjacent_transposition_is_detected(generated: list[str]) -> None:
    checked = 0
    for reference in generated:
        for i in range(len(reference) - 1):
            a, b = reference[i], reference[i + 1]
            if a == b:
                continue
            swapped = reference[:i] + b + a + reference[i + 2 :]
            assert not references.is_valid(swapped), (reference, swapped)
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    "text", ["", "123456", "12345678", "12a4567", "１２３４５６７", "١٢٣٤٥٦٧", "-123456"]
)
def test_malformed_references_are_not_valid(text: str) -> None:
    assert not references.is_valid(text)


def test_surrounding_spaces_are_tolerated(generated: list[str]) -> None:
    assert references.is_valid(f" {generated[0]}\n")


def test_secure_references_are_random_not_sequential() -> None:
    found = [references.generate() for _ in range(1000)]
    assert all(references.is_valid(r) for r in found)
    # 900,000 possible bodies: 1,000 draws collide about half a time on average, never by dozens.
    assert len(set(found)) >= 990
    bodies = [int(r[:-1]) for r in found]
    rises = sum(1 for a, b in itertools.pairwise(bodies) if b > a)
    assert 350 < rises < 650  # a counter would rise every time
    steps = {b - a for a, b in itertools.pairwise(bodies)}
    assert len(steps) > 900  # no fixed stride either
    assert {r[0] for r in found} == set("123456789")
    for position in range(1, 6):
        assert {r[position] for r in found} == set("0123456789")


def _sequence(seed: int, count: int = 20) -> list[str]:
    rng = random.Random(seed)
    return [references.generate(rng) for _ in range(count)]


def test_a_seeded_generator_repeats_and_different_seeds_differ() -> None:
    assert _sequence(1) == _sequence(1)
    assert _sequence(1) != _sequence(2)
    assert len(set(_sequence(1))) == 20
