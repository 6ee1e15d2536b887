"""The conversation engine: (tree, state, input) -> (screen, new state, events).

Pure: no I/O, no clock, no randomness of its own. What the engine needs from the outside world
(today's date, a fresh reference, the data lists, the translations, the screen limit) comes in a
``Context``. Sessions are ``State`` objects the caller stores between turns.

Navigation works on every screen: ``0`` back, ``00`` start again, ``98`` more. Invalid input
re-asks the same question with a short hint in the reporter's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from . import gsm
from .datasets import Datasets, Item
from .dates import format_date, parse_date
from .i18n import N_, Catalog
from .model import Node, Option, Route, Tree
from .render import Footer, Layout, fit_lines, layout, page_count
from .state import CANCELLED_NODE, RESUME_NODE, Frame, State

BACK, HOME, MORE = "0", "00", "98"
NAVIGATION_TOKENS = (BACK, HOME, MORE)
MAX_CHOICES = 97  # numbers from 98 up are navigation
_NUMBER = re.compile(r"^[0-9]{1,3}$")
PLACEHOLDER = re.compile(r"\{([\w|]+)\}")  # {key} or {first|fallback}

# System strings (see locales/): extracted by pybabel through the N_ marker.
MSG_MORE = N_("More")
MSG_BACK = N_("Back")
MSG_INVALID_CHOICE = N_("Invalid choice.")
MSG_INVALID_ANSWER = N_("Invalid answer, please try again.")
MSG_TOO_SHORT = N_("Too short, please write more.")
MSG_TOO_LONG = N_("Too long: at most {max} characters.")
MSG_INVALID_NUMBER = N_("Reply with a number.")
MSG_INVALID_DATE = N_("Invalid date. Write DD/MM/YYYY.")
MSG_FUTURE_DATE = N_("That date is in the future.")
MSG_NO_MORE = N_("No more choices.")
MSG_RESUME = N_("You have an unfinished report.")
MSG_CONTINUE = N_("Continue")
MSG_START_AGAIN = N_("Start again")
MSG_CANCELLED = N_("Report cancelled. Nothing was sent.")
SYSTEM_MESSAGES = (
    MSG_MORE,
    MSG_BACK,
    MSG_INVALID_CHOICE,
    MSG_INVALID_ANSWER,
    MSG_TOO_SHORT,
    MSG_TOO_LONG,
    MSG_INVALID_NUMBER,
    MSG_INVALID_DATE,
    MSG_FUTURE_DATE,
    MSG_NO_MORE,
    MSG_RESUME,
    MSG_CONTINUE,
    MSG_START_AGAIN,
    MSG_CANCELLED,
)


def _no_reference() -> str:
    raise RuntimeError("this context cannot issue report references")


@dataclass(frozen=True)
class Context:
    catalog: Catalog
    datasets: Datasets
    today: date
    limit: int = 160
    # SMS: a list that needs pages at ``limit`` may use one longer message (up to this) first.
    stretch_limit: int | None = None
    new_reference: Callable[[], str] = _no_reference


# Events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageChosen:
    language: str


@dataclass(frozen=True)
class ReportSubmitted:
    reference: str
    language: str
    tree_id: str
    tree_version: int
    answers: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Cancelled:
    answered: int


@dataclass(frozen=True)
class Resumed:
    node: str


@dataclass(frozen=True)
class ResumeDeclined:
    pass


@dataclass(frozen=True)
class InvalidInput:
    node: str
    text: str


Event = LanguageChosen | ReportSubmitted | Cancelled | Resumed | ResumeDeclined | InvalidInput


@dataclass(frozen=True)
class Screen:
    text: str
    end: bool


@dataclass(frozen=True)
class Outcome:
    screen: Screen
    state: State
    events: tuple[Event, ...] = field(default_factory=tuple)


# Choices and views -------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    label: str
    value: str | None
    option: Option | None = None
    item: Item | None = None


def language_of(tree: Tree, state: State) -> str:
    lang = state.language
    return lang if lang in tree.languages else tree.default_language


def _text(text: dict[str, str], lang: str, tree: Tree) -> str:
    return text.get(lang) or text.get(tree.default_language) or next(iter(text.values()), "")


def list_params(node: Node, values: dict[str, str]) -> dict[str, str]:
    return {param: values.get(key, "") for param, key in node.params}


def choices(tree: Tree, node: Node, state: State, ctx: Context) -> list[Choice]:
    lang = language_of(tree, state)
    if node.kind == "language":
        return [Choice(label=tree.language_names[code], value=code) for code in tree.languages]
    found: list[Choice] = []
    if node.kind == "list" and node.source in ctx.datasets:
        params = list_params(node, state.values())
        found = [
            Choice(label=item.label, value=item.code, item=item)
            for item in ctx.datasets.get(node.source).items(params)
        ]
    if node.kind in ("menu", "list", "confirm"):
        found += [
            Choice(label=_text(o.label, lang, tree), value=o.value, option=o) for o in node.options
        ]
    return found[:MAX_CHOICES]


def footer(ctx: Context, lang: str) -> Footer:
    return Footer(
        more=f"{MORE} {ctx.catalog.gettext(lang, MSG_MORE)}",
        back=f"{BACK} {ctx.catalog.gettext(lang, MSG_BACK)}",
    )


@dataclass(frozen=True)
class View:
    """What a node's screen is made of, before pagination."""

    header: str
    lines: tuple[str, ...]
    back: bool
    footer: Footer
    limit: int
    reserve: int = 0

    def pages(self) -> int:
        return page_count(
            self.header, self.lines, self.footer, self.back, self.limit - self.reserve
        )

    def render(self, page: int, hint: str | None = None) -> Layout:
        return layout(
            header=self.header,
            lines=self.lines,
            footer=self.footer,
            back=self.back,
            page=page,
            limit=self.limit,
            hint=hint,
            reserve=self.reserve,
        )


