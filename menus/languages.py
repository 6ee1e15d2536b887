"""A tree's languages: every text it has, which languages have each, and which are offered.

A tree declares ``languages`` (its first is the **source language**, the one translators
translate from, and the default). Those are **required**: a text missing in one of them is an
error and the tree cannot be published. Any other language whose texts appear in the document
(``language_names: {ln: Lingala}``, ``label: {..., ln: ...}``) is a language **being added**:
it may be incomplete without blocking anything, and it is **offered to reporters** only once it
is complete: every text of the tree (see ``text_slots``) exists in it and the system catalog
(``locales/<lang>/LC_MESSAGES/messages.po``) translates every system string. So adding a
language needs no code: its texts (through the editor or a PO file, ``menus.po``) and its
catalog.

Pure and lenient: it reads drafts that do not compile, for the editor. Functions for callers:

- ``text_slots(document)``: every translatable text, each with its stable PO context.
- ``completeness(document, catalog)``: per language, the texts it has and lacks, and whether
  its system catalog is complete (what the editor shows per language).
- ``offered_languages(document, catalog)``: the languages reporters are offered, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .document import SKIP_OPTION_ID, Document, option_id
from .i18n import Catalog
from .messages import SYSTEM_MESSAGES

# The PO context (msgctxt) of the tree-level texts; a node's texts are "<node>/<field>" and an
# option's label "<node>/<option id>/label" (the skip option's id is "skip").
LANGUAGE_NAME = "language_name"
KEYWORDS = "keywords"

NODE_TEXT_FIELDS = ("text", "error", "title")


@dataclass(frozen=True)
class TextSlot:
    """One translatable text of a document.

    ``context`` is its stable address (the PO msgctxt): ``"category/text"``,
    ``"category/accident/label"``, ``"site/skip/label"``, ``"language_name"``. ``texts`` maps
    each language that has it to the text as written (a plain string in the document is the same
    text in every language of the tree: ``plain`` is then true). ``node``/``option``/``field``
    name it the way ``menus.problems.Problem`` does.
    """

    context: str
    node: str | None
    option: str | None
    field: str
    texts: Mapping[str, str]
    plain: bool = False
    retired: bool = False  # the label of a retired option (still a text of the tree)
    kind: str | None = None  # the node's kind

    def has(self, language: str) -> bool:
        """Whether the text exists in ``language`` (a plain text exists in every language)."""
        if self.plain:
            return any(t.strip() for t in self.texts.values())
        return bool(self.texts.get(language, "").strip())

    def text(self, language: str) -> str | None:
        """The text in ``language``, if it has one."""
        if not self.has(language):
            return None
        return self.texts.get(language) or next(iter(self.texts.values()))


def declared_languages(document: Document) -> list[str]:
    """The document's ``languages`` (required; the first is the source language)."""
    raw = document.get("languages")
    if not isinstance(raw, list):
        return []
    return list(dict.fromkeys(x for x in raw if isinstance(x, str) and x))


def source_language(document: Document) -> str | None:
    declared = declared_languages(document)
    return declared[0] if declared else None


def tree_languages(document: Document) -> list[str]:
    """Every language the document has texts in: the declared ones in their order, then the
    languages being added (named in ``language_names`` or in any text), sorted."""
    declared = declared_languages(document)
    found: set[str] = set()
    names = document.get("language_names")
    if isinstance(names, dict):
        found |= {str(k) for k in names}
    for raw in _raw_texts(document):
        if isinstance(raw, dict):
            found |= {str(k) for k in raw}
    return declared + sorted(found - set(declared))


def _raw_texts(document: Document) -> Iterable[Any]:
    for node in document.get("nodes") or []:
        if not isinstance(node, dict):
            continue
        for name in NODE_TEXT_FIELDS:
            yield node.get(name)
        for option in node.get("options") or []:
            if isinstance(option, dict):
                yield option.get("label")
        if isinstance(node.get("skip"), dict):
            yield node["skip"].get("label")


def _texts(raw: Any, languages: list[str]) -> tuple[dict[str, str], bool]:
    """(language -> text, plain): a plain string or number is the same in every language."""
    if isinstance(raw, dict):
        return {
            str(k): str(v)
            for k, v in raw.items()
            if isinstance(v, str | int | float) and not isinstance(v, bool)
        }, False
    if isinstance(raw, str | int | float) and not isinstance(raw, bool):
        return {lang: str(raw) for lang in languages}, True
    return {}, False


