"""Dates typed on a keypad: ``12 10 2026`` (spaces are the easiest on a keypad), ``12*10*2026``,
``12/10/2026``, ``12.10.26``, ``12102026``, or without the year (``12 10``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_SEPARATED = re.compile(r"^(\d{1,2})[/.\-* ]+(\d{1,2})(?:[/.\-* ]+(\d{2}|\d{4}))?$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{2}|\d{4})?$")


@dataclass(frozen=True)
class TypedDate:
    """What was typed, before it is judged against today: day first, as written in DR Congo."""

    day: int
    month: int
    year: int | None  # None: the reporter left it out


def read_date(text: str) -> TypedDate | None:
    text = text.strip()
    match = _SEPARATED.match(text) or _COMPACT.match(text)
    if not match:
        return None
    year_text = match.group(3)
    year = None
    if year_text is not None:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    return TypedDate(int(match.group(1)), int(match.group(2)), year)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str, today: date) -> date | None:
    """The date meant. A missing year means the latest such date not after today."""
    typed = read_date(text)
    if typed is None:
        return None
    if typed.year is not None:
        return _valid(typed.year, typed.month, typed.day)
    # Leap days recur within eight years at most (1896 -> 1904).
    for year in range(today.year, today.year - 9, -1):
        found = _valid(year, typed.month, typed.day)
        if found is not None and found <= today:
            return found
    return None


def ahead_this_year(text: str, today: date) -> bool:
    """A date typed without its year that is still to come this year ("30 11" on 25 November).

    Reading it as last year's would be a guess about a report that may be a year off, so the
    reporter is asked for the year instead.
    """
    typed = read_date(text)
    if typed is None or typed.year is not None:
        return False
    found = _valid(today.year, typed.month, typed.day)
    return found is not None and found > today


def format_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def format_typed(day: int, month: int, year: int) -> str:
    """A date the way the prompts ask for it (spaces), to show as an example."""
    return f"{day:02d} {month:02d} {year}"
