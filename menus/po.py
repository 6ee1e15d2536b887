"""A tree's texts as PO files for translators (Poedit, Weblate): one file per language.

Each entry is one text of the tree (``menus.languages.text_slots``):

- ``msgctxt``: where the text sits, by stable ids, never positions: ``category/text``,
  ``category/accident/label`` (an option's label, by its stable id), ``site/skip/label``,
  ``date/error``, ``category/title``; ``language_name`` is the language's own name as reporters
  choose it, ``keywords`` the SMS words that start a report in it (optional, comma-separated).
- ``msgid``: the text in the source language (the tree's first language, unless ``source`` is
  given); ``msgstr``: the text in the file's language (empty: not translated yet).
- extracted comments (``#.``): what the text is, the other languages' texts, and "retired" for
  the label of an option no longer offered (kept for old reports and statistics).

``export_po`` writes a file; ``import_po`` reads one back into a new document, leaving entries it
cannot use out and saying why. Both are pure (Babel's ``babel.messages.pofile`` reads and writes;
no Flask, database or clock). A typical use::

    text = export_po(document, "ln", version=3)               # -> translator -> ln.po
    new_document, problems = import_po(document, ln_po_bytes)  # then judge new_document
"""

from __future__ import annotations

import copy
import io
import re
from datetime import UTC, datetime
from typing import Any

from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.catalog import Message
from babel.messages.pofile import PoFileError, read_po, write_po

from . import problems as codes
from .document import SKIP_OPTION_ID, Document, option_id
from .languages import (
    KEYWORDS,
    LANGUAGE_NAME,
    TextSlot,
    declared_languages,
    keywords_of,
    source_language,
    text_slots,
    tree_languages,
)
from .problems import Problem

# POT-Creation-Date when the caller gives no date: the module never reads the clock.
NO_DATE = datetime(2000, 1, 1, tzinfo=UTC)
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")
_WORDS = re.compile(r"[,;\n]+")


# Export ---------------------------------------------------------------------------------------


def export_po(
    document: Document,
    language: str,
    *,
    source: str | None = None,
    version: int | None = None,
    created: datetime | None = None,
) -> str:
    """One PO file holding every text of ``document`` for ``language``.

    ``language``: any language code (``"ln"`` for a language being added: every ``msgstr`` is
    then empty). ``source``: the language of the msgids (default: the tree's first language).
    ``version`` and ``created`` only label the header (Project-Id-Version, POT-Creation-Date).
    Every text is an entry, retired labels included; a text with no wording in any language yet
    has no entry (there is nothing to translate). Returns the file's text (UTF-8 when written).
    """
    source = source or source_language(document) or language
    tree_id = str(document.get("id") or "tree")
    when = created or NO_DATE
    others = [x for x in declared_languages(document) if x not in (source, language)]
    catalog = PoCatalog(
        locale=language,
        domain=tree_id,
        project=f"Kufatilia tree {tree_id}",
        version=str(version) if version is not None else "draft",
        header_comment=_header_comment(tree_id, language, source, version),
        creation_date=when,
        revision_date=when,
        language_team=f"{language} translators of Kufatilia",
        last_translator="",
        fuzzy=False,
    )
    for slot in text_slots(document):
        msgid = _msgid(slot, source, document)
        if msgid is None:
            continue
        # A plain text is the same in every language until translated: it is this one's too.
        string = slot.text(language) or ""
        catalog.add(
            msgid,
            string,
            context=slot.context,
            auto_comments=_comments(slot, source, msgid, others),
        )
    keywords = keywords_of(document)
    words = keywords.get(source) or next((w for w in keywords.values() if w), None)
    if words:
        catalog.add(
            ", ".join(words),
            ", ".join(keywords.get(language, [])),
            context=KEYWORDS,
            auto_comments=[
                "SMS words that start a report in this language, separated by commas "
                "(optional). Capitals do not matter.",
            ],
        )
    out = io.BytesIO()
    write_po(out, catalog, width=100, sort_output=False, include_previous=False)
    return out.getvalue().decode("utf-8")


def _header_comment(tree_id: str, language: str, source: str, version: int | None) -> str:
    label = f"version {version}" if version is not None else "a draft"
    return "\n".join(
        [
            f"# Kufatilia menu tree '{tree_id}' ({label}): its texts in '{language}'.",
            f"# msgid is the '{source}' text; msgctxt names where it is shown (node/option/field).",
            "# A screen holds the question and all its options in 160 characters or so:",
            "# keep translations as short as the original. Keep {reference} as it is.",
            "# Letters outside the GSM 7-bit alphabet are sent without their accents.",
            f"# Import: flask menus po import {tree_id} FILE (or the web editor).",
        ]
    )


