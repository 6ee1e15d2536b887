"""Logging that never carries a phone number or a callback token in clear."""

from __future__ import annotations

import logging
import re

_PHONE = re.compile(r"(?<![\w])(\+|%2B|00)?(\d[\d ]{8,16}\d)(?![\w])")
_TOKEN = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)


def _mask_match(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(2))
    if len(digits) < 9:
        return match.group(0)
    return (match.group(1) or "") + digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


def scrub(text: str) -> str:
    """Mask anything that looks like a phone number, and hide ``token=`` values."""
    return _TOKEN.sub(r"\1***", _PHONE.sub(_mask_match, text))


class ScrubbingFilter(logging.Filter):
    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        # Exception messages and tracebacks carry values too (a database error quotes the row it
        # could not write, with the details a reporter typed). Format the traceback once here,
        # scrubbed: every formatter reuses ``exc_text`` rather than formatting it again.
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, ScrubbingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(ScrubbingFilter())
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Werkzeug logs each request line with its query string: scrub it too.
    for name in ("werkzeug", "rq.worker"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubbingFilter) for f in logger.filters):
            logger.addFilter(ScrubbingFilter())
