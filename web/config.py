"""The web platform's languages; its settings are ``settings.web`` (``web:`` in config.yaml)."""

from __future__ import annotations

from settings import WebSettings

LANGUAGES = ("fr", "en", "sw")  # the first is the default

__all__ = ["LANGUAGES", "WebSettings"]
