"""Prove a tree may serve: links, reachability, languages, and every screen within the limit.

``validate`` returns the list of problems (empty when the tree is fine); ``check`` raises
``TreeError`` with all of them. Screens are checked by rendering them with the engine's own code,
for every node, language, page, data-list variant and re-ask hint.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import date

from . import engine, gsm
from .datasets import Datasets
from .errors import TreeError
from .i18n import Catalog
from .model import Node, Route, Text, Tree
from .state import CANCELLED_NODE, RESUME_NODE, Frame, State

CONFIRM_SUMMARY_ROOM = 30  # septets a confirmation screen must leave for the summary
REFERENCE_SAMPLE = "0000000"


def _routes(node: Node) -> Iterable[tuple[str, Route]]:
    yield f"node '{node.id}' next", node.next
    for i, option in enumerate(node.options, 1):
        yield f"node '{node.id}' option {i}", option.next
    if node.skip is not None:
        yield f"node '{node.id}' skip", node.skip.next


def _targets(tree: Tree, node: Node) -> set[str]:
    found = {b.goto for _, route in _routes(node) for b in route}
    if any(o.action == "language" for o in node.options):
        found |= {n.id for n in tree.nodes.values() if n.kind == "language"}
    if any(o.action == "restart" for o in node.options):
        found.add(tree.start)
    return found


def _texts(tree: Tree) -> Iterable[tuple[str, Text]]:
    for node in tree.nodes.values():
        if node.text:
            yield f"node '{node.id}' text", node.text
        if node.error:
            yield f"node '{node.id}' error", node.error
        for i, option in enumerate(node.options, 1):
            yield f"node '{node.id}' option {i}", option.label
        if node.skip is not None:
            yield f"node '{node.id}' skip", node.skip.label


def _check_structure(tree: Tree, datasets: Datasets) -> list[str]:
    problems: list[str] = []
    keys = {n.key for n in tree.nodes.values() if n.key}
    if tree.start not in tree.nodes:
        problems.append(f"tree: start node '{tree.start}' does not exist")
    language_nodes = [n for n in tree.nodes.values() if n.kind == "language"]
    if len(language_nodes) > 1:
        problems.append("tree: more than one language node")
    for node in tree.nodes.values():
        where = f"node '{node.id}'"
        for label, route in _routes(node):
            for branch in route:
                if branch.goto not in tree.nodes:
                    problems.append(f"{label}: goes to '{branch.goto}', which does not exist")
                for key, _value in branch.when:
                    if key not in keys:
                        problems.append(f"{label}: condition on '{key}', which no node answers")
            if route and route[-1].when:
                problems.append(f"{label}: the last branch must have no 'when' (the default)")
        needs_next = [o for o in node.options if not o.next and o.action is None]
        if node.kind in ("menu", "list", "confirm"):
            if not node.options and node.kind != "list":
                problems.append(f"{where}: a {node.kind} needs options")
            if needs_next and not node.next:
                problems.append(f"{where}: options without 'next' or 'action' and no node 'next'")
            if node.key:
                for i, option in enumerate(node.options, 1):
                    if option.action is None and option.value is None:
                        problems.append(
                            f"{where} option {i}: needs a 'value' to store under '{node.key}'"
                        )
            if len(node.options) > engine.MAX_CHOICES:
                problems.append(f"{where}: more than {engine.MAX_CHOICES} options")
        if node.kind in ("language", "input") and not node.next:
            problems.append(f"{where}: needs 'next'")
        if node.kind in ("list", "input") and not node.key:
            problems.append(f"{where}: needs a 'key' to store the answer under")
        if node.kind == "list":
            if node.source not in datasets:
                problems.append(
                    f"{where}: data source '{node.source}' is unknown (known: {', '.join(datasets.names)})"
                )
            else:
                expected = set(datasets.get(node.source).parameters)
                given = {p for p, _ in node.params}
                if expected != given:
                    problems.append(f"{where}: params must be exactly {sorted(expected)}")
            for _param, key in node.params:
                if key not in keys:
                    problems.append(f"{where}: parameter from '{key}', which no node answers")
        if node.kind == "input":
            if node.skip_token in engine.NAVIGATION_TOKENS:
                problems.append(f"{where}: skip_token '{node.skip_token}' is a navigation key")
            if node.min_length > node.max_length:
                problems.append(f"{where}: min_length is above max_length")
        if node.kind == "confirm" and not any(o.action == "submit" for o in node.options):
            problems.append(f"{where}: a confirmation needs an option with action 'submit'")
        for i, option in enumerate(node.options, 1):
            if option.action == "submit":
                targets = [b.goto for b in option.next or node.next]
                if not targets or any(
                    t in tree.nodes and tree.nodes[t].kind != "end" for t in targets
                ):
                    problems.append(f"{where} option {i}: 'submit' must lead to an end node")
            if option.action == "language" and not language_nodes:
                problems.append(f"{where} option {i}: 'language' needs a language node")
        if node.kind == "end" and (node.options or node.next):
            problems.append(f"{where}: an end node has no options and no next")
        if node.kind == "confirm":
            for template in node.summary:
                for group in engine.PLACEHOLDER.findall(template):
                    for key in group.split("|"):
                        if key not in keys:
                            problems.append(
                                f"{where}: summary names '{key}', which no node answers"
                            )
    return problems


def _check_paths(tree: Tree) -> list[str]:
    """Every node is reachable from the start, and from every node an end can be reached."""
    if tree.start not in tree.nodes:
        return []
    problems: list[str] = []
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
            problems.append(f"node '{node_id}': cannot be reached from the start")
    ending = {
        n.id
        for n in tree.nodes.values()
        if n.kind == "end" or any(o.action == "cancel" for o in n.options)
    }
    changed = True
    while changed:
        changed = False
        for node_id, targets in edges.items():
            if node_id not in ending and targets & ending:
                ending.add(node_id)
                changed = True
    for node_id in seen - ending:
        problems.append(f"node '{node_id}': no path from here reaches an end")
    return problems


def _check_languages(tree: Tree, catalog: Catalog) -> list[str]:
    problems: list[str] = []
    for where, text in _texts(tree):
        missing = [lang for lang in tree.languages if lang not in text]
        if missing:
            problems.append(f"{where}: no text in {', '.join(missing)}")
    for lang in tree.languages:
        untranslated = catalog.missing(lang, list(engine.SYSTEM_MESSAGES))
        if untranslated:
            problems.append(
                f"language '{lang}': {len(untranslated)} system message(s) untranslated in "
                f"locales/{lang} (e.g. {untranslated[0]!r})"
            )
    return problems


def _sample_states(tree: Tree, node: Node, lang: str, datasets: Datasets) -> Iterable[State]:
    """States that show every variant of ``node``'s screen (each data list the node can show)."""
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


