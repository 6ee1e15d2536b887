"""The engine's system strings: navigation, re-ask hints, the resume offer, the cancellation.

English msgids marked with ``N_``, extracted by ``pybabel`` into ``locales/`` and translated in
the reporter's language through ``Context.catalog``. Tree texts live in the tree instead.
"""

from __future__ import annotations

from .i18n import N_

MSG_MORE = N_("More")
MSG_BACK = N_("Back")
MSG_INVALID_CHOICE = N_("Type a number.")
MSG_INVALID_ANSWER = N_("Invalid answer, please try again.")
MSG_TOO_SHORT = N_("Too short, please write more.")
MSG_SHORTENED = N_("Text cut to {max} letters.")
MSG_INVALID_NUMBER = N_("Reply with a number.")
MSG_INVALID_DATE = N_("Invalid date. Write day month year: 12 10 2026.")
MSG_FUTURE_DATE = N_("That date is in the future.")
MSG_DATE_AHEAD = N_("That day has not come yet this year. Write the year too: {example}")
MSG_NO_MORE = N_("No more choices.")
MSG_TYPE_ANSWER = N_("There is nothing more here. Type your answer.")
MSG_KEEP = N_("Keep")
MSG_RESUME = N_("You have an unfinished report.")
# Once, on the next dial after a report, in case its end screen was lost on the way.
MSG_RECEIVED = N_("Your report {reference} was received.")
MSG_CONTINUE = N_("Continue")
MSG_START_AGAIN = N_("Start again")
MSG_CANCELLED = N_("Report cancelled. Nothing was sent.")
MSG_DISCARD = N_("Throw this report away? Nothing will be sent.")
MSG_DISCARD_YES = N_("Yes, throw it away")
MSG_DISCARD_NO = N_("No, go back")
MSG_CHANGE = N_("Which answer do you want to change?")
# Where the conversation stays on the handset (SMS): after the reference, and after a cancel.
MSG_DELETE_AFTER_REFERENCE = N_("Then delete these messages.")
MSG_DELETE = N_("Delete these messages.")
# "Follow my report": a reference whose check digit is wrong is asked again, never looked up;
# a right one gets its follow-up status in plain words, and nothing else.
MSG_REFERENCE_INVALID = N_("This number is not right: check it and type the 7 digits again.")
MSG_STATUS_RECEIVED = N_("Report {reference}: received, waiting to be followed up.")
MSG_STATUS_FOLLOWED_UP = N_("Report {reference}: being followed up.")
MSG_STATUS_RESOLVED = N_("Report {reference}: resolved.")
MSG_STATUS_CLOSED = N_("Report {reference}: closed.")
# The same answer for a reference that does not exist and for another phone's report, so that
# references cannot be probed.
MSG_STATUS_NOT_FOUND = N_("No report {reference} from this phone. Check the number.")
MSG_STATUS_THROTTLED = N_("Too many wrong numbers. Try again later.")

# Every string above: the validator checks each has a translation in every language of a tree.
SYSTEM_MESSAGES = (
    MSG_MORE,
    MSG_BACK,
    MSG_INVALID_CHOICE,
    MSG_INVALID_ANSWER,
    MSG_TOO_SHORT,
    MSG_SHORTENED,
    MSG_INVALID_NUMBER,
    MSG_INVALID_DATE,
    MSG_FUTURE_DATE,
    MSG_DATE_AHEAD,
    MSG_NO_MORE,
    MSG_TYPE_ANSWER,
    MSG_KEEP,
    MSG_RESUME,
    MSG_RECEIVED,
    MSG_CONTINUE,
    MSG_START_AGAIN,
    MSG_CANCELLED,
    MSG_DISCARD,
    MSG_DISCARD_YES,
    MSG_DISCARD_NO,
    MSG_CHANGE,
    MSG_DELETE_AFTER_REFERENCE,
    MSG_DELETE,
    MSG_REFERENCE_INVALID,
    MSG_STATUS_RECEIVED,
    MSG_STATUS_FOLLOWED_UP,
    MSG_STATUS_RESOLVED,
    MSG_STATUS_CLOSED,
    MSG_STATUS_NOT_FOUND,
    MSG_STATUS_THROTTLED,
)