def _msgid(slot: TextSlot, source: str, document: Document) -> str | None:
    """The entry's msgid: the source language's text, else the first language that has one."""
    for lang in [source, *tree_languages(document)]:
        found = slot.text(lang)
        if found is not None:
            return found
    return None


def _comments(slot: TextSlot, source: str, msgid: str, others: list[str]) -> list[str]:
    if slot.context == LANGUAGE_NAME:
        return ["The name of this language, written in it: reporters choose their language by it."]
    where = f"node '{slot.node}'" + (f" ({slot.kind})" if slot.kind else "")
    if slot.option == SKIP_OPTION_ID:
        where += ": the option that skips this question"
    elif slot.option is not None:
        where += f", option '{slot.option}'"
    comments = [f"{where}: {_FIELD_NAMES.get(slot.field, slot.field)}"]
    if slot.retired:
        comments.append("retired: no longer offered; still shown for old reports and statistics")
    if slot.plain:
        comments.append("the same text in every language unless translated")
    if not slot.has(source):
        comments.append(f"no '{source}' text yet: msgid is in another language")
    if not slot.plain:
        comments += [f"{lang}: {slot.text(lang)}" for lang in others if slot.has(lang)]
    return comments


_FIELD_NAMES = {
    "text": "the question (the screen's first line)",
    "error": "said when the answer is not valid",
    "title": "the question's name on the 'change' screen",
    "label": "the option's label",
}


# Import ---------------------------------------------------------------------------------------


def import_po(
    document: Document,
    po_text: str | bytes,
    *,
    language: str | None = None,
    source: str | None = None,
) -> tuple[Document, list[Problem]]:
    """``document`` with the PO file's translations filled in, and what could not be used.

    The file's language is its header's ``Language`` (``language`` may name it instead, or must
    agree with it); a regional ``fr_CD`` fills ``fr`` when the tree has ``fr`` and no ``fr_CD``. Each entry's ``msgctxt`` says which text it fills; its ``msgstr`` becomes the
    text in that language (a plain-string text becomes one per language). Returns a new
    document (``document`` is not changed) and problems, as ``menus.problems.Problem``:

    - errors, and then nothing is imported: ``po_malformed`` (not a PO file Babel can read, the
      line named), ``po_no_language`` (no usable language).
    - warnings, and that entry is left out: ``po_unknown_context`` (no such text in this tree,
      or no msgctxt), ``po_fuzzy`` (marked fuzzy: a guess to review), ``po_source_changed``
      (its msgid is no longer the source text: the source was reworded since the export; export
      again). Entries with an empty msgstr are untranslated and change nothing.

    The new document is not judged here: judge it like any save (``TreeChecker.judge``), which
    finds screens a translation makes too long, naming the node and language.
    """
    new = copy.deepcopy(document)
    try:
        catalog = read_po(_handle(po_text), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError, LookupError) as exc:
        return new, [Problem(codes.PO_MALFORMED, f"not a PO file that can be read: {exc}")]
    lang, problem = _language(document, catalog, language)
    if problem is not None:
        return new, [problem]
    assert lang is not None
    source = source or source_language(document) or lang
    slots = {slot.context: slot for slot in text_slots(document)}
    everywhere = tree_languages(document)
    problems: list[Problem] = []
    for entry in catalog:
        if not entry.id:
            continue  # the header
        problem = _entry_problem(entry, slots, lang, source, document)
        if problem is not None:
            problems.append(problem)
            continue
        string = entry.string if isinstance(entry.string, str) else ""
        if not string.strip():
            continue  # not translated yet
        if entry.context == KEYWORDS:
            _set_keywords(new, lang, string)
        else:
            assert entry.context is not None  # _entry_problem checked it
            _set_text(new, slots[entry.context], lang, string, everywhere)
    return new, problems


def po_language(
    document: Document, po_text: str | bytes, language: str | None = None
) -> str | None:
    """The tree language ``import_po`` fills from this file (None: it cannot tell)."""
    try:
        catalog = read_po(_handle(po_text), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError, LookupError):
        return None
    return _language(document, catalog, language)[0]


