"""Cutting one SMS into the answers it holds, and applying them in turn.

A reporter may answer several questions in one message (``1 1 1``), separated by spaces or
``*``. How much of the message the current question takes depends on what it accepts
(``engine.accepts``), so the message is cut one answer at a time as the conversation moves.
A batch may fill answers but never sends a report: the confirmation is always shown, and answered
in a message of its own.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .. import engine, names
from ..dates import parse_date
from ..engine import Context, InvalidInput, Outcome, State
from ..model import Tree

_TOKEN = re.compile(r"[^\s*]+")
_SEPARATORS = " *\t\r\n"
_DATE_TOKENS = 3  # a date takes at most three tokens: day, month, year
# A typed text gives way to the answers after it only when they answer at least this many
# questions: "Kamituga 2" is more likely a site's name than the site "Kamituga" and "yesterday".
MIN_FOLLOWING = 2


def next_input(tree: Tree, state: State, text: str, ctx: Context) -> tuple[str, str]:
    """The first answer in ``text`` for the current question, and what is left for the next ones.

    - A confirmation takes the whole message: it is answered alone. So does a reference.
    - A menu that takes a typed text takes one token if it is one of its numbers or names, else
      the whole message (the text it passes on).
    - A choice takes one token, or a name of several words ("Sud Kivu"): the longest run of
      words that the question recognises.
    - A date takes the longest run of tokens that reads as a date (``12 05 2026``).
    - Free text takes the whole rest, because a site name or a description has spaces and
      numbers of its own, except when what follows it reads as the answers to the next
      questions (``Bisie 4 12 10 2026 1``: the site, "earlier", the date, "yes"), or when the rest
      is only numbers starting with this question's skip or keep number or a navigation key
      (``1 2 1``: "don't know", then 2, then 1).
    """
    text = text.lstrip(_SEPARATORS)
    tokens = list(_TOKEN.finditer(text))
    if not tokens:
        return text.strip(), ""
    first = tokens[0].group()
    one = (first, text[tokens[0].end() :])
    question = engine.accepts(tree, state)
    if question.confirm or question.kind == "reference":
        # A reference may come with spaces ("123 4567"), and its answer ends the conversation.
        return text.strip(), ""
    if question.takes_text:
        # "1 ..." is the choice, and the rest answers what follows; any other text is typed
        # text this menu passes on whole ("3 blessés" at "anything to add?").
        if first.isdigit() and 1 <= int(first) <= question.options:
            return one
        options = tree.nodes[state.node].options
        if len(names.match(first, [option.names for option in options]).found) == 1:
            return one  # "ndiyo ...", "non ..."
        return text.strip(), ""
    if question.kind == "choice":
        return _choice(tree, state, text, tokens, ctx) if names.is_name(first) else one
    if len(tokens) == 1:
        return text.strip(), ""
    if question.kind == "date":
        if first in engine.NAVIGATION_TOKENS:
            return one
        for last in range(min(len(tokens), _DATE_TOKENS) - 1, -1, -1):
            candidate = text[tokens[0].start() : tokens[last].end()]
            if parse_date(candidate, ctx.today) is not None:
                return candidate, text[tokens[last].end() :]
        return text.strip(), ""
    numeric = all(token.group().isdigit() for token in tokens)
    keys = (*engine.NAVIGATION_TOKENS, question.skip, question.keep)
    if numeric and (first in keys or question.kind == "number"):
        return one
    if question.kind == "text":
        for split in range(1, len(tokens)):
            if not tokens[split].group().isdigit():
                continue
            answer, rest = text[: tokens[split - 1].end()], text[tokens[split - 1].end() :]
            if _followed_by_answers(tree, state, answer, rest, ctx):
                return answer, rest
    return text.strip(), ""


def _choice(
    tree: Tree, state: State, text: str, tokens: list[re.Match[str]], ctx: Context
) -> tuple[str, str]:
    """A typed name: the longest run of words from the start that the question takes."""
    run = 0
    while run < len(tokens) and names.is_name(tokens[run].group()):
        run += 1
    for last in range(run - 1, 0, -1):
        candidate = text[tokens[0].start() : tokens[last].end()]
        if not _invalid(engine.step(tree, state, candidate, ctx)):
            return candidate, text[tokens[last].end() :]
    return tokens[0].group(), text[tokens[0].end() :]


def _invalid(outcome: Outcome) -> bool:
    return any(isinstance(event, InvalidInput) for event in outcome.events)


def _followed_by_answers(tree: Tree, state: State, answer: str, rest: str, ctx: Context) -> bool:
    """Whether ``answer`` is a valid answer here and ``rest`` then answers at least
    ``MIN_FOLLOWING`` questions, all of it, by number, date or name: typed text would take any
    rest, so it proves nothing. One token left at the confirmation (the reporter's "send",
    which the confirmation does not take from a batch) still counts as answers."""
    outcome = engine.step(tree, state, answer, ctx)
    if _invalid(outcome) or outcome.state.ended:
        return False
    state, count = outcome.state, 0
    while rest.strip():
        question = engine.accepts(tree, state)
        if question.confirm:
            return len(_TOKEN.findall(rest)) == 1 and count >= MIN_FOLLOWING
        found, rest = next_input(tree, state, rest, ctx)
        if _typed_text(question, found):
            return False
        outcome = engine.step(tree, state, found, ctx)
        if _invalid(outcome) or (outcome.state.ended and rest.strip()):
            return False
        state, count = outcome.state, count + 1
    return count >= MIN_FOLLOWING


def _typed_text(question: engine.Accepts, answer: str) -> bool:
    """Whether ``answer`` is typed text rather than a number, a date, a skip or a keep."""
    if question.kind == "text":
        return answer not in (question.skip, question.keep, *engine.NAVIGATION_TOKENS)
    if question.takes_text:
        return not (answer.isdigit() and 1 <= int(answer) <= question.options)
    return False


def apply_inputs(tree: Tree, outcome: Outcome, text: str, ctx: Context) -> Outcome:
    """Step through every answer in ``text``; stop at the end, at the first answer re-asked, or
    on reaching the confirmation (what is left of the message is not taken as its answer).

    The outcome returned carries the events of every step, ``outcome``'s own first.
    """
    events = list(outcome.events)
    rest = text
    stepped = False
    while True:
        if stepped and engine.accepts(tree, outcome.state).confirm:
            return replace(outcome, events=tuple(events))
        answer, rest = next_input(tree, outcome.state, rest, ctx)
        outcome = engine.step(tree, outcome.state, answer, ctx)
        events.extend(outcome.events)
        stepped = True
        if (
            outcome.state.ended
            or not rest.strip()
            # The rest answered questions the reporter has not seen yet.
            or _invalid(outcome)
        ):
            return replace(outcome, events=tuple(events))
