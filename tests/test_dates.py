"""Dates typed on a keypad, day first (menus/dates.py)."""

from __future__ import annotations

from datetime import date

import pytest

from menus.dates import format_date, parse_date

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/05/2026", date(2026, 5, 12)),
        ("12.5.26", date(2026, 5, 12)),
        ("12 05 2026", date(2026, 5, 12)),
        ("12052026", date(2026, 5, 12)),
        ("120526", date(2026, 5, 12)),
        ("12*5*2026", date(2026, 5, 12)),  # a keypad's "*" as separator
        ("12-05-2026", date(2026, 5, 12)),
        ("1/2/2025", date(2025, 2, 1)),
        ("  12/05/2026  ", date(2026, 5, 12)),
        ("29/02/2024", date(2024, 2, 29)),
        ("31/12/99", date(2099, 12, 31)),  # two-digit years are this century
    ],
)
def test_formats(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/5", date(2026, 5, 12)),  # earlier this year
        ("1205", date(2026, 5, 12)),
        ("24/11", date(2026, 11, 24)),  # today itself
        ("25/11", date(2025, 11, 25)),  # tomorrow's day: so last year
        ("31*12", date(2025, 12, 31)),
        ("29/02", date(2024, 2, 29)),  # the latest 29 February not after today
    ],
)
def test_without_a_year_the_latest_date_not_after_today(text: str, expected: date) -> None:
    found = parse_date(text, TODAY)
    assert found == expected
    assert found is not None and found <= TODAY


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hier",
        "31/02/2026",
        "29/02/2026",  # not a leap year
        "00/05/2026",
        "12/00/2026",
        "12/13/2026",
        "32/01/2026",
        "12/05/202",
        "1/1/1",
        "2026-05-12",
        "12/05/2026/1",
        "1205202",
        "12/5 2026 extra",
        "123",
    ],
)
def test_invalid_dates_are_none(text: str) -> None:
    assert parse_date(text, TODAY) is None


def test_format_is_day_first() -> None:
    assert format_date(date(2026, 3, 5)) == "05/03/2026"
    assert parse_date(format_date(date(2026, 3, 5)), TODAY) == date(2026, 3, 5)
