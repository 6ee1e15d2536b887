"""Property: whatever a reporter types, the engine never raises, never mutates the state it is
given, and every screen stays within the limit and the GSM 7-bit alphabet."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from menus import engine, gsm, views
from menus.datasets import load_default_datasets
from menus.engine import Context, Outcome, ReportSubmitted
from menus.i18n import Catalog
from menus.loader import read_tree
from menus.model import Tree
from menus.state import State
from menus.validate import validate

DEFAULT_TREE = Path(__file__).resolve().parents[1] / "menus" / "trees" / "incident.yaml"
TREE = read_tree(DEFAULT_TREE)
CATALOG = Catalog.load()
DATASETS = load_default_datasets()
LIMITS = (160, 140)
LANGUAGES = (None, *TREE.languages)

# Mostly small numbers, so that random walks get deep into the tree; then everything else.
INPUTS = st.one_of(
    st.sampled_from([str(n) for n in range(1, 11)]),
    st.sampled_from(["0", "00", "98", "", " ", "*", "1*2", "99", "97", "007", "-1", "+1"]),
    st.sampled_from(["12/05/2026", "29/02", "31/02/2026", "01/01/2099", "Mongbwalu", "Kamituga"]),
    st.text(max_size=30),
    st.text(alphabet="ÀÊçœ«»’…–—\u00a0€[]{}~^|\\😀Жä中", max_size=30),
    st.text(min_size=100, max_size=400),
)


@st.composite
def conversations(draw: st.DrawFn) -> list[str]:
    """A plausible report, answer by answer, with noise between the answers and after them."""
    numbers = st.integers(min_value=1, max_value=10).map(str)
    forward = [
        draw(st.sampled_from(["1", "2", "3"])),  # language (or "report" when it is known)
        "1",
        draw(numbers),  # category
        draw(numbers),  # sub-category
        draw(numbers),  # province
        draw(numbers),  # territory
        draw(st.sampled_from(["1", "Mongbwalu", "Mine de Kamituga, puits 3"])),
        draw(st.sampled_from(["1", "2", "3", "4"])),
        draw(st.sampled_from(["12/05/2026", "1205", "1", "Ras"])),
        draw(st.sampled_from(["1", "Deux blessés près du puits", "x" * 140])),
        draw(st.sampled_from(["1", "2", "0"])),
    ]
    inputs: list[str] = []
    for answer in forward:
        inputs += draw(st.lists(INPUTS, max_size=2))
        inputs.append(answer)
    return inputs + draw(st.lists(INPUTS, max_size=8))


def make_ctx(limit: int, stretch_limit: int | None = None) -> Context:
    return Context(
        catalog=CATALOG,
        datasets=DATASETS,
        today=date(2026, 11, 24),
        limit=limit,
        stretch_limit=stretch_limit,
    )


def test_the_default_tree_validates_at_every_limit_used_here() -> None:
    assert validate(TREE, DATASETS, CATALOG, LIMITS) == []


def _snapshot(state: State) -> str:
    return json.dumps(state.to_dict(), sort_keys=True)


def _check_screen(tree: Tree, ctx: Context, outcome: Outcome, limit: int) -> None:
    screen = outcome.screen
    if screen is None:
        # A submission: its end screen exists once storage gives the report a reference.
        assert any(isinstance(e, ReportSubmitted) for e in outcome.events), outcome
        screen = engine.submitted(tree, outcome.state, "1234567", ctx).screen
        assert screen is not None
    text = screen.text
    assert text
    assert gsm.length(text) <= limit, text
    assert gsm.is_gsm(text), text
    if outcome.state.ended:
        assert screen.end


def _walk(tree: Tree, ctx: Context, first: Outcome, inputs: list[str], limit: int) -> None:
    outcome = first
    _check_screen(tree, ctx, outcome, limit)
    for text in inputs:
        before = _snapshot(outcome.state)
        following = engine.step(tree, outcome.state, text, ctx)
        assert _snapshot(outcome.state) == before, "step mutated its input state"
        _check_screen(tree, ctx, following, limit)
        # Screens are kept on the tree (``Tree.memo``), and ``TREE`` serves every example here
        # as a process's tree serves every reporter: the same step on a copy that has kept
        # nothing yet must give the same screen, never one kept from another walk.
        afresh = engine.step(replace(tree), outcome.state, text, ctx)
        assert (afresh.screen, afresh.state) == (following.screen, following.state)
        # Whatever happened, the state survives the trip through Redis.
        stored = json.loads(json.dumps(following.state.to_dict()))
        assert State.from_dict(stored) == following.state
        outcome = following
    event(f"ended on {outcome.state.node}")


@pytest.mark.parametrize("limit", LIMITS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(language=st.sampled_from(LANGUAGES), inputs=st.lists(INPUTS, max_size=40) | conversations())
def test_any_inputs_from_the_start(limit: int, language: str | None, inputs: list[str]) -> None:
    ctx = make_ctx(limit)
    _walk(TREE, ctx, engine.start(TREE, ctx, language=language), inputs, limit)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    language=st.sampled_from(LANGUAGES),
    prefix=conversations().map(lambda inputs: inputs[: len(inputs) // 2]),
    answer=st.sampled_from(["1", "2", "0", "00", "98", "3"]),
    inputs=st.lists(INPUTS, max_size=25),
)
def test_any_inputs_after_a_resume_offer(
    language: str | None, prefix: list[str], answer: str, inputs: list[str]
) -> None:
    ctx = make_ctx(160)
    outcome = engine.start(TREE, ctx, language=language)
    for text in prefix:
        outcome = engine.step(TREE, outcome.state, text, ctx)
    before = _snapshot(outcome.state)
    offer = engine.start(TREE, ctx, language=language, resume=outcome.state)
    assert _snapshot(outcome.state) == before, "start mutated the state it resumes"
    _walk(TREE, ctx, offer, [answer, *inputs], 160)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(language=st.sampled_from(LANGUAGES), inputs=st.lists(INPUTS, max_size=40) | conversations())
def test_any_inputs_in_a_stretched_sms_context(language: str | None, inputs: list[str]) -> None:
    ctx = make_ctx(160, stretch_limit=459)
    _walk(TREE, ctx, engine.start(TREE, ctx, language=language), inputs, 459)


def test_a_tree_keeps_a_bounded_number_of_screens() -> None:
    """Each limit a gateway may ask for is a new key: the memo forgets rather than grows."""
    tree = replace(TREE)
    for limit in range(160, 160 + views.MEMO_ENTRIES + 500):
        engine.start(tree, make_ctx(limit), language="fr")
        assert len(tree.memo) <= views.MEMO_ENTRIES
    assert len(tree.memo) > 0
