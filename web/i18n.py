"""Flask-Babel over the web platform's catalogs, in French first, then English and Swahili.

The pages have their own domain, ``locales/<lang>/LC_MESSAGES/web.po``, apart from the phone's
``messages.po``: what a phone shows must fit GSM-7 and is checked as such; a page may use any
character. Catalogs are read as ``.po`` (like ``menus.i18n`` does for the phone), compiled in
memory once per language: a fresh checkout needs no compile step and cannot serve stale ``.mo``
files. The UI language is the user's choice in their profile, else the browser's, else French.
"""

from __future__ import annotations

import io

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, request
from flask_babel import Babel, Domain
from flask_login import current_user

from menus.i18n import LOCALES_DIR

from .config import LANGUAGES

DOMAIN = "web"
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "sw": "Kiswahili"}


class PoDomain(Domain):  # type: ignore[misc]
    """Translations built from ``locales/<lang>/LC_MESSAGES/web.po``, cached per process."""

    def __init__(self) -> None:
        super().__init__(domain=DOMAIN)
        self._compiled: dict[str, NullTranslations] = {}

    def get_translations(self) -> NullTranslations:
        from flask_babel import get_locale

        locale = get_locale()
        language = locale.language if locale is not None else LANGUAGES[0]
        found = self._compiled.get(language)
        if found is None:
            found = _compile(language)
            self._compiled[language] = found
        return found


def _compile(language: str) -> NullTranslations:
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class PoBabel(Babel):  # type: ignore[misc]
    """Flask-Babel builds a new Domain (and reloads catalogs) per request; ours is built once."""

    def __init__(self) -> None:
        super().__init__()
        self._domain = PoDomain()

    @property
    def domain_instance(self) -> PoDomain:
        return self._domain


def select_language() -> str:
    language = getattr(current_user, "language", None)
    if language in LANGUAGES:
        return str(language)
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES[0])
    PoBabel().init_app(app, locale_selector=select_language)
