"""Who may import whom: the layers stay apart, and no two packages import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
OURS = {"app", "services", "settings", "logging_setup", "menus", "storage", "channels", "outbox"}
OURS |= {"commands", "web", "exports", "notify"}
# A package may import only these of ours: the engine nothing, storage the pure menus and settings,
# and the outbox never the channels that queue into it (its RQ job builds the whole app by name).
ALLOWED = {
    "menus": set(),
    # Records and streaming writers: plain data in, bytes out, usable by the CLI and the web alike.
    "exports": set(),
    "storage": {"menus", "settings"},
    "outbox": {"app", "logging_setup", "menus", "services", "settings", "storage"},
    "channels": {"menus", "outbox", "services", "settings", "storage"},
}


def imports_of(package: str) -> dict[str, set[str]]:
    """Our top-level packages each module of ``package`` imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((PROJECT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(PROJECT))] = (names & OURS) - {package}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    modules = imports_of(package)
    assert modules, f"no module found in {package}/"
    wrong = {path: names - ALLOWED[package] for path, names in modules.items()}
    assert not {path: names for path, names in wrong.items() if names}
