"""Every string of the web platform (Python and templates) is translated into French and Swahili,
in the platform's own catalog (web.po: the phone's messages.po holds only what a phone shows)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PROJECT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def web_messages() -> dict[str | tuple[str, ...], str]:
    found: dict[str | tuple[str, ...], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT / "web"),
        method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        keywords=KEYWORDS,
    ):
        key = tuple(message) if isinstance(message, list | tuple) else message
        found.setdefault(key, f"web/{filename}:{lineno}")
    return found


def test_extraction_reaches_python_and_templates() -> None:
    messages = web_messages()
    assert "Wrong e-mail or password, or the account is disabled." in messages  # Python
    assert "Every answer, as the reporter gave it" in messages  # a template
    assert ("%(num)s report matches.", "%(num)s reports match.") in messages  # a plural
    assert len(messages) > 150


@pytest.mark.parametrize("language", ["fr", "sw"])
def test_every_web_string_is_translated(language: str) -> None:
    with (PROJECT / "locales" / language / "LC_MESSAGES" / "web.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    missing = []
    for message, where in web_messages().items():
        entry = catalog.get(message[0] if isinstance(message, tuple) else message)
        strings = entry.string if entry is not None else ""
        translated = all(strings) if isinstance(strings, tuple | list) else bool(strings)
        if entry is None or entry.fuzzy or not translated:
            missing.append(f"{where}: {message!r}")
    assert not missing, f"untranslated in locales/{language}:\n" + "\n".join(missing)


def test_the_phone_catalog_holds_no_page_string() -> None:
    with (PROJECT / "locales" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        phone = {m.id for m in read_po(handle, locale="fr") if m.id}
    assert not phone & set(web_messages())
