"""System strings (navigation, hints, prompts that are not part of a tree) through Babel.

Tree texts live in the tree, per language, so CSO admins edit them with the tree. Everything else
the reporter reads is an English msgid marked with ``N_`` in the code, extracted by ``pybabel``
into ``locales/`` and translated there. Catalogs are read from the ``.po`` files with Babel's own
reader, so a fresh checkout needs no compile step.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from . import gsm

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction; it is translated later, in the reporter's language."""
    return message


class Catalog:
    """Translations of system strings per language, already transliterated to GSM-7."""

    def __init__(
        self,
        translations: dict[str, dict[str, str]],
        written: dict[str, dict[str, str]] | None = None,
        msgids: frozenset[str] | None = None,
    ) -> None:
        self._translations = translations
        # The translations as the translator wrote them, before transliteration to GSM-7.
        self._written = written if written is not None else translations
        # Every msgid of every catalog, translated or not: the system strings a language must
        # translate to be complete.
        self._msgids = (
            msgids
            if msgids is not None
            else frozenset(m for found in translations.values() for m in found)
        )

    @classmethod
    def load(cls, directory: Path | None = None, domain: str = "messages") -> Catalog:
        """Every ``<directory>/<lang>/LC_MESSAGES/<domain>.po`` (default: ``LOCALES_DIR``, read
        when called): a catalog added there is a language's system strings, no code needed."""
        directory = directory if directory is not None else LOCALES_DIR
        translations: dict[str, dict[str, str]] = {}
        written: dict[str, dict[str, str]] = {}
        msgids: set[str] = set()
        if directory.is_dir():
            for po_path in sorted(directory.glob(f"*/LC_MESSAGES/{domain}.po")):
                lang = po_path.parent.parent.name
                with po_path.open("rb") as handle:
                    catalog = read_po(handle, locale=lang)
                messages: dict[str, str] = {}
                originals: dict[str, str] = {}
                for message in catalog:
                    if message.id and isinstance(message.id, str):
                        msgids.add(message.id)
                    usable = message.id and message.string and not message.fuzzy
                    if usable and isinstance(message.id, str) and isinstance(message.string, str):
                        messages[message.id] = gsm.to_gsm(message.string)
                        originals[message.id] = message.string
                translations[lang] = messages
                written[lang] = originals
        return cls(translations, written, frozenset(msgids))

    @property
    def languages(self) -> list[str]:
        return sorted(self._translations)

    @property
    def msgids(self) -> frozenset[str]:
        """Every msgid of every catalog, translated or not."""
        return self._msgids

    def gettext(self, language: str | None, message: str) -> str:
        """The message in ``language``, falling back to the English msgid."""
        if language:
            found = self._translations.get(language, {}).get(message)
            if found:
                return found
        return gsm.to_gsm(message)

    def raw(self, language: str | None, message: str) -> str:
        """The message in ``language`` as written, before transliteration (for editors)."""
        return self._written.get(language or "", {}).get(message) or message

    def transliterated(self) -> list[tuple[str, str, str, str]]:
        """(language, msgid, as written, as sent) for each translation GSM-7 changes: the
        catalog's share of what ``flask menus check`` lists."""
        found: list[tuple[str, str, str, str]] = []
        for lang in sorted(self._written):
            for msgid, text in self._written[lang].items():
                sent = self._translations[lang][msgid]
                if sent != text:
                    found.append((lang, msgid, text, sent))
        return found

    def in_each(self, languages: tuple[str, ...] | list[str], message: str) -> str:
        """The message once per language, " / "-separated: for a reader whose language is unknown."""
        seen: list[str] = []
        for language in languages:
            text = self.gettext(language, message)
            if text not in seen:
                seen.append(text)
        return " / ".join(seen)

    def missing(self, language: str, messages: list[str]) -> list[str]:
        """Which of ``messages`` have no translation in ``language`` (English needs none)."""
        if language == "en":
            return []
        known = self._translations.get(language, {})
        return [m for m in messages if m not in known]
