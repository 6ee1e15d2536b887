"""The engine alone: CPU per step of complete French report sessions on the default tree, with
no Flask, Redis or database (``menus`` only), as a hop's share of the work that is the engine's.

Each session starts, answers nine questions and stops before sending (sending needs a
reference from storage). ``--fresh`` gives every session a tree that has kept nothing
(``Tree.memo`` empty), the cost of a process's first reporters: the difference is what the kept
screens save.

    .venv/bin/python bench/engine_hop.py
    .venv/bin/python bench/engine_hop.py --fresh
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from menus import engine  # noqa: E402
from menus.context import Context  # noqa: E402
from menus.datasets import load_default_datasets  # noqa: E402
from menus.i18n import Catalog  # noqa: E402
from menus.loader import read_tree  # noqa: E402
from menus.model import Tree  # noqa: E402

# language, main menu, category, sub-category, province, territory, site, when, details
ANSWERS = ["2", "1", "1", "1", "4", "5", "Kamituga", "1", "Trois blesses"]


def session(tree: Tree, ctx: Context) -> str:
    outcome = engine.start(tree, ctx)
    for answer in ANSWERS:
        outcome = engine.step(tree, outcome.state, answer, ctx)
    assert outcome.screen is not None
    return outcome.screen.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="a tree that has kept nothing")
    args = parser.parse_args()
    tree = read_tree(PROJECT / "menus" / "trees" / "incident.yaml")
    ctx = Context(
        catalog=Catalog.load(),
        datasets=load_default_datasets(),
        today=date(2026, 11, 26),
        limit=182,
    )
    last = session(tree, ctx)
    assert "Kamituga" in last, last  # the confirmation, with the answers
    hops = args.sessions * (len(ANSWERS) + 1)
    runs = []
    for _ in range(args.rounds):
        trees = [replace(tree) if args.fresh else tree for _ in range(args.sessions)]
        started = time.thread_time()
        for each in trees:
            session(each, ctx)
        runs.append((time.thread_time() - started) / hops * 1e6)
    print(
        f"engine CPU per hop ({'fresh trees' if args.fresh else 'one tree'}; best of "
        f"{args.rounds} x {hops} hops): {min(runs):.1f} µs ({', '.join(f'{r:.1f}' for r in runs)})"
    )


if __name__ == "__main__":
    main()
