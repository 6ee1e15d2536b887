"""Stepping: one input applied to a conversation, and the operations a channel may call directly
(start, cancel, and showing a submitted report's reference).

Every function takes a state and returns a new one inside an ``Outcome``; the caller's state is
never changed. Nothing here raises on any input: invalid input re-asks the same question with a
short hint in the reporter's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from . import gsm
from .context import Context
from .dates import parse_date
from .events import (
    Cancelled,
    Event,
    InvalidInput,
    LanguageChosen,
    Outcome,
    ReportSubmitted,
    Resumed,
    ResumeDeclined,
)
from .messages import (
    MSG_FUTURE_DATE,
    MSG_INVALID_ANSWER,
    MSG_INVALID_CHOICE,
    MSG_INVALID_DATE,
    MSG_INVALID_NUMBER,
    MSG_NO_MORE,
    MSG_TOO_LONG,
    MSG_TOO_SHORT,
)
from .model import Node, Tree
from .moves import advance, copy, fresh_state, record
from .state import CANCELLED_NODE, RESUME_NODE, State
from .tokens import BACK, HOME, MORE
from .views import choices, language_of, render, text_in, view

_NUMBER = re.compile(r"^[0-9]{1,3}$")


# Operations ---------------------------------------------------------------------------------


def start(
    tree: Tree, ctx: Context, *, language: str | None = None, resume: State | None = None
) -> Outcome:
    """Open a conversation; offer to resume ``resume`` when it is an unfinished report."""
    if language not in tree.languages:
        language = None
    if resume is not None and resume.unfinished and resume.tree_version == tree.version:
        state = State(
            tree_id=tree.id,
            tree_version=tree.version,
            node=RESUME_NODE,
            language=resume.language or language,
            resume=resume.to_dict(),
        )
        return Outcome(render(tree, state, ctx), state)
    state = fresh_state(tree, language)
    return Outcome(render(tree, state, ctx), state)


def cancel(tree: Tree, state: State, ctx: Context) -> Outcome:
    """End the conversation without a report: the tree's "cancel" option, or a channel's stop word.
    A conversation that has already ended stays as it was."""
    state = copy(state)
    if state.ended:
        return Outcome(render(tree, state, ctx), state)
    answered = len(state.answers)
    state.node, state.ended, state.page = CANCELLED_NODE, True, 0
    return Outcome(render(tree, state, ctx), state, (Cancelled(answered),))


def submitted(tree: Tree, state: State, reference: str, ctx: Context) -> Outcome:
    """The screen after a ``ReportSubmitted``, once storage has given the report ``reference``."""
    state = copy(state)
    state.reference = reference
    return Outcome(render(tree, state, ctx), state)


@dataclass(frozen=True)
class Accepts:
    """What the current question takes as its answer, for a channel that must cut one message
    into several answers: a number from a list (``choice``), or a typed ``text``, ``number`` or
    ``date``; ``skip`` is the token that answers an optional question with "skipped"."""

    kind: Literal["choice", "text", "number", "date"]
    skip: str | None = None


def accepts(tree: Tree, state: State) -> Accepts:
    node = tree.nodes.get(state.node)
    if node is None or node.kind != "input":
        return Accepts("choice")  # menus, lists, the confirmation and the resume offer
    skip = node.skip_token if node.skip is not None else None
    return Accepts(node.input_type or "text", skip)


# One input ----------------------------------------------------------------------------------


def step(tree: Tree, state: State, user_input: str, ctx: Context) -> Outcome:
    """Apply one input to a conversation. Never raises on any input."""
    state = copy(state)
    text = user_input.strip()
    if state.ended:
        return Outcome(render(tree, state, ctx), state)
    if state.node == RESUME_NODE:
        return _step_resume(tree, state, text, ctx)
    if state.node not in tree.nodes:
        # The node no longer exists (a tree edit): start again rather than fail the session.
        return _home(tree, state, ctx)
    node = tree.nodes[state.node]
    if text == HOME:
        return _home(tree, state, ctx)
    if text == BACK:
        return _back(tree, state, ctx)
    if text == MORE:
        # Laid out only here: paging is the one input that needs the page count.
        if state.page + 1 < view(tree, node, state, ctx).pages():
            state.page += 1
            return Outcome(render(tree, state, ctx), state)
        if node.kind != "input":
            hint = _choice_hint(tree, node, language_of(tree, state), ctx, MSG_NO_MORE)
            return _reask(tree, state, ctx, hint, text)
    if node.kind == "input":
        return _step_input(tree, state, node, text, ctx)
    return _step_choice(tree, state, node, text, ctx)


def _home(tree: Tree, state: State, ctx: Context) -> Outcome:
    fresh = fresh_state(tree, state.language)
    return Outcome(render(tree, fresh, ctx), fresh)


def _back(tree: Tree, state: State, ctx: Context) -> Outcome:
    if state.page > 0:
        state.page -= 1
    elif state.stack:
        frame = state.stack.pop()
        if frame.node not in tree.nodes:
            return _home(tree, state, ctx)  # a tree edit removed it: start again
        state.node, state.page = frame.node, frame.page
        del state.answers[frame.answers :]
    return Outcome(render(tree, state, ctx), state)


def _reask(tree: Tree, state: State, ctx: Context, hint: str, text: str) -> Outcome:
    return Outcome(render(tree, state, ctx, hint), state, (InvalidInput(state.node, text[:40]),))


def _step_resume(tree: Tree, state: State, text: str, ctx: Context) -> Outcome:
    lang = language_of(tree, state)
    if text == "1" and state.resume:
        restored = State.from_dict(state.resume)
        restored.resume = None
        if restored.node in tree.nodes:
            return Outcome(render(tree, restored, ctx), restored, (Resumed(restored.node),))
    if text in ("1", "2", HOME):
        fresh = fresh_state(tree, state.language)
        return Outcome(render(tree, fresh, ctx), fresh, (ResumeDeclined(),))
    return _reask(tree, state, ctx, ctx.catalog.gettext(lang, MSG_INVALID_CHOICE), text)


def _choice_hint(tree: Tree, node: Node, lang: str, ctx: Context, message: str) -> str:
    if node.kind == "language":
        # Whoever is choosing a language may read none of them yet.
        return ctx.catalog.in_each(tree.languages, message)
    return ctx.catalog.gettext(lang, message)


def _step_choice(tree: Tree, state: State, node: Node, text: str, ctx: Context) -> Outcome:
    lang = language_of(tree, state)
    answered = len(state.answers)
    available = choices(tree, node, state, ctx)
    number = int(text) if _NUMBER.match(text) else 0
    if not 1 <= number <= len(available):
        if node.error:
            return _reask(tree, state, ctx, text_in(node.error, lang, tree), text)
        return _reask(
            tree, state, ctx, _choice_hint(tree, node, lang, ctx, MSG_INVALID_CHOICE), text
        )
    choice = available[number - 1]
    if node.kind == "language":
        assert choice.value is not None
        state.language = choice.value
        record(state, node, choice.value)
        advance(tree, state, node, node.next, answered=answered)
        return Outcome(render(tree, state, ctx), state, (LanguageChosen(choice.value),))
    option = choice.option
    action = option.action if option else None
    if action == "restart":
        return _home(tree, state, ctx)
    if action == "cancel":
        return cancel(tree, state, ctx)
    if action == "language":
        advance(tree, state, node, (), answered=answered, language=True)
        return Outcome(render(tree, state, ctx), state)
    if action == "submit":
        submission: Event = ReportSubmitted(
            language=lang,
            tree_id=tree.id,
            tree_version=tree.version,
            answers=state.entries(),
        )
        advance(tree, state, node, option.next if option else (), answered=answered)
        return Outcome(None, state, (submission,))  # shown by ``submitted``, with its reference
    if choice.value is not None:
        extra: dict[str, Any] = {}
        if choice.item is not None:
            extra = {"label": choice.item.label, **choice.item.extra}
        record(state, node, choice.value, **extra)
    advance(tree, state, node, option.next if option else (), answered=answered)
    return Outcome(render(tree, state, ctx), state)


def _step_input(tree: Tree, state: State, node: Node, text: str, ctx: Context) -> Outcome:
    lang = language_of(tree, state)
    answered = len(state.answers)
    _ = ctx.catalog.gettext
    if node.skip is not None and text == node.skip_token:
        if node.key:
            state.answers.append({"key": node.key, "node": node.id, "value": "", "skipped": True})
        advance(tree, state, node, node.skip.next, answered=answered)
        return Outcome(render(tree, state, ctx), state)
    problem: str | None = None
    value: str = text
    if node.input_type == "number":
        if not text.isascii() or not text.isdigit():
            problem = _(lang, MSG_INVALID_NUMBER)
        elif (node.minimum is not None and int(text) < node.minimum) or (
            node.maximum is not None and int(text) > node.maximum
        ):
            problem = _(lang, MSG_INVALID_ANSWER)
        else:
            value = str(int(text))
    elif node.input_type == "date":
        found = parse_date(text, ctx.today)
        if found is None or (ctx.today - found).days > node.max_age_days:
            problem = _(lang, MSG_INVALID_DATE)
        elif found > ctx.today:
            problem = _(lang, MSG_FUTURE_DATE)
        else:
            value = found.isoformat()
    else:
        size = gsm.length(gsm.to_gsm(text))
        if size < max(node.min_length, 1):
            problem = _(lang, MSG_TOO_SHORT)
        elif size > node.max_length:
            problem = _(lang, MSG_TOO_LONG).replace("{max}", str(node.max_length))
    if problem is not None:
        # A tree's own re-ask message explains the expected format; other problems say their own.
        if node.error and problem in (_(lang, MSG_INVALID_DATE), _(lang, MSG_INVALID_NUMBER)):
            problem = text_in(node.error, lang, tree)
        return _reask(tree, state, ctx, problem, text)
    record(state, node, value)
    advance(tree, state, node, node.next, answered=answered)
    return Outcome(render(tree, state, ctx), state)
