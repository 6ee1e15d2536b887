"""Numbers never reach the log in clear, not even inside an exception's message or traceback."""

from __future__ import annotations

import io
import logging

from logging_setup import ScrubbingFilter

NUMBER = "+243812345678"
DIGITS = NUMBER[-9:]  # never written out below: stack_info quotes this file's source lines


def _logged(emit: logging.Logger, after: logging.Handler | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(ScrubbingFilter())
    emit.addHandler(handler)
    if after is not None:
        emit.addHandler(after)
    emit.propagate = False
    try:
        try:
            details = f"deux blesses, appelez {NUMBER} ou 0998765432"
            raise RuntimeError(f"INSERT failed for row (details={details!r})")
        except RuntimeError:
            emit.exception("could not store the report")
        emit.error("plain %s", "line", stack_info=True)
    finally:
        emit.removeHandler(handler)
        if after is not None:
            emit.removeHandler(after)
    return stream.getvalue()


def test_an_exception_message_and_its_traceback_are_scrubbed() -> None:
    text = _logged(logging.getLogger("kufatilia.test.scrub"))
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: INSERT failed for row" in text
    assert DIGITS not in text
    assert "0998765432"[1:] not in text
    assert "+243*******78" in text  # masked, still recognisable as a number


def test_a_second_handler_reuses_the_scrubbed_traceback() -> None:
    logger = logging.getLogger("kufatilia.test.scrub2")
    plain = io.StringIO()
    unfiltered = logging.StreamHandler(plain)  # after ours: it formats the record we cleaned
    assert DIGITS not in _logged(logger, after=unfiltered)
    assert "RuntimeError" in plain.getvalue()
    assert DIGITS not in plain.getvalue()