def hints(tree: Tree, node: Node, lang: str, catalog: Catalog) -> list[str]:
    """Every re-ask hint this node can show, in ``lang``."""
    if node.kind == "input":
        messages = [
            MSG_TOO_SHORT,
            MSG_TOO_LONG,
            MSG_INVALID_NUMBER,
            MSG_INVALID_DATE,
            MSG_FUTURE_DATE,
            MSG_INVALID_ANSWER,
        ]
    elif node.kind == "language":
        # Whoever is choosing a language may read none of them yet.
        return [catalog.in_each(tree.languages, m) for m in (MSG_INVALID_CHOICE, MSG_NO_MORE)]
    else:
        messages = [MSG_INVALID_CHOICE, MSG_NO_MORE]
    found = [catalog.gettext(lang, m).replace("{max}", str(node.max_length)) for m in messages]
    if node.error:
        found.append(_text(node.error, lang, tree))
    return found


def _reserve(tree: Tree, node: Node, lang: str, header: str, ctx: Context) -> int:
    """Room a page must keep free so that any hint, replacing the question, still fits."""
    longest = max((gsm.length(h) for h in hints(tree, node, lang, ctx.catalog)), default=0)
    return max(0, longest - gsm.length(header))


def _effective_limit(
    header: str, lines: tuple[str, ...], foot: Footer, back: bool, reserve: int, ctx: Context
) -> int:
    stretch = ctx.stretch_limit or 0
    if stretch > ctx.limit and page_count(header, lines, foot, back, ctx.limit - reserve) > 1:
        return stretch
    return ctx.limit


def view(tree: Tree, node: Node, state: State, ctx: Context, hint: str | None = None) -> View:
    lang = language_of(tree, state)
    foot = footer(ctx, lang)
    back = bool(state.stack)
    header = _text(node.text, lang, tree) if node.text else ""
    lines: tuple[str, ...]
    if node.kind == "input":
        skip = node.skip
        lines = (f"{node.skip_token} {_text(skip.label, lang, tree)}",) if skip else ()
    else:
        lines = tuple(
            f"{n} {choice.label}" for n, choice in enumerate(choices(tree, node, state, ctx), 1)
        )
    if node.kind == "confirm":
        # The summary shrinks (free text first) so that the question and its options stay whole.
        fixed = layout(header=header, lines=lines, footer=foot, back=back, page=0, limit=10_000)
        budget = ctx.limit - gsm.length(fixed.text) - 1 - (gsm.length(hint) + 1 if hint else 0)
        summary = fit_lines(summary_lines(tree, node, state, ctx), budget)
        header = "\n".join([header, *summary]) if summary else header
        return View(header=header, lines=lines, back=back, footer=foot, limit=ctx.limit)
    reserve = _reserve(tree, node, lang, header, ctx)
    limit = _effective_limit(header, lines, foot, back, reserve, ctx)
    return View(header=header, lines=lines, back=back, footer=foot, limit=limit, reserve=reserve)


