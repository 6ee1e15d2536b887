"""Choices for select fields, in the shape WTForms 3.3+ wants (``SelectChoice``, optgroups)."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice


def choices(
    pairs: Iterable[tuple[str | int, object]], optgroup: str | None = None
) -> list[SelectChoice]:
    return [SelectChoice(value, str(label), optgroup=optgroup) for value, label in pairs]
