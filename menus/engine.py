"""The conversation engine: (tree, state, input) -> (screen, new state, events).

Pure: no I/O, no clock, no randomness. What the engine needs from the outside world (today's
date, the data lists, the translations, the screen limit) comes in a ``Context``; sessions are
``State`` objects the caller stores between turns. Navigation works on every screen: ``0`` back,
``00`` start again, ``98`` more.

This module is the engine's one public face; the work is done, one job per module, in
``messages`` (system strings), ``events`` (what a turn produces), ``views`` (rendering),
``moves`` (moving through the tree) and ``steps`` (applying input, and the operations).
"""

from __future__ import annotations

from .context import Context
from .events import (
    Cancelled,
    Event,
    InvalidInput,
    LanguageChosen,
    Outcome,
    ReportSubmitted,
    Resumed,
    ResumeDeclined,
    Screen,
)
from .messages import MSG_INVALID_CHOICE, SYSTEM_MESSAGES
from .moves import fresh_state
from .state import State
from .steps import Accepts, accepts, cancel, start, step, submitted
from .tokens import BACK, HOME, MAX_CHOICES, MORE, NAVIGATION_TOKENS
from .views import (
    PLACEHOLDER,
    View,
    change_view,
    fixed_screen,
    hints,
    language_of,
    questions,
    render,
    view,
)

__all__ = [
    "BACK",
    "HOME",
    "MAX_CHOICES",
    "MORE",
    "MSG_INVALID_CHOICE",
    "NAVIGATION_TOKENS",
    "PLACEHOLDER",
    "SYSTEM_MESSAGES",
    "Accepts",
    "Cancelled",
    "Context",
    "Event",
    "InvalidInput",
    "LanguageChosen",
    "Outcome",
    "ReportSubmitted",
    "ResumeDeclined",
    "Resumed",
    "Screen",
    "State",
    "View",
    "accepts",
    "cancel",
    "change_view",
    "fixed_screen",
    "fresh_state",
    "hints",
    "language_of",
    "questions",
    "render",
    "start",
    "step",
    "submitted",
    "view",
]
