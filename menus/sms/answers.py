"""Cutting one SMS into the answers it holds, and applying them in turn.

A reporter may answer several questions in one message (``1 1 1``), separated by spaces or
``*``. How much of the message the current question takes depends on what it accepts
(``engine.accepts``), so the message is cut one answer at a time as the conversation moves.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from .. import engine
from ..dates import parse_date
from ..engine import Context, InvalidInput, Outcome, State
from ..model import Tree

_TOKEN = re.compile(r"[^\s*]+")
_SEPARATORS = " *\t\r\n"
_DATE_TOKENS = 3  # a date takes at most three tokens: day, month, year


def next_input(tree: Tree, state: State, text: str, today: date) -> tuple[str, str]:
    """The first answer in ``text`` for the current question, and what is left for the next ones.

    A choice takes one token. Free text takes the whole rest, because a site name or a
    description has spaces of its own, except when the rest is only numbers and starts with
    this question's skip number or a navigation token (``1 2 1``: "don't know", then 2, then 1).
    A date takes the longest run of tokens that reads as a date (``12 05 2026`` is one answer).
    """
    text = text.lstrip(_SEPARATORS)
    tokens = list(_TOKEN.finditer(text))
    if not tokens:
        return text.strip(), ""
    first = tokens[0].group()
    one = (first, text[tokens[0].end() :])
    question = engine.accepts(tree, state)
    if question.kind == "choice":
        return one
    if len(tokens) == 1:
        return text.strip(), ""
    if question.kind == "date":
        if first in engine.NAVIGATION_TOKENS:
            return one
        for last in range(min(len(tokens), _DATE_TOKENS) - 1, -1, -1):
            candidate = text[tokens[0].start() : tokens[last].end()]
            if parse_date(candidate, today) is not None:
                return candidate, text[tokens[last].end() :]
        return text.strip(), ""
    numeric = all(token.group().isdigit() for token in tokens)
    if numeric and (
        first in engine.NAVIGATION_TOKENS or first == question.skip or question.kind == "number"
    ):
        return one
    return text.strip(), ""


def apply_inputs(tree: Tree, outcome: Outcome, text: str, ctx: Context) -> Outcome:
    """Step through every answer in ``text``; stop at the end or at the first answer re-asked.

    The outcome returned carries the events of every step, ``outcome``'s own first.
    """
    events = list(outcome.events)
    rest = text
    while True:
        answer, rest = next_input(tree, outcome.state, rest, ctx.today)
        outcome = engine.step(tree, outcome.state, answer, ctx)
        events.extend(outcome.events)
        if (
            outcome.state.ended
            or not rest.strip()
            # The rest answered questions the reporter has not seen yet.
            or any(isinstance(event, InvalidInput) for event in outcome.events)
        ):
            return replace(outcome, events=tuple(events))