def text_slots(document: Document) -> list[TextSlot]:
    """Every translatable text of ``document``, in document order (retired labels included).

    A node's ``text``, ``error`` and ``title`` are slots when the document has them; every
    option's ``label`` and the skip option's; and the language's own name
    (``language_names``). SMS keywords are not texts (see ``keywords_of``).
    """
    languages = tree_languages(document)
    slots: list[TextSlot] = []
    names = document.get("language_names")
    slots.append(
        TextSlot(
            LANGUAGE_NAME,
            None,
            None,
            "language_names",
            {str(k): str(v) for k, v in names.items() if isinstance(v, str)}
            if isinstance(names, dict)
            else {},
        )
    )
    for node in document.get("nodes") or []:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            continue
        node_id, kind = node["id"], node.get("kind")
        kind = kind if isinstance(kind, str) else None
        for name in NODE_TEXT_FIELDS:
            if node.get(name) is not None:
                texts, plain = _texts(node[name], languages)
                slots.append(
                    TextSlot(f"{node_id}/{name}", node_id, None, name, texts, plain, False, kind)
                )
        for position, option in enumerate(node.get("options") or [], 1):
            if not isinstance(option, dict):
                continue
            oid = option_id(option) or f"#{position}"
            texts, plain = _texts(option.get("label"), languages)
            retired = option.get("retired") is True
            slots.append(
                TextSlot(
                    f"{node_id}/{oid}/label", node_id, oid, "label", texts, plain, retired, kind
                )
            )
        if isinstance(node.get("skip"), dict):
            texts, plain = _texts(node["skip"].get("label"), languages)
            slots.append(
                TextSlot(
                    f"{node_id}/{SKIP_OPTION_ID}/label",
                    node_id,
                    SKIP_OPTION_ID,
                    "label",
                    texts,
                    plain,
                    False,
                    kind,
                )
            )
    return slots


def keywords_of(document: Document) -> dict[str, list[str]]:
    """The tree's own SMS keywords, language -> words (optional in every language)."""
    raw = document.get("keywords")
    if not isinstance(raw, dict):
        return {}
    return {
        str(lang): [str(w) for w in words] for lang, words in raw.items() if isinstance(words, list)
    }


def system_messages(catalog: Catalog) -> list[str]:
    """Every system string a reporter may read: the engine's, plus every msgid of the
    ``messages`` catalogs (SMS texts, channel messages), sorted."""
    return sorted(set(SYSTEM_MESSAGES) | set(catalog.msgids))


@dataclass(frozen=True)
class LanguageCompleteness:
    """How far one language is: what the editor shows per language.

    ``total``/``present``/``missing``: the tree's texts (``missing`` the slots without it, in
    document order). ``system_total``/``system_missing``: the system strings of ``locales/``
    (``system_missing`` lists msgids; English, the msgids' language, never misses any).
    ``declared``: one of the document's ``languages`` (required: missing texts are errors).
    ``offered``: reporters are offered it (declared, or complete).
    """

    language: str
    declared: bool
    name: str | None  # the language's own name (language_names), if written
    total: int
    present: int
    missing: tuple[TextSlot, ...]
    system_total: int
    system_missing: tuple[str, ...]
    has_catalog: bool  # locales/<language>/LC_MESSAGES/messages.po exists (always true for en)

    @property
    def missing_contexts(self) -> tuple[str, ...]:
        return tuple(s.context for s in self.missing)

    @property
    def texts_complete(self) -> bool:
        return not self.missing

    @property
    def system_complete(self) -> bool:
        return self.has_catalog and not self.system_missing

    @property
    def complete(self) -> bool:
        return self.texts_complete and self.system_complete

    @property
    def offered(self) -> bool:
        return self.declared or self.complete

    def to_dict(self) -> dict[str, Any]:
        """JSON for the editor."""
        return {
            "language": self.language,
            "name": self.name,
            "declared": self.declared,
            "texts_total": self.total,
            "texts_present": self.present,
            "texts_missing": [
                {"context": s.context, "node": s.node, "option": s.option, "field": s.field}
                for s in self.missing
            ],
            "system_total": self.system_total,
            "system_missing": list(self.system_missing),
            "has_catalog": self.has_catalog,
            "complete": self.complete,
            "offered": self.offered,
        }


def completeness(
    document: Document, catalog: Catalog, extra: Iterable[str] = ()
) -> dict[str, LanguageCompleteness]:
    """Per language: how many of the tree's texts exist and which are missing, and whether the
    system catalog has the language complete.

    Languages, in this order: the declared ones, those being added (texts in the document),
    those that only have a system catalog in ``locales/`` (ready to be translated), and
    ``extra`` (e.g. a language an editor is about to add). Pure: ``catalog`` is
    ``menus.i18n.Catalog.load()`` (``services.catalog`` in the app).
    """
    declared = declared_languages(document)
    languages = tree_languages(document)
    languages += [x for x in catalog.languages if x not in languages]
    languages += [x for x in extra if x and x not in languages]
    slots = text_slots(document)
    system = system_messages(catalog)
    names = document.get("language_names")
    found: dict[str, LanguageCompleteness] = {}
    for lang in languages:
        missing = tuple(s for s in slots if not s.has(lang))
        system_missing = tuple(catalog.missing(lang, system))
        name = names.get(lang) if isinstance(names, dict) else None
        found[lang] = LanguageCompleteness(
            language=lang,
            declared=lang in declared,
            name=str(name) if isinstance(name, str) else None,
            total=len(slots),
            present=len(slots) - len(missing),
            missing=missing,
            system_total=len(system),
            system_missing=system_missing,
            has_catalog=lang == "en" or lang in catalog.languages,
        )
    return found


def offered_languages(document: Document, catalog: Catalog) -> tuple[str, ...]:
    """The languages reporters are offered: the declared ones (in their order; a tree with one
    of them incomplete does not validate), then every other language of the document that is
    complete, sorted. A language with a catalog but no text of its own in the tree is not
    offered."""
    declared = declared_languages(document)
    written = tree_languages(document)
    others = [
        lang
        for lang, found in completeness(document, catalog).items()
        if lang not in declared and lang in written and found.complete
    ]
    return tuple(declared + sorted(others))
