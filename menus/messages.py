"""The engine's system strings: navigation, re-ask hints, the resume offer, the cancellation.

English msgids marked with ``N_``, extracted by ``pybabel`` into ``locales/`` and translated in
the reporter's language through ``Context.catalog``. Tree texts live in the tree instead.
"""

from __future__ import annotations

from .i18n import N_

MSG_MORE = N_("More")
MSG_BACK = N_("Back")
MSG_INVALID_CHOICE = N_("Invalid choice.")
MSG_INVALID_ANSWER = N_("Invalid answer, please try again.")
MSG_TOO_SHORT = N_("Too short, please write more.")
MSG_TOO_LONG = N_("Too long: at most {max} characters.")
MSG_INVALID_NUMBER = N_("Reply with a number.")
MSG_INVALID_DATE = N_("Invalid date. Write DD/MM/YYYY.")
MSG_FUTURE_DATE = N_("That date is in the future.")
MSG_NO_MORE = N_("No more choices.")
MSG_RESUME = N_("You have an unfinished report.")
MSG_CONTINUE = N_("Continue")
MSG_START_AGAIN = N_("Start again")
MSG_CANCELLED = N_("Report cancelled. Nothing was sent.")

# Every string above: the validator checks each has a translation in every language of a tree.
SYSTEM_MESSAGES = (
    MSG_MORE,
    MSG_BACK,
    MSG_INVALID_CHOICE,
    MSG_INVALID_ANSWER,
    MSG_TOO_SHORT,
    MSG_TOO_LONG,
    MSG_INVALID_NUMBER,
    MSG_INVALID_DATE,
    MSG_FUTURE_DATE,
    MSG_NO_MORE,
    MSG_RESUME,
    MSG_CONTINUE,
    MSG_START_AGAIN,
    MSG_CANCELLED,
)
