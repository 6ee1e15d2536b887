"""What a turn produces: the screen to show, the new state, and events for the caller to act on.

The engine stores nothing; events say what should be stored (a chosen language, a report) and
the caller writes them in the turn's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .state import State


@dataclass(frozen=True)
class LanguageChosen:
    language: str


@dataclass(frozen=True)
class ReportSubmitted:
    """The reporter confirmed. The report has no reference yet: storage gives it one, and
    ``engine.submitted`` then shows it on the end screen."""

    language: str
    tree_id: str
    tree_version: int
    answers: dict[str, dict[str, Any]]
    send_reference: bool = False  # the reporter asked for the reference by SMS as well


@dataclass(frozen=True)
class Cancelled:
    answered: int


@dataclass(frozen=True)
class Resumed:
    node: str


@dataclass(frozen=True)
class ResumeDeclined:
    pass


@dataclass(frozen=True)
class InvalidInput:
    node: str
    text: str


Event = LanguageChosen | ReportSubmitted | Cancelled | Resumed | ResumeDeclined | InvalidInput


@dataclass(frozen=True)
class Screen:
    text: str
    end: bool


@dataclass(frozen=True)
class Outcome:
    """``screen`` is None only when ``events`` hold a ``ReportSubmitted``: the end screen shows the
    reference the report is stored under, so it is rendered once, by ``engine.submitted``."""

    screen: Screen | None
    state: State
    events: tuple[Event, ...] = field(default_factory=tuple)