# Answers as the reporter reads them back -------------------------------------------------


def display(tree: Tree, entry: dict[str, Any], lang: str) -> str:
    """An answer as text in ``lang``: the chosen label, the typed text, or the date."""
    if entry.get("skipped"):
        return ""
    node = tree.nodes.get(entry.get("node", ""))
    value = entry.get("value", "")
    if node is None:
        return str(value)
    if node.kind == "input":
        if node.input_type == "date":
            try:
                return format_date(date.fromisoformat(value))
            except ValueError:
                return str(value)
        return gsm.to_gsm(str(value))
    if node.kind == "language":
        return str(tree.language_names.get(value, value))
    for option in node.options:
        if option.value == value:
            return _text(option.label, lang, tree)
    return gsm.to_gsm(str(entry.get("label", value)))


def _first_shown(tree: Tree, entries: dict[str, dict[str, Any]], group: str, lang: str) -> str:
    for key in group.split("|"):
        if key in entries:
            shown = display(tree, entries[key], lang)
            if shown:
                return shown
    return ""


def _filler(shown: dict[str, str]) -> Callable[[re.Match[str]], str]:
    return lambda match: shown.get(match.group(1), "")


def summary_lines(tree: Tree, node: Node, state: State, ctx: Context) -> list[str]:
    lang = language_of(tree, state)
    entries = state.entries()
    out: list[str] = []
    for template in node.summary:
        groups = PLACEHOLDER.findall(template)
        shown = {group: _first_shown(tree, entries, group, lang) for group in groups}
        if groups and not any(shown.values()):
            continue
        line = PLACEHOLDER.sub(_filler(shown), template)
        line = re.sub(r"^[\s,:;/-]+|[\s,:;/-]+$", "", line)
        line = re.sub(r"([,:;/-])\s*[,:;/-]+", r"\1", line)
        if line:
            out.append(gsm.to_gsm(line))
    return out


# Rendering the current screen --------------------------------------------------------------


def fixed_screen(tree: Tree, state: State, ctx: Context, hint: str | None = None) -> Screen | None:
    """The screens that are not laid out in pages (the resume offer, the cancellation, an end),
    untruncated, so that the validator can tell whether they fit; None for any other node."""
    lang = language_of(tree, state)
    _ = ctx.catalog.gettext
    if state.node == RESUME_NODE:
        lines = [_(lang, MSG_RESUME), f"1 {_(lang, MSG_CONTINUE)}", f"2 {_(lang, MSG_START_AGAIN)}"]
        return Screen(text="\n".join([hint, *lines] if hint else lines), end=False)
    if state.node == CANCELLED_NODE:
        return Screen(text=_(lang, MSG_CANCELLED), end=True)
    node = tree.nodes.get(state.node)
    if node is not None and node.kind == "end":
        text = _text(node.text, lang, tree).replace("{reference}", state.reference or "-")
        return Screen(text=gsm.to_gsm(text), end=True)
    return None


def render(tree: Tree, state: State, ctx: Context, hint: str | None = None) -> Screen:
    fixed = fixed_screen(tree, state, ctx, hint)
    if fixed is not None:
        return Screen(text=gsm.truncate(fixed.text, ctx.limit), end=fixed.end)
    node = tree.nodes.get(state.node)
    if node is None:
        # The node no longer exists (a tree edit): show the screen ``step`` restarts on.
        return render(tree, fresh_state(tree, state.language), ctx)
    return Screen(text=view(tree, node, state, ctx, hint).render(state.page, hint).text, end=False)


# Moving between nodes ----------------------------------------------------------------------


def resolve(route: Route, values: dict[str, str]) -> str | None:
    for branch in route:
        if branch.matches(values):
            return branch.goto
    return None


