"""Prove a tree may serve: links, reachability, languages, the report's keys, and every screen
within the limit.

``validate`` returns the problems (empty when the tree is fine) as ``Problem`` data; ``check``
raises ``TreeError`` with all of them. Screens are checked by rendering them with the engine's own
code, for every node, language, page, data-list variant and re-ask hint.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from . import engine, gsm
from . import problems as codes
from .codes import codes_of
from .contract import check_contract
from .datasets import Datasets
from .errors import TreeError
from .follow import STATUS_MESSAGES
from .i18n import Catalog
from .model import Node, Option, Route, Text, Tree
from .problems import Problem
from .state import (
    CANCELLED_NODE,
    CHANGE_NODE,
    DISCARD_NODE,
    RESUME_NODE,
    STATUS_NODE,
    Frame,
    State,
)

CONFIRM_SUMMARY_ROOM = 30  # septets a confirmation screen must leave for the summary
REFERENCE_SAMPLE = "0000000"


@dataclass(frozen=True)
class _Route:
    """A route and where it sits: the node's own ``next``, or one option's."""

    option: Option | None
    route: Route


def _routes(node: Node, *, retired: bool = False) -> Iterable[_Route]:
    yield _Route(None, node.next)
    for option in node.options:
        yield _Route(option, option.next)
    if retired:
        for option in node.retired:
            yield _Route(option, option.next)
    if node.skip is not None:
        yield _Route(node.skip, node.skip.next)


def _targets(tree: Tree, node: Node) -> set[str]:
    # A retired option's route still counts: retiring a category retires the sub-menu it leads
    # to along with it, rather than making the editor delete the sub-menu (and its codes).
    found = {b.goto for r in _routes(node, retired=True) for b in r.route}
    if any(o.action == "language" for o in node.options):
        found |= {n.id for n in tree.nodes.values() if n.kind == "language"}
    if any(o.action == "restart" for o in node.options):
        found.add(tree.start)
    return found


def _texts(tree: Tree) -> Iterable[tuple[str, str | None, str, Text]]:
    """Every translatable text: (node id, option id, field, text)."""
    for node in tree.nodes.values():
        if node.text:
            yield node.id, None, "text", node.text
        if node.error:
            yield node.id, None, "error", node.error
        if node.title:
            yield node.id, None, "title", node.title
        for option in (*node.options, *node.retired):
            yield node.id, option.id, "label", option.label
        if node.skip is not None:
            yield node.id, node.skip.id, "label", node.skip.label


def _check_structure(tree: Tree, datasets: Datasets) -> list[Problem]:
    problems: list[Problem] = []
    keys = {n.key for n in tree.nodes.values() if n.key}
    if tree.start not in tree.nodes:
        problems.append(
            Problem(codes.START_MISSING, f"start node '{tree.start}' does not exist", field="start")
        )
    language_nodes = [n for n in tree.nodes.values() if n.kind == "language"]
    if len(language_nodes) > 1:
        problems.append(Problem(codes.SEVERAL_LANGUAGE_NODES, "more than one language node"))
    for node in tree.nodes.values():
        problems += _check_node(tree, node, keys, datasets, bool(language_nodes))
    return problems


def _check_node(
    tree: Tree, node: Node, keys: set[str], datasets: Datasets, has_language_node: bool
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(
        code: str, message: str, option: Option | None = None, field: str | None = None
    ) -> None:
        problems.append(Problem(code, message, node.id, option.id if option else None, field=field))

    for found in _routes(node, retired=True):
        for branch in found.route:
            if branch.goto not in tree.nodes:
                problem(
                    codes.DANGLING_LINK,
                    f"goes to '{branch.goto}', which does not exist",
                    found.option,
                    "next",
                )
            for key, _value in branch.when:
                if key not in keys:
                    problem(
                        codes.UNKNOWN_ANSWER_KEY,
                        f"condition on '{key}', which no node answers",
                        found.option,
                        "next",
                    )
        if found.route and found.route[-1].when:
            problem(
                codes.DEFAULT_BRANCH_LAST,
                "the last branch must have no 'when' (the default)",
                found.option,
                "next",
            )
    needs_next = [o for o in node.options if not o.next and o.action is None]
    if node.kind in ("menu", "list", "confirm"):
        if not node.options and node.kind != "list":
            problem(codes.NO_OPTIONS, f"a {node.kind} needs options")
        if needs_next and not node.next:
            problem(codes.NO_NEXT, "options without 'next' or 'action' and no node 'next'")
        if node.key:
            for option in node.options:
                if option.action is None and option.value is None:
                    problem(
                        codes.MISSING_VALUE, f"needs a 'value' to store under '{node.key}'", option
                    )
        if len(node.options) > engine.MAX_CHOICES:
            problem(codes.TOO_MANY_OPTIONS, f"more than {engine.MAX_CHOICES} options")
    for option in node.retired:
        if option.value is None:
            problem(
                codes.MISSING_VALUE, "only an option with a 'value' (a code) can be retired", option
            )
    if node.kind in ("language", "input") and not node.next:
        problem(codes.NO_NEXT, "needs 'next'")
    if node.kind in ("list", "input") and not node.key:
        problem(codes.MISSING_KEY, "needs a 'key' to store the answer under")
    if node.kind == "list":
        if node.source not in datasets:
            problem(
                codes.UNKNOWN_SOURCE,
                f"data source '{node.source}' is unknown (known: {', '.join(datasets.names)})",
            )
        else:
            expected = set(datasets.get(node.source).parameters)
            given = {p for p, _ in node.params}
            if expected != given:
                problem(codes.BAD_PARAMS, f"params must be exactly {sorted(expected)}")
        for _param, key in node.params:
            if key not in keys:
                problem(codes.UNKNOWN_ANSWER_KEY, f"parameter from '{key}', which no node answers")
    if node.kind == "input":
        if node.skip_token in engine.NAVIGATION_TOKENS:
            problem(
                codes.SKIP_TOKEN_IS_NAVIGATION,
                f"skip_token '{node.skip_token}' is a navigation key",
            )
        if node.min_length > node.max_length:
            problem(codes.BAD_LENGTHS, "min_length is above max_length")
    if node.takes_text is not None:
        target = tree.nodes.get(node.takes_text)
        if node.kind != "menu":
            problem(codes.BAD_FIELD, "only a menu can take a typed text", field="takes_text")
        elif target is None or target.kind != "input" or target.input_type != "text":
            problem(
                codes.BAD_FIELD,
                f"takes_text must name a text input, not '{node.takes_text}'",
                field="takes_text",
            )
        elif not any(b.goto == target.id for o in node.options for b in o.next):
            problem(
                codes.BAD_FIELD,
                f"takes_text: no option leads to '{target.id}'",
                field="takes_text",
            )
    if node.kind == "confirm" and not any(o.action == "submit" for o in node.options):
        problem(codes.NO_SUBMIT, "a confirmation needs an option with action 'submit'")
    for option in node.options:
        if option.send_reference and option.action != "submit":
            problem(codes.BAD_FIELD, "only a 'submit' option can send the reference", option)
        if option.action == "change" and not any(n.title for n in tree.nodes.values()):
            problem(
                codes.NO_TITLES,
                "'change' lists the questions by their 'title', and no node has one",
                option,
            )
        if option.action == "submit":
            targets = [b.goto for b in option.next or node.next]
            if not targets or any(t in tree.nodes and tree.nodes[t].kind != "end" for t in targets):
                problem(codes.SUBMIT_NOT_TO_END, "'submit' must lead to an end node", option)
        if option.action == "language" and not has_language_node:
            problem(codes.NO_LANGUAGE_NODE, "'language' needs a language node", option)
    if node.kind == "end" and (node.options or node.next):
        problem(codes.END_WITH_NEXT, "an end node has no options and no next")
    if node.kind == "status" and (node.options or node.next or node.key):
        # Its answer ends the conversation, and the reference typed is no report's answer.
        problem(codes.END_WITH_NEXT, "a status node has no options, no next and no key")
    if node.kind == "confirm":
        for template in (*node.summary, *node.discreet_summary):
            for group in engine.PLACEHOLDER.findall(template):
                for key in group.split("|"):
                    if key not in keys:
                        problem(
                            codes.UNKNOWN_ANSWER_KEY,
                            f"summary names '{key}', which no node answers",
                            field="summary",
                        )
    return problems


def _check_paths(tree: Tree) -> list[Problem]:
    """Every node is reachable from the start, and from every node an end can be reached."""
    if tree.start not in tree.nodes:
        return []
    problems: list[Problem] = []
    edges = {node.id: _targets(tree, node) & tree.nodes.keys() for node in tree.nodes.values()}
    seen = {tree.start}
    queue = deque([tree.start])
    while queue:
        for target in edges[queue.popleft()]:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    for node_id in tree.nodes:
        if node_id not in seen:
            problems.append(Problem(codes.UNREACHABLE, "cannot be reached from the start", node_id))
    ending = {
        n.id
        for n in tree.nodes.values()
        if n.kind in ("end", "status") or any(o.action == "cancel" for o in n.options)
    }
    changed = True
    while changed:
        changed = False
        for node_id, targets in edges.items():
            if node_id not in ending and targets & ending:
                ending.add(node_id)
                changed = True
    for node_id in tree.nodes:
        if node_id in seen and node_id not in ending:
            problems.append(Problem(codes.NO_END, "no path from here reaches an end", node_id))
    return problems


def _check_languages(tree: Tree, catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    for node_id, option_id, field, text in _texts(tree):
        for lang in tree.languages:
            if lang not in text:
                problems.append(
                    Problem(
                        codes.MISSING_TEXT, f"no text in {lang}", node_id, option_id, lang, field
                    )
                )
        problems += _check_placeholders(tree, node_id, option_id, field, text)
    for lang in tree.languages:
        untranslated = catalog.missing(lang, list(engine.SYSTEM_MESSAGES))
        if untranslated:
            problems.append(
                Problem(
                    codes.UNTRANSLATED_SYSTEM_MESSAGES,
                    f"{len(untranslated)} system message(s) untranslated in "
                    f"locales/{lang} (e.g. {untranslated[0]!r})",
                    language=lang,
                )
            )
    return problems


def _check_placeholders(
    tree: Tree, node_id: str, option_id: str | None, field: str, text: Text
) -> list[Problem]:
    """Every language keeps the default language's placeholders: a translation without
    ``{reference}`` would end a report without giving its number."""
    default = text.get(tree.default_language)
    if default is None:
        return []
    wanted = sorted(set(engine.PLACEHOLDER.findall(default)))
    problems: list[Problem] = []
    for lang in tree.languages:
        if lang == tree.default_language or lang not in text:
            continue
        found = sorted(set(engine.PLACEHOLDER.findall(text[lang])))
        if found != wanted:
            shown = ", ".join(f"{{{p}}}" for p in wanted) or "none"
            has = ", ".join(f"{{{p}}}" for p in found) or "none"
            problems.append(
                Problem(
                    codes.PLACEHOLDER_MISMATCH,
                    f"placeholders must be {shown} as in {tree.default_language}, not {has}",
                    node_id,
                    option_id,
                    lang,
                    field,
                )
            )
    return problems


KEEP_SAMPLE = "W" * 40  # an earlier answer offered to keep, longer than its preview


def _sample_states(tree: Tree, node: Node, lang: str, datasets: Datasets) -> Iterable[State]:
    """States that show every variant of ``node``'s screen (each data list the node can show,
    and an input with an earlier answer to keep)."""
    back = [Frame(node=tree.start, page=0, answers=0)]
    if node.kind == "list" and node.source in datasets and node.params:
        for params in datasets.get(node.source).parameter_space():
            answers = [
                {"key": key, "node": "", "value": params.get(param, "")}
                for param, key in node.params
            ]
            yield State(tree.id, tree.version, node.id, lang, answers=answers, stack=list(back))
        yield State(tree.id, tree.version, node.id, lang, stack=list(back))
        return
    yield State(tree.id, tree.version, node.id, lang, stack=list(back))
    if node.kind == "input":
        earlier = {"key": node.key, "node": node.id, "value": KEEP_SAMPLE}
        previous = {node.id: earlier}
        yield State(tree.id, tree.version, node.id, lang, stack=list(back), previous=previous)


def _overflow(
    node_id: str,
    lang: str,
    shown: engine.View,
    hints: list[str | None],
    limit: int,
    sms: bool = False,
) -> list[Problem]:
    for page in range(shown.pages()):
        for hint in hints:
            if shown.render(page, hint).overflow:
                variant = f"page {page + 1}" + (f", re-ask {hint!r}" if hint else "")
                variant += ", by SMS" if sms else ""
                message = f"screen does not fit in {limit} characters ({variant})"
                return [Problem(codes.SCREEN_TOO_LONG, message, node_id, language=lang)]
    return []


def _check_confirm(
    tree: Tree,
    node: Node,
    state: State,
    shown: engine.View,
    limit: int,
    catalog: Catalog,
    sms: bool = False,
) -> list[Problem]:
    lang = state.language or tree.default_language
    fixed = gsm.length(shown.render(0).text)
    if limit - fixed < CONFIRM_SUMMARY_ROOM:
        return [
            Problem(
                codes.CONFIRM_TOO_FULL,
                f"question and options take {fixed} characters, leaving less "
                f"than {CONFIRM_SUMMARY_ROOM} of {limit} for the summary",
                node.id,
                language=lang,
            )
        ]
    hints: list[str | None] = list(engine.hints(tree, node, lang, catalog))
    return _overflow(node.id, lang, shown, hints, limit, sms)


def _check_screens(tree: Tree, datasets: Datasets, catalog: Catalog, limit: int) -> list[Problem]:
    problems: list[Problem] = []
    plain = engine.Context(catalog=catalog, datasets=datasets, today=date(2000, 1, 1), limit=limit)
    # The same screens where the conversation stays on the handset (SMS: a discreet summary,
    # advice to delete the messages), and with every option a deployment may offer.
    variants = (
        replace(plain, offer_sms_reference=True),
        replace(plain, discreet=True, offer_sms_reference=True),
    )
    ctx = variants[0]
    for node in tree.nodes.values():
        for lang in tree.languages:
            if node.kind == "end":
                for variant in variants:
                    state = State(tree.id, tree.version, node.id, lang, reference=REFERENCE_SAMPLE)
                    screen = engine.fixed_screen(tree, state, variant)
                    problems += _too_long(node.id, lang, screen, limit, variant.discreet)
                continue
            for state in _sample_states(tree, node, lang, datasets):
                try:
                    shown = engine.view(tree, node, state, ctx)
                except KeyError as exc:
                    problems.append(
                        Problem(
                            codes.CANNOT_SHOW, f"cannot be shown ({exc})", node.id, language=lang
                        )
                    )
                    break
                if node.kind == "confirm":
                    for variant in variants:
                        shown = engine.view(tree, node, state, variant)
                        problems += _check_confirm(
                            tree, node, state, shown, limit, catalog, variant.discreet
                        )
                    continue
                hints = [None, *engine.hints(tree, node, lang, catalog)]
                found = _overflow(node.id, lang, shown, hints, limit)
                problems += found
                if found:
                    break
    problems += _check_system_screens(tree, catalog, variants, limit)
    return _once(problems)


def _once(problems: list[Problem]) -> list[Problem]:
    """A fault shared by both variants (USSD and SMS) is said once, as USSD's (found first)."""
    seen: dict[tuple[str, str | None, str | None, str | None], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.code, problem.node, problem.option, problem.language), problem)
    return list(seen.values())


