"""Moving a state through the tree: which node comes next, entering it, recording an answer.

No rendering and no input parsing: ``steps`` decides what an input means and calls these;
``views`` needs ``fresh_state`` to show where a conversation on a removed node restarts.
"""

from __future__ import annotations

from typing import Any

from .model import Node, Route, Tree
from .state import Frame, State


def resolve(route: Route, values: dict[str, str]) -> str | None:
    for branch in route:
        if branch.matches(values):
            return branch.goto
    return None


def enter(tree: Tree, state: State, node_id: str | None, *, force_language: bool = False) -> None:
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


def advance(
    tree: Tree, state: State, node: Node, route: Route, *, answered: int, language: bool = False
) -> None:
    """Leave ``node`` along ``route``. ``answered`` is how many answers existed before this screen
    was answered, so that ``0`` coming back here drops this screen's own answer too."""
    state.stack.append(Frame(node=state.node, page=state.page, answers=answered))
    if language:
        target = next((n.id for n in tree.nodes.values() if n.kind == "language"), None)
        enter(tree, state, target, force_language=True)
        return
    enter(tree, state, resolve(route or node.next, state.values()))


def record(state: State, node: Node, value: str, **extra: Any) -> None:
    if node.key:
        state.answers.append({"key": node.key, "node": node.id, "value": value, **extra})


def fresh_state(tree: Tree, language: str | None = None) -> State:
    state = State(tree_id=tree.id, tree_version=tree.version, node=tree.start, language=language)
    enter(tree, state, tree.start)
    return state


def copy(state: State) -> State:
    """A state the engine may change without touching the caller's (states are plain data)."""
    return State.from_dict(state.to_dict())