def _enter(tree: Tree, state: State, node_id: str | None, *, force_language: bool = False) -> None:
    """Make ``node_id`` current, passing over the language question once a language is known."""
    for _hop in range(len(tree.nodes) + 1):
        if node_id is None or node_id not in tree.nodes:
            node_id = tree.start
        node = tree.nodes[node_id]
        if node.kind == "language" and state.language and not force_language:
            node_id = resolve(node.next, state.values())
            force_language = False
            continue
        break
    state.node = node_id or tree.start
    state.page = 0
    if tree.nodes[state.node].kind == "end":
        state.ended = True


def _advance(
    tree: Tree, state: State, node: Node, route: Route, *, answered: int, language: bool = False
) -> None:
    """Leave ``node`` along ``route``. ``answered`` is how many answers existed before this screen
    was answered, so that ``0`` coming back here drops this screen's own answer too."""
    state.stack.append(Frame(node=state.node, page=state.page, answers=answered))
    if language:
        target = next((n.id for n in tree.nodes.values() if n.kind == "language"), None)
        _enter(tree, state, target, force_language=True)
        return
    _enter(tree, state, resolve(route or node.next, state.values()))


def _record(state: State, node: Node, value: str, **extra: Any) -> None:
    if node.key:
        state.answers.append({"key": node.key, "node": node.id, "value": value, **extra})


def fresh_state(tree: Tree, language: str | None = None) -> State:
    state = State(tree_id=tree.id, tree_version=tree.version, node=tree.start, language=language)
    _enter(tree, state, tree.start)
    return state


def _copy(state: State) -> State:
    return State.from_dict(state.to_dict())


# Public API --------------------------------------------------------------------------------


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


def step(tree: Tree, state: State, user_input: str, ctx: Context) -> Outcome:
    """Apply one input to a conversation. Never raises on any input."""
    state = _copy(state)
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
            return _reask(tree, state, ctx, _text(node.error, lang, tree), text)
        return _reask(
            tree, state, ctx, _choice_hint(tree, node, lang, ctx, MSG_INVALID_CHOICE), text
        )
    choice = available[number - 1]
    events: list[Event] = []
    if node.kind == "language":
        assert choice.value is not None
        state.language = choice.value
        _record(state, node, choice.value)
        _advance(tree, state, node, node.next, answered=answered)
        return Outcome(render(tree, state, ctx), state, (LanguageChosen(choice.value),))
    option = choice.option
    action = option.action if option else None
    if action == "restart":
        return _home(tree, state, ctx)
    if action == "cancel":
        state.node, state.ended, state.page = CANCELLED_NODE, True, 0
        return Outcome(render(tree, state, ctx), state, (Cancelled(answered),))
    if action == "language":
        _advance(tree, state, node, (), answered=answered, language=True)
        return Outcome(render(tree, state, ctx), state)
    if action == "submit":
        reference = ctx.new_reference()
        state.reference = reference
        events.append(
            ReportSubmitted(
                reference=reference,
                language=lang,
                tree_id=tree.id,
                tree_version=tree.version,
                answers=state.entries(),
            )
        )
    elif choice.value is not None:
        extra: dict[str, Any] = {}
        if choice.item is not None:
            extra = {"label": choice.item.label, **choice.item.extra}
        _record(state, node, choice.value, **extra)
    _advance(tree, state, node, option.next if option else (), answered=answered)
    return Outcome(render(tree, state, ctx), state, tuple(events))


def _step_input(tree: Tree, state: State, node: Node, text: str, ctx: Context) -> Outcome:
    lang = language_of(tree, state)
    answered = len(state.answers)
    _ = ctx.catalog.gettext
    if node.skip is not None and text == node.skip_token:
        if node.key:
            state.answers.append({"key": node.key, "node": node.id, "value": "", "skipped": True})
        _advance(tree, state, node, node.skip.next, answered=answered)
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
            problem = _text(node.error, lang, tree)
        return _reask(tree, state, ctx, problem, text)
    _record(state, node, value)
    _advance(tree, state, node, node.next, answered=answered)
    return Outcome(render(tree, state, ctx), state)


__all__ = [
    "Cancelled",
    "Context",
    "Event",
    "InvalidInput",
    "LanguageChosen",
    "Outcome",
    "ReportSubmitted",
    "ResumeDeclined",
    "Resumed",
    "Screen",
    "State",
    "render",
    "start",
    "step",
]
