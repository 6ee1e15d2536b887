"""Read trees from files: a YAML file is a source document (``menus.document``) to compile.

Files seed the database (``flask db upgrade``, ``flask menus import``) and serve the pure tests;
a running service reads its trees from the database through ``menus.registry``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .compiler import SPEC_VERSION, compile_tree
from .document import Document, parse_text
from .errors import TreeError
from .model import Tree

__all__ = ["SPEC_VERSION", "TreeError", "parse_tree", "read_document", "read_tree"]


def read_document(path: Path) -> Document:
    return parse_text(path.read_text(encoding="utf-8"), source=str(path))


def parse_tree(document: Any, source: str = "<memory>") -> Tree:
    """Compile a document as its own version 1 (structure only; see ``menus.validate``)."""
    return compile_tree(document, version=1, source=source)


def read_tree(path: Path) -> Tree:
    """Compile a YAML file as version 1 of its tree, structure only."""
    return compile_tree(read_document(path), version=1, source=str(path))