def _check_screens(tree: Tree, datasets: Datasets, catalog: Catalog, limit: int) -> list[str]:
    problems: list[str] = []
    ctx = engine.Context(catalog=catalog, datasets=datasets, today=date(2000, 1, 1), limit=limit)
    for node in tree.nodes.values():
        for lang in tree.languages:
            where = f"node '{node.id}' ({lang})"
            if node.kind == "end":
                state = State(tree.id, tree.version, node.id, lang, reference=REFERENCE_SAMPLE)
                problems += _too_long(where, engine.fixed_screen(tree, state, ctx), limit)
                continue
            for state in _sample_states(tree, node, lang, datasets):
                try:
                    shown = engine.view(tree, node, state, ctx)
                except KeyError as exc:
                    problems.append(f"{where}: cannot be shown ({exc})")
                    break
                if node.kind == "confirm":
                    fixed = gsm.length(shown.render(0).text)
                    if limit - fixed < CONFIRM_SUMMARY_ROOM:
                        problems.append(
                            f"{where}: question and options take {fixed} characters, leaving "
                            f"less than {CONFIRM_SUMMARY_ROOM} of {limit} for the summary"
                        )
                    continue
                hints = [None, *engine.hints(tree, node, lang, catalog)]
                for page in range(shown.pages()):
                    for hint in hints:
                        rendered = shown.render(page, hint)
                        if rendered.overflow:
                            variant = f", page {page + 1}" + (f", re-ask {hint!r}" if hint else "")
                            problems.append(
                                f"{where}{variant}: screen does not fit in {limit} characters"
                            )
                            break
    for lang in tree.languages:
        hint = catalog.gettext(lang, engine.MSG_INVALID_CHOICE)
        for pseudo, shown_hint in ((RESUME_NODE, hint), (CANCELLED_NODE, None)):
            state = State(tree.id, tree.version, pseudo, lang)
            screen = engine.fixed_screen(tree, state, ctx, shown_hint)
            problems += _too_long(f"system screen {pseudo} ({lang})", screen, limit)
    return problems


def _too_long(where: str, screen: engine.Screen | None, limit: int) -> list[str]:
    if screen is None or gsm.length(screen.text) <= limit:
        return []
    return [f"{where}: screen is {gsm.length(screen.text)} characters, limit {limit}"]


def validate(
    tree: Tree, datasets: Datasets, catalog: Catalog, limits: Iterable[int] = (160,)
) -> list[str]:
    problems = _check_structure(tree, datasets)
    problems += _check_paths(tree)
    problems += _check_languages(tree, catalog)
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
