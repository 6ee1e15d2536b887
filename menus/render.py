"""Lay a screen out within the channel's limit: numbered lines, pagination, hints.

Everything here works on GSM-7 text and counts in septets (``gsm.length``). ``layout`` never
returns more than ``limit``; it reports ``overflow`` when it had to cut, which the validator treats
as an error in the tree and the engine only as a last-resort safety.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from . import gsm


@dataclass(frozen=True)
class Footer:
    more: str  # e.g. "98 Plus"
    back: str  # e.g. "0 Retour"


@dataclass(frozen=True)
class Layout:
    text: str
    overflow: bool


def assemble(parts: list[str]) -> str:
    return "\n".join(p for p in parts if p)


def _page_text(
    header: str, lines: tuple[str, ...], footer: Footer, *, more: bool, back: bool
) -> str:
    return assemble([header, *lines, footer.more if more else "", footer.back if back else ""])


@lru_cache(maxsize=4096)
def paginate(
    header: str, lines: tuple[str, ...], footer: Footer, back: bool, limit: int
) -> tuple[tuple[int, int], ...]:
    """Split ``lines`` into pages [start, end) that each fit with the header and the footer.

    Greedy: each page takes as many lines as fit. A line that cannot fit even alone gets a page to
    itself (``layout`` then reports the overflow).
    """
    pages: list[tuple[int, int]] = []
    start, total = 0, len(lines)
    while start < total or not pages:
        show_back = back or bool(pages)
        rest = lines[start:]
        if gsm.length(_page_text(header, rest, footer, more=False, back=show_back)) <= limit:
            pages.append((start, total))
            break
        end = start
        while end < total and (
            gsm.length(
                _page_text(header, lines[start : end + 1], footer, more=True, back=show_back)
            )
            <= limit
        ):
            end += 1
        end = max(end, start + 1)
        pages.append((start, end))
        start = end
    return tuple(pages)


def layout(
    *,
    header: str,
    lines: tuple[str, ...],
    footer: Footer,
    back: bool,
    page: int,
    limit: int,
    hint: str | None = None,
    reserve: int = 0,
) -> Layout:
    """The text of one page, with an optional hint line above it (an invalid-input re-ask).

    Pages are cut ``reserve`` septets short of the limit, so that a re-ask hint which replaces the
    question still fits beside the same lines: page numbers never shift under the reporter.
    """
    pages = paginate(header, lines, footer, back, limit - reserve)
    page = min(max(page, 0), len(pages) - 1)
    start, end = pages[page]
    more = end < len(lines)
    show_back = back or page > 0
    body = _page_text(header, lines[start:end], footer, more=more, back=show_back)
    candidates = [body]
    if hint:
        # With a hint the page keeps its lines; the question itself gives way if room is short.
        candidates = [
            assemble([hint, body]),
            assemble([hint, _page_text("", lines[start:end], footer, more=more, back=show_back)]),
        ]
    for text in candidates:
        if gsm.length(text) <= limit:
            return Layout(text=text, overflow=False)
    return Layout(text=gsm.truncate(candidates[-1], limit), overflow=True)


def page_count(header: str, lines: tuple[str, ...], footer: Footer, back: bool, limit: int) -> int:
    return len(paginate(header, lines, footer, back, limit))


def fit_lines(lines: list[str], budget: int) -> list[str]:
    """Shorten summary lines to fit ``budget`` septets in all (newlines included).

    Earlier lines (what and where) are kept whole first; later ones (free text) are cut.
    """
    out: list[str] = []
    remaining = budget
    for line in lines:
        cost_sep = 1 if out else 0
        room = remaining - cost_sep
        if room < 4:
            break
        cut = gsm.truncate(line, room)
        out.append(cut)
        remaining -= gsm.length(cut) + cost_sep
    return out
