""" "Follow my report": what a reporter hears when they type a reference back.

The engine never looks anything up itself. A channel that offers the question passes a
``ReportLookup`` in the turn's ``Context`` (as it passes the data lists); the lookup decides what
this caller may hear about the reference and answers with one of the plain words below. Nothing
else about a report (its details, the organisation following it) can reach the phone this way.
"""

from __future__ import annotations

from typing import Literal, Protocol

from .messages import (
    MSG_STATUS_CLOSED,
    MSG_STATUS_FOLLOWED_UP,
    MSG_STATUS_NOT_FOUND,
    MSG_STATUS_RECEIVED,
    MSG_STATUS_RESOLVED,
    MSG_STATUS_THROTTLED,
)

FollowStatus = Literal["received", "followed_up", "resolved", "closed", "not_found", "throttled"]
NOT_FOUND: FollowStatus = "not_found"

# Each answer's system string; "{reference}" is the reference as the reporter typed it.
STATUS_MESSAGES: dict[FollowStatus, str] = {
    "received": MSG_STATUS_RECEIVED,
    "followed_up": MSG_STATUS_FOLLOWED_UP,
    "resolved": MSG_STATUS_RESOLVED,
    "closed": MSG_STATUS_CLOSED,
    "not_found": MSG_STATUS_NOT_FOUND,
    "throttled": MSG_STATUS_THROTTLED,
}


def message_for(status: str | None) -> str:
    """The system string answering ``status``; anything unknown is "not found"."""
    for known, message in STATUS_MESSAGES.items():
        if known == status:
            return message
    return MSG_STATUS_NOT_FOUND


class ReportLookup(Protocol):
    """What the caller of one turn may hear about a reference whose check digit is right."""

    def status(self, reference: str) -> FollowStatus: ...
