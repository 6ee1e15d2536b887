"""Dates typed on a keypad: ``12/05/2026``, ``12.5.26``, ``12 05 2026``, ``12052026``, ``12*5``."""

from __future__ import annotations

import re
from datetime import date

_SEPARATED = re.compile(r"^(\d{1,2})[/.\-* ]+(\d{1,2})(?:[/.\-* ]+(\d{2}|\d{4}))?$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{2}|\d{4})?$")


def parse_date(text: str, today: date) -> date | None:
    """Day first, as written in DR Congo. A missing year means the latest such date not after today."""
    text = text.strip()
    match = _SEPARATED.match(text) or _COMPACT.match(text)
    if not match:
        return None
    day, month = int(match.group(1)), int(match.group(2))
    year_text = match.group(3)
    if year_text is None:
        # Leap days recur within eight years at most (1896 -> 1904).
        for year in range(today.year, today.year - 9, -1):
            try:
                found = date(year, month, day)
            except ValueError:
                continue
            if found <= today:
                return found
        return None
    try:
        year = int(year_text)
        if len(year_text) == 2:
            year += 2000
        return date(year, month, day)
    except ValueError:
        return None


def format_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")
