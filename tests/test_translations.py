"""Every user-facing system string marked N_() in the code has a Swahili and a French translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from menus.i18n import Catalog

PROJECT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = (".venv", "tests", "bench", ".git", "instance", "node_modules")


def marked_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT),
        method_map=[("**.py", "python")],
        keywords={"N_": None},
        directory_filter=lambda path: not any(part in path for part in SKIPPED_DIRS),
    ):
        assert isinstance(message, str)
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def test_extraction_finds_the_engine_and_channel_messages() -> None:
    messages = marked_messages()
    assert "Type a number." in messages
    assert "Service unavailable. Please try later." in messages
    assert len(messages) >= 15


@pytest.mark.parametrize("language", ["sw", "fr"])
def test_every_marked_message_is_translated(language: str) -> None:
    catalog = Catalog.load()
    missing = [
        f"{where}: {message!r}"
        for message, where in marked_messages().items()
        if catalog.gettext(language, message) == message
    ]
    assert not missing, f"untranslated in locales/{language}:\n" + "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    catalog = Catalog.load()
    for message in marked_messages():
        for placeholder in ("{max}", "{keyword}", "{stop}", "{example}"):
            if placeholder in message:
                for language in ("sw", "fr"):
                    assert placeholder in catalog.gettext(language, message), (language, message)
