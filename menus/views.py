"""Rendering: what a node shows (its choices, its view before pagination, the confirmation's
summary) and the screen for a state. Reads states, never changes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from . import gsm
from .context import Context
from .datasets import Item
from .dates import format_date, format_typed
from .events import Screen
from .follow import message_for
from .i18n import Catalog
from .messages import (
    MSG_BACK,
    MSG_CANCELLED,
    MSG_CHANGE,
    MSG_CONTINUE,
    MSG_DATE_AHEAD,
    MSG_DELETE,
    MSG_DELETE_AFTER_REFERENCE,
    MSG_DISCARD,
    MSG_DISCARD_NO,
    MSG_DISCARD_YES,
    MSG_FUTURE_DATE,
    MSG_INVALID_ANSWER,
    MSG_INVALID_CHOICE,
    MSG_INVALID_DATE,
    MSG_INVALID_NUMBER,
    MSG_KEEP,
    MSG_MORE,
    MSG_NO_MORE,
    MSG_RECEIVED,
    MSG_REFERENCE_INVALID,
    MSG_RESUME,
    MSG_SHORTENED,
    MSG_START_AGAIN,
    MSG_TOO_SHORT,
    MSG_TYPE_ANSWER,
)
from .model import Node, Option, Text, Tree
from .moves import fresh_state
from .names import Names
from .render import Footer, Layout, fit_lines, layout, page_count
from .state import CANCELLED_NODE, CHANGE_NODE, DISCARD_NODE, RESUME_NODE, STATUS_NODE, State
from .tokens import BACK, MAX_CHOICES, MORE

T = TypeVar("T")

PLACEHOLDER = re.compile(r"\{([\w|]+)\}")  # {key} or {first|fallback}
# How much of an earlier answer "1 Keep: ..." shows: enough to recognise it, little enough to fit.
KEEP_PREVIEW = 24
# Actions a typed name never picks: sending, throwing away and the change screen want a number.
_NOT_BY_NAME = ("submit", "cancel", "change")


@dataclass(frozen=True)
class Choice:
    label: str
    value: str | None
    option: Option | None = None
    item: Item | None = None

    def names(self) -> Names | None:
        """What a typed name is compared with; None for a choice only a number may pick."""
        if self.item is not None:
            return self.item.names
        if self.option is not None:
            return None if self.option.action in _NOT_BY_NAME else self.option.names
        return Names.of([self.label])  # a language's own name


def language_of(tree: Tree, state: State) -> str:
    lang = state.language
    return lang if lang in tree.languages else tree.default_language


def text_in(text: Text, lang: str, tree: Tree) -> str:
    """A tree text in ``lang``, else in the tree's default language, else any."""
    return text.get(lang) or text.get(tree.default_language) or next(iter(text.values()), "")


def list_params(node: Node, values: dict[str, str]) -> dict[str, str]:
    return {param: values.get(key, "") for param, key in node.params}


# Screens and choices are worked out once per tree and kept on it (``Tree.memo``): a node's
# screen is the same for every reporter who reaches it the same way (same language, same list,
# same limits), and making it again cost a hop about half of the engine's time. Kept: up to this
# many, then forgotten all at once (the keys are few: nodes x languages x lists x limits).
MEMO_ENTRIES = 4096
PAGES_KEPT = 64  # a view's laid-out pages


def _kept(tree: Tree, key: tuple[Any, ...], make: Callable[[], T]) -> T:
    """What ``key`` names in the tree's memo, made now if it is not there yet."""
    memo = tree.memo
    found: T | None = memo.get(key)
    if found is None:
        if len(memo) >= MEMO_ENTRIES:
            memo.clear()
        found = memo[key] = make()
    return found


def _list_key(node: Node, state: State, ctx: Context) -> tuple[str, ...]:
    """What a list node's items depend on: the earlier answers its source is filtered by."""
    if node.kind != "list" or not node.params or node.source not in ctx.datasets:
        return ()
    values = state.values()
    return tuple(values.get(key, "") for _, key in node.params)


def choices(tree: Tree, node: Node, state: State, ctx: Context) -> tuple[Choice, ...]:
    """Every choice the node offers in this state, before a typed name narrows them."""
    lang = language_of(tree, state)
    key = (
        "choices",
        node.id,
        lang,
        _list_key(node, state, ctx),
        ctx.offer_sms_reference,
        ctx.datasets,
    )
    return _kept(tree, key, lambda: _choices(tree, node, state, ctx, lang))


def _choices(tree: Tree, node: Node, state: State, ctx: Context, lang: str) -> tuple[Choice, ...]:
    if node.kind == "language":
        return tuple(Choice(label=tree.language_names[code], value=code) for code in tree.languages)
    found: list[Choice] = []
    if node.kind == "list" and node.source in ctx.datasets:
        params = list_params(node, state.values())
        found = [
            Choice(label=item.label, value=item.code, item=item)
            for item in ctx.datasets.get(node.source).items(params)
        ]
    if node.kind in ("menu", "list", "confirm"):
        found += [
            Choice(label=text_in(o.label, lang, tree), value=o.value, option=o)
            for o in node.options
            if ctx.offer_sms_reference or not o.send_reference
        ]
    return tuple(found[:MAX_CHOICES])