def _handle(po_text: str | bytes) -> Any:
    return io.BytesIO(po_text) if isinstance(po_text, bytes) else io.StringIO(po_text)


def _language(
    document: Document, catalog: PoCatalog, language: str | None
) -> tuple[str | None, Problem | None]:
    found = catalog.locale_identifier or None
    if language and found and _code(found) != _code(language):
        message = f"the file is in '{found}', not '{language}'"
        return None, Problem(codes.PO_NO_LANGUAGE, message, language=language)
    lang = _code(language or found or "")
    if not lang or not LANGUAGE_CODE.match(lang):
        message = (
            "the file's header names no language (Language: ln)"
            if not lang
            else f"'{lang}' is not a language code"
        )
        return None, Problem(codes.PO_NO_LANGUAGE, message)
    everywhere = tree_languages(document)
    base = lang.split("_")[0]
    if lang not in everywhere and base in everywhere:
        lang = base  # "Language: fr_CD" (Poedit's regional choice) for a tree written in "fr"
    return lang, None


def _code(language: str) -> str:
    return language.strip().replace("-", "_")


def _entry_problem(
    message: Message,
    slots: dict[str, TextSlot],
    lang: str,
    source: str,
    document: Document,
) -> Problem | None:
    shown = message.id if isinstance(message.id, str) else message.id[0]
    context = message.context
    if context is None:
        return Problem(
            codes.PO_UNKNOWN_CONTEXT,
            f"entry {shown!r} has no msgctxt: it names no text of this tree",
            language=lang,
            severity="warning",
        )
    if not isinstance(message.id, str) or (context not in slots and context != KEYWORDS):
        return Problem(
            codes.PO_UNKNOWN_CONTEXT,
            f"msgctxt {context!r} names no text of this tree (removed or renamed since the "
            "export?): left out",
            language=lang,
            severity="warning",
        )
    if context == KEYWORDS:
        return _fuzzy(message, lang, None) if message.fuzzy else None
    slot = slots[context]
    if message.fuzzy and message.string:
        return _fuzzy(message, lang, slot)
    if lang != source and message.string:
        expected = _msgid(slot, source, document)
        if expected is not None and message.id != expected:
            return Problem(
                codes.PO_SOURCE_CHANGED,
                f"translates {message.id!r}, but the text is now {expected!r}: left out "
                "(export the file again)",
                slot.node,
                slot.option,
                lang,
                slot.field,
                severity="warning",
            )
    return None


def _fuzzy(message: Message, lang: str, slot: TextSlot | None) -> Problem:
    return Problem(
        codes.PO_FUZZY,
        f"{message.context!r} is marked fuzzy (a guess to review): left out",
        slot.node if slot else None,
        slot.option if slot else None,
        lang,
        slot.field if slot else "keywords",
        severity="warning",
    )


def _set_text(
    document: Document, slot: TextSlot, lang: str, string: str, everywhere: list[str]
) -> None:
    if slot.context == LANGUAGE_NAME:
        names = document.get("language_names")
        if not isinstance(names, dict):
            names = document["language_names"] = {}
        names[lang] = string
        return
    holder, key = _holder(document, slot)
    if holder is None:
        return
    raw = holder.get(key)
    if isinstance(raw, dict):
        raw[lang] = string
    elif raw is not None and str(raw) == string:
        return  # a plain text, translated as itself
    else:
        texts = {x: str(raw) for x in everywhere} if raw is not None else {}
        texts[lang] = string
        holder[key] = texts


def _holder(document: Document, slot: TextSlot) -> tuple[dict[str, Any] | None, str]:
    """The mapping that holds the slot's text, and its key there."""
    for node in document.get("nodes") or []:
        if not isinstance(node, dict) or node.get("id") != slot.node:
            continue
        if slot.option is None:
            return node, slot.field
        if slot.option == SKIP_OPTION_ID and isinstance(node.get("skip"), dict):
            return node["skip"], "label"
        for position, option in enumerate(node.get("options") or [], 1):
            if isinstance(option, dict) and (option_id(option) or f"#{position}") == slot.option:
                return option, "label"
    return None, ""


def _set_keywords(document: Document, lang: str, string: str) -> None:
    words = [w.strip() for w in _WORDS.split(string) if w.strip()]
    keywords = document.get("keywords")
    if not isinstance(keywords, dict):
        keywords = document["keywords"] = {}
    if keywords.get(lang) != words:
        keywords[lang] = words
