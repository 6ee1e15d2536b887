"""The engine's public face (menus/engine.py) and its purity, checked on the source itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from menus import engine

PROJECT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", ".git", "instance", "node_modules", "__pycache__"}
# The engine and its SMS framing: (tree, state, input) -> (screen, state, events), nothing else.
ENGINE_FILES = (
    "context.py",
    "dates.py",
    "engine.py",
    "events.py",
    "gsm.py",
    "messages.py",
    "moves.py",
    "render.py",
    "state.py",
    "steps.py",
    "tokens.py",
    "views.py",
)
PURE_MODULES = [PROJECT / "menus" / name for name in ENGINE_FILES] + sorted(
    (PROJECT / "menus" / "sms").glob("*.py")
)
FORBIDDEN_IMPORTS = {"flask", "redis", "sqlalchemy", "rq", "random", "secrets", "time", "uuid"}
CLOCK_CALLS = {"now", "utcnow", "today"}


def _python_files() -> list[Path]:
    return [
        path
        for path in PROJECT.rglob("*.py")
        if not SKIPPED_DIRS & set(path.relative_to(PROJECT).parts)
    ]


def test_everything_in_all_exists_and_is_public() -> None:
    for name in engine.__all__:
        assert hasattr(engine, name), name
        assert not name.startswith("_"), name
    assert len(set(engine.__all__)) == len(engine.__all__)


def test_every_name_callers_use_is_in_all() -> None:
    used: dict[str, str] = {}
    for path in _python_files():
        if path.parent.name == "menus" and path.name != "validate.py":
            continue  # the engine's own modules reach their neighbours directly
        source = path.read_text(encoding="utf-8")
        if "engine" not in source:
            continue
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("menus.engine"):
                for alias in node.names:
                    used.setdefault(alias.name, str(path.relative_to(PROJECT)))
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "engine"
                and re.search(r"from (menus|\.+) import .*\bengine\b|import menus.engine", source)
            ):
                used.setdefault(node.attr, str(path.relative_to(PROJECT)))
    assert used, "found no caller of the engine: the scan is broken"
    missing = {
        name: where
        for name, where in used.items()
        if name not in engine.__all__ and not name.startswith("__")
    }
    assert not missing, f"used but not exported by menus/engine.py: {missing}"


@pytest.mark.parametrize("path", PURE_MODULES, ids=lambda p: str(p.relative_to(PROJECT)))
def test_the_engine_does_no_io_and_reads_no_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []
        else:
            names = []
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_IMPORTS, (path.name, name)
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_CALLS:
            assert not (isinstance(node.value, ast.Name) and node.value.id in {"date", "datetime"})
