"""One place that knows how a service judges a tree: its data lists, translations and limits.

Start-up, the registry, ``flask menus`` and (later) the web editor all judge a document the same
way through a ``TreeChecker``: compile it, then validate it against this service's data sources,
system translations and every configured screen limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import problems as codes
from .codes import CodeUse, check_codes
from .compiler import compile_tree
from .datasets import Datasets
from .document import Document, to_json
from .errors import TreeError
from .i18n import Catalog
from .languages import completeness, offered_languages, tree_languages
from .loader import read_document
from .model import Tree
from .problems import Problem
from .sms.texts import check_texts
from .validate import validate

REMEMBERED = 16  # valid compiled trees kept by document


@dataclass(frozen=True)
class Judgement:
    """What a save shows the editor: the compiled tree (None if it cannot compile), the problems
    that block publishing, and the warnings that do not."""

    tree: Tree | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.tree is not None and not self.errors


@dataclass(frozen=True)
class TreeChecker:
    datasets: Datasets
    catalog: Catalog
    limits: tuple[int, ...]
    # SMS texts outside the menus (welcome, help, ...) must fit this (sms.max_length); None: not
    # checked. ``sms_contact`` is sms.help_contact, which the help text gives.
    sms_max_length: int | None = None
    sms_contact: str = ""
    # Valid trees by document: compiling is a pure function of the document (the version is only
    # a label), so start-up does not validate the seed file and its stored copy twice.
    _valid: dict[str, Tree] = field(default_factory=dict, compare=False, repr=False)

    def judge(
        self,
        document: Any,
        *,
        tree_id: str | None = None,
        version: int = 1,
        source: str = "<memory>",
        in_use: Mapping[str, CodeUse] | None = None,
    ) -> Judgement:
        """Every problem of a document; ``in_use`` (codes that have reports) adds the code rules."""
        try:
            tree = compile_tree(document, version=version, source=source)
        except TreeError as exc:
            return Judgement(None, [p for p in exc.problems if p.severity == "error"])
        # Reporters are offered the declared languages and every other complete one: the
        # screens of each are proven here like any other (menus.languages).
        offered = offered_languages(document, self.catalog)
        if offered != tree.languages:
            tree = replace(tree, languages=offered)
        found = validate(tree, self.datasets, self.catalog, self.limits)
        if self.sms_max_length is not None:
            keywords = [w for words in tree.keywords.values() for w in words]
            found += check_texts(
                self.catalog, tree.languages, keywords, self.sms_max_length, self.sms_contact
            )
        if tree_id is not None and tree.id != tree_id:
            found.append(
                Problem(
                    codes.BAD_FIELD,
                    f"the document is tree '{tree.id}', not '{tree_id}'",
                    field="id",
                )
            )
        if in_use is not None:
            found += [p for p in check_codes(tree, in_use) if p not in found]
        return Judgement(tree, found, [*tree.warnings, *self.languages_being_added(document)])

    def languages_being_added(self, document: Document) -> list[Problem]:
        """A warning per language of the document that is not declared and not complete yet:
        it is not offered to reporters, and says what it lacks."""
        found: list[Problem] = []
        written = tree_languages(document)
        for lang, state in completeness(document, self.catalog).items():
            if state.declared or state.complete or lang not in written:
                continue
            lacks = []
            if state.missing:
                first = state.missing[0]
                lacks.append(
                    f"{len(state.missing)} of {state.total} texts missing (first: {first.context})"
                )
            if not state.has_catalog:
                lacks.append(f"no system catalog locales/{lang}/LC_MESSAGES/messages.po")
            elif state.system_missing:
                lacks.append(
                    f"{len(state.system_missing)} of {state.system_total} system strings "
                    f"untranslated in locales/{lang} (first: {state.system_missing[0]!r})"
                )
            found.append(
                Problem(
                    codes.INCOMPLETE_LANGUAGE,
                    "not offered to reporters until complete: " + "; ".join(lacks),
                    language=lang,
                    severity="warning",
                )
            )
        return found

    def compile(self, tree_id: str, version: int, document: Document) -> Tree:
        """A tree that may serve, or ``TreeError``: what the registry and start-up use."""
        source = f"{tree_id} version {version}"
        key = to_json(document)
        known = self._valid.get(key)
        if known is not None and known.id == tree_id:
            return replace(known, version=version, source=source)
        judgement = self.judge(document, tree_id=tree_id, version=version, source=source)
        if judgement.tree is None or judgement.errors:
            raise TreeError(source, judgement.errors)
        self._remember(key, judgement.tree)
        return judgement.tree

    def read_file(self, path: Path) -> tuple[Document, Tree]:
        """A seed file, compiled and validated as version 1: ``TreeError`` stops start-up."""
        document = read_document(path)
        judgement = self.judge(document, source=str(path))
        if judgement.tree is None or judgement.errors:
            raise TreeError(str(path), judgement.errors)
        self._remember(to_json(document), judgement.tree)
        return document, judgement.tree

    def _remember(self, key: str, tree: Tree) -> None:
        if len(self._valid) >= REMEMBERED:
            self._valid.pop(next(iter(self._valid)))
        self._valid[key] = tree