def shown_choices(tree: Tree, node: Node, state: State, ctx: Context) -> tuple[Choice, ...]:
    """The choices on screen, numbered from 1: all of them, or those a typed name matched."""
    found = choices(tree, node, state, ctx)
    if state.narrow is None:
        return found
    return tuple(found[i] for i in state.narrow if 0 <= i < len(found))


def keep_token(node: Node) -> str:
    """The key that keeps an earlier typed answer: the first digit the skip option does not use."""
    skip = node.skip_token if node.skip is not None else None
    return next(str(d) for d in range(1, 10) if str(d) != skip)


def kept(state: State, node: Node) -> dict[str, Any] | None:
    """The earlier typed answer this input screen offers to keep, if any."""
    if node.kind != "input":
        return None
    entry = state.previous.get(node.id)
    return entry if entry is not None and not entry.get("skipped") else None


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
    # Its pages as laid out so far, by (page, hint): a view kept on its tree lays each out once.
    laid_out: dict[tuple[int, str | None], Layout] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def pages(self) -> int:
        return page_count(
            self.header, self.lines, self.footer, self.back, self.limit - self.reserve
        )

    def render(self, page: int, hint: str | None = None) -> Layout:
        found = self.laid_out.get((page, hint))
        if found is None:
            found = layout(
                header=self.header,
                lines=self.lines,
                footer=self.footer,
                back=self.back,
                page=page,
                limit=self.limit,
                hint=hint,
                reserve=self.reserve,
            )
            if len(self.laid_out) < PAGES_KEPT:  # hints are few; a page number may be anything
                self.laid_out[(page, hint)] = found
        return found


# The longest example a "write the year too" hint can show.
DATE_EXAMPLE_SAMPLE = format_typed(28, 12, 2000)


def date_ahead_hint(catalog: Catalog, lang: str, example: str) -> str:
    return catalog.gettext(lang, MSG_DATE_AHEAD).replace("{example}", example)


def received_hint(tree: Tree, catalog: Catalog, lang: str | None, reference: str) -> str:
    """ "Your report 1234567 was received", in the reporter's language (or in every one)."""
    if lang in tree.languages:
        text = catalog.gettext(lang, MSG_RECEIVED)
    else:
        text = catalog.in_each(tree.languages, MSG_RECEIVED)
    return text.replace("{reference}", reference)


def shortened_hint(catalog: Catalog, lang: str, max_length: int) -> str:
    return catalog.gettext(lang, MSG_SHORTENED).replace("{max}", str(max_length))


def hints(tree: Tree, node: Node, lang: str, catalog: Catalog) -> list[str]:
    """Every hint this node can show above its question, in ``lang``."""
    if node.kind == "language":
        # Whoever is choosing a language may read none of them yet.
        return [catalog.in_each(tree.languages, m) for m in (MSG_INVALID_CHOICE, MSG_NO_MORE)]
    _ = catalog.gettext
    if node.kind == "input":
        found = [
            _(lang, m)
            for m in (
                MSG_TOO_SHORT,
                MSG_INVALID_NUMBER,
                MSG_INVALID_DATE,
                MSG_FUTURE_DATE,
                MSG_INVALID_ANSWER,
                MSG_TYPE_ANSWER,
            )
        ]
        if node.input_type == "date":
            found.append(date_ahead_hint(catalog, lang, DATE_EXAMPLE_SAMPLE))
    elif node.kind == "status":
        found = [_(lang, MSG_REFERENCE_INVALID), _(lang, MSG_TYPE_ANSWER)]
    else:
        found = [_(lang, MSG_INVALID_CHOICE), _(lang, MSG_NO_MORE)]
    if node.id in tree.after_text:
        found.append(shortened_hint(catalog, lang, tree.after_text[node.id]))
    if node.error:
        found.append(text_in(node.error, lang, tree))
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


def _input_lines(tree: Tree, node: Node, state: State, lang: str, ctx: Context) -> tuple[str, ...]:
    lines: list[str] = []
    if node.skip is not None:
        lines.append(f"{node.skip_token} {text_in(node.skip.label, lang, tree)}")
    earlier = kept(state, node)
    if earlier is not None:
        shown = gsm.truncate(display(tree, earlier, lang), KEEP_PREVIEW)
        lines.append(f"{keep_token(node)} {ctx.catalog.gettext(lang, MSG_KEEP)}: {shown}")
    return tuple(lines)