def _check_system_screens(
    tree: Tree, catalog: Catalog, variants: tuple[engine.Context, ...], limit: int
) -> list[Problem]:
    """The screens the engine adds to every tree: resume, throw away, cancelled, change, and
    the answers to "follow my report" where a tree asks it."""
    problems: list[Problem] = []
    titled = [n for n in tree.nodes.values() if n.title]
    for lang in tree.languages:
        hint = catalog.gettext(lang, engine.MSG_INVALID_CHOICE)
        answered = [{"key": n.key, "node": n.id, "value": "x"} for n in titled]
        for variant in variants:
            for pseudo, shown_hint in (
                (RESUME_NODE, hint),
                (DISCARD_NODE, hint),
                (CANCELLED_NODE, None),
            ):
                state = State(tree.id, tree.version, pseudo, lang, answers=list(answered))
                screen = engine.fixed_screen(tree, state, variant, shown_hint)
                problems += _too_long(pseudo, lang, screen, limit, variant.discreet)
            if any(n.kind == "status" for n in tree.nodes.values()):
                for status in STATUS_MESSAGES:
                    state = State(tree.id, tree.version, STATUS_NODE, lang, ended=True)
                    state.asked, state.status = REFERENCE_SAMPLE, status
                    screen = engine.fixed_screen(tree, state, variant)
                    problems += _too_long(STATUS_NODE, lang, screen, limit, variant.discreet)
        if titled:
            state = State(tree.id, tree.version, CHANGE_NODE, lang, answers=answered)
            shown = engine.change_view(tree, state, variants[0])
            problems += _overflow(CHANGE_NODE, lang, shown, [None, hint], limit)
    return problems


def _too_long(
    node: str, lang: str, screen: engine.Screen | None, limit: int, sms: bool = False
) -> list[Problem]:
    if screen is None or gsm.length(screen.text) <= limit:
        return []
    by = " by SMS" if sms else ""
    message = f"screen is {gsm.length(screen.text)} characters{by}, limit {limit}"
    return [Problem(codes.SCREEN_TOO_LONG, message, node, language=lang)]


def validate(
    tree: Tree, datasets: Datasets, catalog: Catalog, limits: Iterable[int] = (160,)
) -> list[Problem]:
    problems = _check_structure(tree, datasets)
    problems += _check_paths(tree)
    problems += _check_languages(tree, catalog)
    problems += check_contract(tree)
    problems += codes_of(tree)[1]  # a code defined twice (codes that have reports: checker)
    if problems:
        return problems  # screens of a broken tree would only repeat the same faults
    for limit in sorted(set(limits)):
        problems += _check_screens(tree, datasets, catalog, limit)
        if problems:
            break
    return problems


def check(tree: Tree, datasets: Datasets, catalog: Catalog, limits: Iterable[int] = (160,)) -> Tree:
    problems = validate(tree, datasets, catalog, limits)
    if problems:
        raise TreeError(tree.source, problems)
    return tree
