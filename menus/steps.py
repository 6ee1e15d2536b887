"""Stepping: one input applied to a conversation, and the operations a channel may call directly
(start, cancel, and showing a submitted report's reference).

Every function takes a state and returns a new one inside an ``Outcome``; the caller's state is
never changed. Nothing here raises on any input: invalid input re-asks the same question with a
short hint in the reporter's language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import gsm, names, references
from .context import Context
from .dates import ahead_this_year, format_typed, parse_date, read_date
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
from .follow import NOT_FOUND
from .messages import (
    MSG_FUTURE_DATE,
    MSG_INVALID_ANSWER,
    MSG_INVALID_CHOICE,
    MSG_INVALID_DATE,
    MSG_INVALID_NUMBER,
    MSG_NO_MORE,
    MSG_REFERENCE_INVALID,
    MSG_TOO_SHORT,
    MSG_TYPE_ANSWER,
)
from .model import Node, Route, Tree
from .moves import advance, copy, fresh_state, record
from .state import (
    CANCELLED_NODE,
    CHANGE_NODE,
    DISCARD_NODE,
    RESUME_NODE,
    STATUS_NODE,
    Frame,
    State,
)
from .tokens import BACK, HOME, MORE
from .views import (
    Choice,
    change_view,
    choices,
    date_ahead_hint,
    keep_token,
    kept,
    language_of,
    questions,
    received_hint,
    render,
    shortened_hint,
    shown_choices,
    text_in,
    view,
)

_NUMBER = re.compile(r"^[0-9]{1,3}$")


# Operations ---------------------------------------------------------------------------------


def start(
    tree: Tree,
    ctx: Context,
    *,
    language: str | None = None,
    resume: State | None = None,
    received: str | None = None,
) -> Outcome:
    """Open a conversation; offer to resume ``resume`` when it is an unfinished report. With
    ``received`` (the reference of this phone's last report), the first screen says once that it
    was received: its end screen may have been lost on a weak network."""
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
    node = tree.nodes.get(state.node)
    if received and node is not None:
        hint = received_hint(tree, ctx.catalog, language, received)
        # A courtesy, not a question: shown above the first screen only where it fits (the
        # question gives way to it if need be), never at the cost of a page of choices.
        if not view(tree, node, state, ctx).render(0, hint).overflow:
            return Outcome(render(tree, state, ctx, hint), state)
    return Outcome(render(tree, state, ctx), state)


def cancel(tree: Tree, state: State, ctx: Context) -> Outcome:
    """End the conversation without a report: a channel's stop word, or "yes, throw it away".
    A conversation that has already ended stays as it was."""
    state = copy(state)
    if state.ended:
        return Outcome(render(tree, state, ctx), state)
    answered = len(state.answers)
    state.node, state.ended, state.page, state.narrow = CANCELLED_NODE, True, 0, None
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
    ``date``, or a ``reference`` (the whole message: "123 4567" is one reference); ``skip`` is
    the token that answers an optional question with "skipped", ``keep`` the one that keeps an
    earlier answer; ``confirm``: the question is a confirmation, which a message answers alone."""

    kind: Literal["choice", "text", "number", "date", "reference"]
    skip: str | None = None
    keep: str | None = None
    confirm: bool = False
    # A menu that also takes a typed text (``Node.takes_text``), and how many numbers it shows.
    takes_text: bool = False
    options: int = 0


def accepts(tree: Tree, state: State) -> Accepts:
    node = tree.nodes.get(state.node)
    if node is not None and node.kind == "status":
        return Accepts("reference")
    if node is None or node.kind != "input":
        # Menus, lists, the confirmation and the system screens (resume, change, throw away).
        if node is not None and node.takes_text is not None:
            return Accepts("choice", takes_text=True, options=len(node.options))
        return Accepts("choice", confirm=node is not None and node.kind == "confirm")
    skip = node.skip_token if node.skip is not None else None
    keep = keep_token(node) if kept(state, node) is not None else None
    return Accepts(node.input_type or "text", skip, keep)


# One input ----------------------------------------------------------------------------------


def step(tree: Tree, state: State, user_input: str, ctx: Context) -> Outcome:
    """Apply one input to a conversation. Never raises on any input."""
    state = copy(state)
    text = user_input.strip()
    if state.ended:
        return Outcome(render(tree, state, ctx), state)
    if state.node == RESUME_NODE:
        return _step_resume(tree, state, text, ctx)
    if state.node == DISCARD_NODE:
        return _step_discard(tree, state, text, ctx)
    if state.node == CHANGE_NODE:
        return _step_change(tree, state, text, ctx)
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
        lang = language_of(tree, state)
        if node.kind in ("input", "status"):
            # "98" is a key, not an answer: a site called "98" is far less likely than a
            # reporter pressing "more" out of habit.
            return _reask(tree, state, ctx, ctx.catalog.gettext(lang, MSG_TYPE_ANSWER), text)
        hint = _choice_hint(tree, node, lang, ctx, MSG_NO_MORE)
        return _reask(tree, state, ctx, hint, text)
    if node.kind == "input":
        return _step_input(tree, state, node, text, ctx)
    if node.kind == "status":
        return _step_status(tree, state, node, text, ctx)
    return _step_choice(tree, state, node, text, ctx)


def _home(tree: Tree, state: State, ctx: Context) -> Outcome:
    fresh = fresh_state(tree, state.language)
    return Outcome(render(tree, fresh, ctx), fresh)


def _back(tree: Tree, state: State, ctx: Context) -> Outcome:
    if state.narrow is not None:
        state.narrow, state.page = None, 0  # back from the matches to the whole list
    elif state.page > 0:
        state.page -= 1
    elif state.stack:
        frame = state.stack.pop()
        if frame.node not in tree.nodes:
            return _home(tree, state, ctx)  # a tree edit removed it: start again
        state.node, state.page = frame.node, frame.page
        # The answers given since are kept aside, so that coming forward again can keep them.
        for entry in state.answers[frame.answers :]:
            state.previous[entry["node"]] = entry
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


def _step_discard(tree: Tree, state: State, text: str, ctx: Context) -> Outcome:
    """ "Throw this report away?" 1 yes, 2 (or 0) no: back to the screen that asked."""
    if text == "1":
        return cancel(tree, state, ctx)
    if text in ("2", BACK):
        return _back(tree, state, ctx)
    if text == HOME:
        return _home(tree, state, ctx)
    lang = language_of(tree, state)
    return _reask(tree, state, ctx, ctx.catalog.gettext(lang, MSG_INVALID_CHOICE), text)


def _choice_hint(tree: Tree, node: Node, lang: str, ctx: Context, message: str) -> str:
    if node.kind == "language":
        # Whoever is choosing a language may read none of them yet.
        return ctx.catalog.in_each(tree.languages, message)
    return ctx.catalog.gettext(lang, message)


def _pick(text: str, available: Sequence[Choice]) -> int | None:
    """The position a number picks among the choices on screen."""
    number = int(text) if _NUMBER.match(text) else 0
    return number - 1 if 1 <= number <= len(available) else None


def _step_choice(tree: Tree, state: State, node: Node, text: str, ctx: Context) -> Outcome:
    lang = language_of(tree, state)
    available = shown_choices(tree, node, state, ctx)
    position = _pick(text, available)
    if position is not None:
        return _choose(tree, state, node, available[position], ctx)
    if names.is_name(text) and node.kind != "confirm":
        everything = choices(tree, node, state, ctx)
        found = names.match(text, [choice.names() for choice in everything]).found
        if len(found) == 1:
            return _choose(tree, state, node, everything[found[0]], ctx)
        if found:
            # Several match: show just those, numbered from 1; "0" returns to the whole list.
            state.narrow, state.page = list(found), 0
            return Outcome(render(tree, state, ctx), state)
    if node.takes_text is not None and text:
        return _take_text(tree, state, node, node.takes_text, text, ctx)
    if node.error:
        return _reask(tree, state, ctx, text_in(node.error, lang, tree), text)
    return _reask(tree, state, ctx, _choice_hint(tree, node, lang, ctx, MSG_INVALID_CHOICE), text)


def _take_text(
    tree: Tree, state: State, node: Node, target: str, text: str, ctx: Context
) -> Outcome:
    """A typed text on a menu that takes one: choose the option leading to the text question,
    then answer it with the text ("3 blessés" typed at "anything to add?" is the details)."""
    option = next(o for o in node.options if any(b.goto == target for b in o.next))
    chosen = _choose(tree, state, node, Choice(label="", value=option.value, option=option), ctx)
    if chosen.state.node != target:
        return chosen  # a tree whose route depends on more than this option: ask as usual
    return _step_input(tree, chosen.state, tree.nodes[target], text, ctx)


def _choose(tree: Tree, state: State, node: Node, choice: Choice, ctx: Context) -> Outcome:
    lang = language_of(tree, state)
    answered = len(state.answers)
    state.narrow = None
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
        if not state.answers:
            return cancel(tree, state, ctx)
        # A report with answers is not thrown away on one key press next to "send".
        _push(state)
        state.node = DISCARD_NODE
        return Outcome(render(tree, state, ctx), state)
    if action == "change":
        _push(state)
        state.node = CHANGE_NODE
        return Outcome(render(tree, state, ctx), state)
    if action == "language":
        advance(tree, state, node, (), answered=answered, language=True)
        return Outcome(render(tree, state, ctx), state)
    if action == "submit":
        assert option is not None
        submission: Event = ReportSubmitted(
            language=lang,
            tree_id=tree.id,
            tree_version=tree.version,
            answers=state.entries(),
            send_reference=option.send_reference and ctx.offer_sms_reference,
        )
        advance(tree, state, node, option.next, answered=answered)
        return Outcome(None, state, (submission,))  # shown by ``submitted``, with its reference
    if choice.value is not None:
        extra: dict[str, Any] = {}
        if choice.item is not None:
            extra = {"label": choice.item.label, **choice.item.extra}
        record(state, node, choice.value, **extra)
    state.previous.pop(node.id, None)
    advance(tree, state, node, option.next if option else (), answered=answered)
    _fast_forward(tree, state, ctx)
    return Outcome(render(tree, state, ctx), state)


def _push(state: State) -> None:
    """Stack the current screen before a system screen, so that "0" comes back to it."""
    state.stack.append(Frame(node=state.node, page=state.page, answers=len(state.answers)))
    state.page = 0


def _step_input(tree: Tree, state: State, node: Node, text: str, ctx: Context) -> Outcome:
    lang = language_of(tree, state)
    answered = len(state.answers)
    _ = ctx.catalog.gettext
    if node.skip is not None and text == node.skip_token:
        if node.key:
            state.answers.append({"key": node.key, "node": node.id, "value": "", "skipped": True})
        state.previous.pop(node.id, None)
        advance(tree, state, node, node.skip.next, answered=answered)
        _fast_forward(tree, state, ctx)
        return Outcome(render(tree, state, ctx), state)
    earlier = kept(state, node)
    if earlier is not None and text == keep_token(node):
        state.answers.append(dict(earlier))
        state.previous.pop(node.id, None)
        advance(tree, state, node, node.next, answered=answered)
        _fast_forward(tree, state, ctx)
        return Outcome(render(tree, state, ctx), state)
    problem: str | None = None
    value: str = text
    shortened = False
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
        typed = read_date(text)
        if typed is not None and ahead_this_year(text, ctx.today):
            example = format_typed(typed.day, typed.month, ctx.today.year - 1)
            problem = date_ahead_hint(ctx.catalog, lang, example)
        elif found is None or (ctx.today - found).days > node.max_age_days:
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
            # Keep what fits and say so: retyping a long text on a keypad, against the
            # operator's idle timer, loses more than the end of it.
            value, shortened = cut_to(text, node.max_length), True
    if problem is not None:
        # A tree's own re-ask message explains the expected format; other problems say their own.
        if node.error and problem in (_(lang, MSG_INVALID_DATE), _(lang, MSG_INVALID_NUMBER)):
            problem = text_in(node.error, lang, tree)
        return _reask(tree, state, ctx, problem, text)
    extra: dict[str, Any] = {"shortened": True} if shortened else {}
    record(state, node, value, **extra)
    state.previous.pop(node.id, None)
    advance(tree, state, node, node.next, answered=answered)
    _fast_forward(tree, state, ctx)
    hint = shortened_hint(ctx.catalog, lang, node.max_length) if shortened else None
    return Outcome(render(tree, state, ctx, hint), state)


def _step_status(tree: Tree, state: State, node: Node, text: str, ctx: Context) -> Outcome:
    """ "Follow my report": a reference whose check digit is wrong is asked again without any
    lookup (a typo is not a wrong guess); a right one ends the conversation with what the
    context's lookup says this caller may hear about it."""
    reference = references.typed(text)
    if not references.is_valid(reference):
        lang = language_of(tree, state)
        hint = text_in(node.error, lang, tree) if node.error else None
        return _reask(
            tree, state, ctx, hint or ctx.catalog.gettext(lang, MSG_REFERENCE_INVALID), text
        )
    found = ctx.reports.status(reference) if ctx.reports is not None else NOT_FOUND
    state.node, state.ended, state.page, state.narrow = STATUS_NODE, True, 0, None
    state.asked, state.status = reference, found
    return Outcome(render(tree, state, ctx), state)


def cut_to(text: str, limit: int) -> str:
    """The start of ``text`` that takes at most ``limit`` GSM-7 septets, cut after a whole word
    when one ends near the limit."""
    used = 0
    end = 0
    for index, ch in enumerate(text):
        used += gsm.length(gsm.to_gsm(ch))
        if used > limit:
            break
        end = index + 1
    cut = text[:end]
    space = cut.rfind(" ")
    if end < len(text) and space >= max(1, end - 15) and not text[end].isspace():
        cut = cut[:space]
    return cut.rstrip()


# Changing one answer from the confirmation --------------------------------------------------


def _step_change(tree: Tree, state: State, text: str, ctx: Context) -> Outcome:
    lang = language_of(tree, state)
    if text == HOME:
        return _home(tree, state, ctx)
    if text == BACK:
        return _back(tree, state, ctx)
    listed = questions(tree, state)
    if text == MORE:
        if state.page + 1 < change_view(tree, state, ctx).pages():
            state.page += 1
            return Outcome(render(tree, state, ctx), state)
        return _reask(tree, state, ctx, ctx.catalog.gettext(lang, MSG_NO_MORE), text)
    number = int(text) if _NUMBER.match(text) else 0
    if not 1 <= number <= len(listed):
        found = names.match(text, [names.Names.of(n.title.values()) for n in listed]).found
        if len(found) != 1:
            return _reask(tree, state, ctx, ctx.catalog.gettext(lang, MSG_INVALID_CHOICE), text)
        number = found[0] + 1
    target = listed[number - 1]
    # Every answer is kept aside; the target question is asked again from where it was asked,
    # and the questions after it keep their answers (``_fast_forward``) unless they no longer
    # apply (a territoire of another province, the type of another category).
    first = next(i for i, e in enumerate(state.answers) if e.get("node") == target.id)
    frame = next(
        (i for i, f in enumerate(state.stack) if f.node == target.id and f.answers == first),
        None,
    )
    for entry in state.answers:
        state.previous[entry["node"]] = entry
    del state.answers[first:]
    if frame is not None:
        del state.stack[frame:]
    state.node, state.page, state.changing = target.id, 0, True
    return Outcome(render(tree, state, ctx), state)


def _replay_route(node: Node, entry: dict[str, Any]) -> Route:
    if node.kind == "input":
        return node.skip.next if entry.get("skipped") and node.skip is not None else node.next
    option = next((o for o in node.options if o.value == entry.get("value")), None)
    return option.next if option is not None and option.next else node.next


def _still_valid(tree: Tree, node: Node, entry: dict[str, Any], state: State, ctx: Context) -> bool:
    if entry.get("node") != node.id:
        return False
    if node.kind == "input":
        return True
    value = entry.get("value")
    return any(
        c.value == value
        for c in choices(tree, node, state, ctx)
        if c.option is None or not c.option.action
    )


def _fast_forward(tree: Tree, state: State, ctx: Context) -> None:
    """While changing an answer: pass over the questions that still hold their earlier answer,
    back to the confirmation. A titled question is kept when its answer still applies; a node
    without a title (the type of an incident, a typed date) only along with the question it
    belongs to, so that changing "what happened" asks its type again."""
    keeping = False
    while state.changing:
        node = tree.nodes.get(state.node)
        if node is None or node.kind in ("confirm", "end"):
            state.changing = False
            return
        entry = state.previous.get(node.id)
        if entry is None or not (node.title or keeping):
            return
        if not _still_valid(tree, node, entry, state, ctx):
            return
        keeping = True
        answered = len(state.answers)
        state.answers.append(dict(entry))
        del state.previous[node.id]
        advance(tree, state, node, _replay_route(node, entry), answered=answered)