def view(tree: Tree, node: Node, state: State, ctx: Context, hint: str | None = None) -> View:
    """The node's screen before pagination: made once per tree for each way of reaching it,
    except where it shows the reporter's own answers (the confirmation, an earlier typed answer
    offered to keep) or a typed name's matches. ``hint`` matters only to the confirmation, whose
    summary makes room for it; elsewhere the page keeps room for any hint (``reserve``)."""
    if node.kind == "confirm" or state.narrow is not None or kept(state, node) is not None:
        return _view(tree, node, state, ctx, hint)
    key = (
        "view",
        node.id,
        language_of(tree, state),
        bool(state.stack),
        _list_key(node, state, ctx),
        ctx.limit,
        ctx.stretch_limit,
        ctx.offer_sms_reference,
        ctx.catalog,
        ctx.datasets,
    )
    return _kept(tree, key, lambda: _view(tree, node, state, ctx, hint))


def _view(tree: Tree, node: Node, state: State, ctx: Context, hint: str | None) -> View:
    lang = language_of(tree, state)
    foot = footer(ctx, lang)
    back = bool(state.stack) or state.narrow is not None
    header = text_in(node.text, lang, tree) if node.text else ""
    lines: tuple[str, ...]
    if node.kind == "input":
        lines = _input_lines(tree, node, state, lang, ctx)
    else:
        lines = tuple(
            f"{n} {choice.label}"
            for n, choice in enumerate(shown_choices(tree, node, state, ctx), 1)
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


# The change screen ---------------------------------------------------------------------------


def questions(tree: Tree, state: State) -> list[Node]:
    """The questions answered so far, in the order they were asked: the titled nodes among the
    answers (a sub-category or a typed date belongs to the titled question before it)."""
    found: list[Node] = []
    for entry in state.answers:
        node = tree.nodes.get(entry.get("node", ""))
        if node is not None and node.title and node not in found:
            found.append(node)
    return found


def change_view(tree: Tree, state: State, ctx: Context) -> View:
    lang = language_of(tree, state)
    lines = tuple(
        f"{n} {text_in(node.title, lang, tree)}" for n, node in enumerate(questions(tree, state), 1)
    )
    hint = ctx.catalog.gettext(lang, MSG_INVALID_CHOICE)
    header = ctx.catalog.gettext(lang, MSG_CHANGE)
    reserve = max(0, gsm.length(hint) - gsm.length(header))
    return View(
        header=header,
        lines=lines,
        back=True,
        footer=footer(ctx, lang),
        limit=ctx.limit,
        reserve=reserve,
    )


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
            return text_in(option.label, lang, tree)
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
    templates = node.discreet_summary if ctx.discreet and node.discreet_summary else node.summary
    out: list[str] = []
    for template in templates:
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


# The current screen ------------------------------------------------------------------------


def fixed_screen(tree: Tree, state: State, ctx: Context, hint: str | None = None) -> Screen | None:
    """The screens that are not laid out in pages (the resume offer, the cancellation and its
    question, an end), untruncated, so that the validator can tell whether they fit; None for
    any other node."""
    lang = language_of(tree, state)
    _ = ctx.catalog.gettext
    lines: list[str]
    if state.node == RESUME_NODE:
        lines = [_(lang, MSG_RESUME), f"1 {_(lang, MSG_CONTINUE)}", f"2 {_(lang, MSG_START_AGAIN)}"]
        return Screen(text="\n".join([hint, *lines] if hint else lines), end=False)
    if state.node == DISCARD_NODE:
        lines = [
            _(lang, MSG_DISCARD),
            f"1 {_(lang, MSG_DISCARD_YES)}",
            f"2 {_(lang, MSG_DISCARD_NO)}",
        ]
        return Screen(text="\n".join([hint, *lines] if hint else lines), end=False)
    if state.node == STATUS_NODE:
        lines = [_(lang, message_for(state.status)).replace("{reference}", state.asked or "-")]
        if ctx.discreet:
            lines.append(_(lang, MSG_DELETE))
        return Screen(text="\n".join(lines), end=True)
    if state.node == CANCELLED_NODE:
        lines = [_(lang, MSG_CANCELLED)]
        if ctx.discreet and state.answers:
            lines.append(_(lang, MSG_DELETE))
        return Screen(text="\n".join(lines), end=True)
    node = tree.nodes.get(state.node)
    if node is not None and node.kind == "end":
        text = gsm.to_gsm(text_in(node.text, lang, tree))
        if ctx.discreet:
            advice = MSG_DELETE_AFTER_REFERENCE if "{reference}" in text else MSG_DELETE
            text = f"{text}\n{_(lang, advice)}"
        return Screen(text=text.replace("{reference}", state.reference or "-"), end=True)
    return None


def render(tree: Tree, state: State, ctx: Context, hint: str | None = None) -> Screen:
    fixed = fixed_screen(tree, state, ctx, hint)
    if fixed is not None:
        return Screen(text=gsm.truncate(fixed.text, ctx.limit), end=fixed.end)
    if state.node == CHANGE_NODE:
        return Screen(text=change_view(tree, state, ctx).render(state.page, hint).text, end=False)
    node = tree.nodes.get(state.node)
    if node is None:
        # The node no longer exists (a tree edit): show the screen ``step`` restarts on.
        return render(tree, fresh_state(tree, state.language), ctx)
    return Screen(text=view(tree, node, state, ctx, hint).render(state.page, hint).text, end=False)
