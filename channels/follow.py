""" "Follow my report" on the channels' side: the lookup the engine is handed in its context.

A phone hears the follow-up status of the reports it sent (a duplicate's, its group's), in the
engine's plain words; for any other reference, existing or not, the same "not found". Each
"not found" counts against the phone in Redis: after ``follow.max_wrong`` of them within
``follow.window_seconds``, nothing more is looked up for it until the window ends ("throttled"),
so references cannot be guessed by trying them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from menus.follow import FollowStatus
from services import Services
from storage import queries

log = logging.getLogger(__name__)

# The platform's statuses in the reporter's words: "persistent" is still being followed up.
WORDS: Mapping[str, FollowStatus] = {
    "new": "received",
    "monitoring": "followed_up",
    "persistent": "followed_up",
    "resolved": "resolved",
    "closed": "closed",
}


class StatusLookup:
    """What one caller may hear about references (``menus.follow.ReportLookup``)."""

    def __init__(self, services: Services, phone_hash: str) -> None:
        self.services = services
        self.phone_hash = phone_hash
        self.key = f"{services.settings.redis_prefix}follow:wrong:{phone_hash}"

    def status(self, reference: str) -> FollowStatus:
        settings = self.services.settings.follow
        client = self.services.redis
        if int(client.get(self.key) or 0) >= settings.max_wrong:
            log.info("follow-up lookup refused: too many wrong references from one phone")
            return "throttled"
        with self.services.db.session() as session:
            found = queries.status_for_reporter(session, reference, self.phone_hash)
        if found is None:
            # The window starts at the first wrong reference (EXPIRE ... NX needs Redis 7, and
            # the embedded server is older).
            if client.incr(self.key) == 1:
                client.expire(self.key, settings.window_seconds)
            return "not_found"
        return WORDS.get(found, "received")
