"""What USSD and SMS share around the engine: who is on the other end, and the turn's one
transaction.

``Conversations.caller`` normalises and hashes the phone once per turn; the clear number then
lives only in the ``Caller`` for the rest of the request. ``Conversations.transaction`` is the
turn's unit of work: the engine's events (a chosen language, a submitted report) and the
channel's own rows (an incoming SMS id, a reply) are written in it together, and messages are
handed to the outbox workers only once it has committed.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from menus import engine
from menus.contract import DETAILS
from menus.engine import Context, LanguageChosen, Outcome, ReportSubmitted, Screen
from menus.i18n import N_
from menus.model import Tree
from outbox import dispatch
from services import Services
from storage import operations, phones, queries
from storage.limits import Limit, RateLimits, Windows

from . import signals
from .follow import StatusLookup

log = logging.getLogger(__name__)

UNDETERMINED_LANGUAGE = "und"  # ISO 639-2: a report written before any language was chosen
# Sent only when the reporter chose it on the confirmation (``send_reference``): an SMS stays
# on a phone that may be searched, so it carries the number and nothing of the report.
MSG_REFERENCE_SMS = N_(
    "Kufatilia: your report number is {reference}. Write it down somewhere safe, then delete "
    "this message."
)

# Over a rate limit (``rate_limits``): said once per request, nothing stored.
MSG_LIMIT_SESSIONS = N_("Sorry, too many sessions from this phone. Please try again later.")
MSG_LIMIT_REPORTS = N_(
    "Thank you. This phone has sent as many reports as we can take in one day. Please try "
    "again tomorrow."
)
MSG_LIMIT_SMS = N_(
    "Sorry, this phone has sent too many messages. Messages sent in the next hour will not be "
    "read. Please try again later."
)
# The same, short enough for all languages on one screen, for a phone whose language is unknown.
MSG_LIMIT_SESSIONS_SHORT = N_("Too many sessions from this phone. Try later.")
MSG_LIMIT_REPORTS_SHORT = N_("Too many reports today. Try tomorrow.")
LIMIT_MESSAGES_SHORT: dict[Limit, str] = {
    "sessions": MSG_LIMIT_SESSIONS_SHORT,
    "reports": MSG_LIMIT_REPORTS_SHORT,
    "sms": MSG_LIMIT_SMS,
}
LIMIT_MESSAGES: dict[Limit, str] = {
    "sessions": MSG_LIMIT_SESSIONS,
    "reports": MSG_LIMIT_REPORTS,
    "sms": MSG_LIMIT_SMS,
}
LIMIT_SETTINGS: dict[Limit, str] = {
    "sessions": "ussd_sessions_per_hour",
    "reports": "reports_per_day",
    "sms": "sms_per_hour",
}
HASHES_CACHED = 4096  # phone hashes kept per process, by a digest of the number as sent


@dataclass(frozen=True)
class Caller:
    """Who a turn comes from, as storage needs it. ``phone`` (E.164) never leaves the request."""

    channel: str
    gateway: str
    msisdn: str = field(repr=False)  # as the gateway sent it
    region: str = field(repr=False)
    phone_hash: str
    network_code: str | None
    # ``msisdn`` is already the E.164 form (as Africa's Talking sends it): nothing to parse.
    canonical: bool = field(default=False, repr=False)

    @property
    def phone(self) -> str:
        """The E.164 form, parsed when a report or an SMS needs it rather than on every hop."""
        return self.msisdn if self.canonical else phones.normalise(self.msisdn, self.region)

    def conversation_key(self, conversation_id: str) -> str:
        """The key a conversation's report is stored under: one report per conversation."""
        return f"{self.channel}:{self.gateway}:{conversation_id}"


def shown(outcome: Outcome) -> Screen:
    """The screen of an outcome that has been through ``TurnWrites.record``."""
    if outcome.screen is None:
        raise RuntimeError("a submitted report's screen is rendered when it is stored")
    return outcome.screen


def chosen_language(outcome: Outcome) -> str | None:
    """The language the reporter chose in this outcome, if they did."""
    for event in outcome.events:
        if isinstance(event, LanguageChosen):
            return event.language
    return None


class TurnWrites:
    """The turn's open transaction. ``session`` is there for the channel's own writes."""

    def __init__(self, services: Services, session: Session, caller: Caller) -> None:
        self.services = services
        self.session = session
        self.caller = caller
        self.outbox_ids: list[int] = []
        self.language: str | None = None  # the language this turn stored for the phone
        self.report_ids: list[int] = []  # stored by this turn (not found from an earlier one)

    def record(self, tree: Tree, outcome: Outcome, conversation_id: str, ctx: Context) -> Outcome:
        """Write what the outcome's events call for; return the outcome to show.

        A submitted report gets its reference here, drawn until it is free, and its end screen
        is rendered once, with it.
        """
        now = self.services.clock.now()
        for event in outcome.events:
            if isinstance(event, LanguageChosen):
                operations.remember_language(
                    self.session, self.caller.phone_hash, event.language, now
                )
                self.language = event.language
            elif isinstance(event, ReportSubmitted):
                reference, created = self._store(event, conversation_id)
                stored = engine.submitted(tree, outcome.state, reference, ctx)
                outcome = replace(stored, events=outcome.events)
                if event.send_reference and created:  # a repeated final request sends nothing
                    self._send_reference(event.language, reference, conversation_id)
        return outcome

    def _send_reference(self, language: str, reference: str, conversation_id: str) -> None:
        text = self.services.catalog.gettext(language, MSG_REFERENCE_SMS)
        self.queue_sms(
            text.replace("{reference}", reference),
            sender=None,  # the deployment's sender id or default shortcode
            # One per report: a repeated final request does not send it twice.
            idempotency_key=f"reference:{self.caller.conversation_key(conversation_id)}",
        )

    def store_free_text(
        self, tree: Tree, text: str, language: str | None, conversation_id: str
    ) -> str:
        """A report in the reporter's own words (no category: the organisations classify it);
        returns its reference. ``language`` None is stored as "und" (undetermined)."""
        event = ReportSubmitted(
            language=language or UNDETERMINED_LANGUAGE,
            tree_id=tree.id,
            tree_version=tree.version,
            answers={
                DETAILS.key: {"key": DETAILS.key, "node": "", "value": text, "free_text": True}
            },
        )
        return self._store(event, conversation_id)[0]

    def _store(self, event: ReportSubmitted, conversation_id: str) -> tuple[str, bool]:
        """The report's reference, and whether it was stored now (not by an earlier request)."""
        caller, services = self.caller, self.services
        report, created = operations.store_report(
            self.session,
            operations.Submission(
                language=event.language,
                tree_id=event.tree_id,
                tree_version=event.tree_version,
                answers=event.answers,
                channel=caller.channel,
                gateway=caller.gateway,
                conversation_key=caller.conversation_key(conversation_id),
                network_code=caller.network_code,
            ),
            phone=caller.phone,
            vault=services.vault,
            now=services.clock.now(),
            local_today=services.clock.local_today(),
            new_reference=services.new_reference,
        )
        if created:
            self.report_ids.append(report.id)
            log.info(
                "report %s stored (%s, %s, %s)",
                report.reference,
                caller.channel,
                report.category,
                report.language,
            )
        return report.reference, created

    def queue_sms(self, text: str, *, sender: str | None, idempotency_key: str) -> None:
        """An SMS to the caller, sent by the outbox workers once this transaction commits."""
        row = dispatch.queue_message(
            self.session,
            self.services,
            phone=self.caller.phone,
            text=text,
            sender=sender,
            idempotency_key=idempotency_key,
        )
        self.outbox_ids.append(row.id)


class Conversations:
    """The conversation service both channels build on; built once per app."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.phone_region = services.settings.phone_region
        self.limits = RateLimits(
            services.redis, services.settings.redis_prefix, services.sessions.lean
        )
        self.rate = services.settings.rate_limits
        # keyed digest of the number as sent -> its hash, and whether it was sent in E.164
        self._hashes: dict[bytes, tuple[str, bool]] = {}
        self._digest_key = os.urandom(32)
        self._windows: tuple[int, Windows] | None = None

    def windows(self) -> Windows:
        """The rate limits' windows now (worked out once per second)."""
        now = self.services.clock.now()
        second = int(now.timestamp())
        if self._windows is None or self._windows[0] != second:
            self._windows = (second, Windows.at(now, self.services.settings.timezone))
        return self._windows[1]

    def reserve_report(self, caller: Caller, windows: Windows) -> bool | None:
        """A slot of the phone's daily reports for a report about to be stored: whether the day
        had one (None: no limit, nothing counted). Give it back (``give_back_report``, in the
        same ``windows``) when the report is not stored after all."""
        per_day = self.rate.reports_per_day
        if not per_day:
            return None
        return self.limits.reserve_report(caller.phone_hash, per_day, windows)

    def stored_already(self, caller: Caller, conversation_id: str) -> bool:
        """Whether the conversation's report is stored (a retry of its final request)."""
        with self.services.db.session() as session:
            return queries.report_stored_for(session, caller.conversation_key(conversation_id))

    def give_back_report(self, caller: Caller, windows: Windows) -> None:
        """Un-count a slot ``reserve_report`` took for a report that was not stored (a failed
        transaction, or a retry that found it stored already)."""
        self.limits.give_back_report(caller.phone_hash, windows)

    def rate_limited(self, caller: Caller, limit: Limit, *, first: bool) -> None:
        """Count a refused request; log the first of each phone and window (a flood is one
        line, not one per request; the phone by the start of its hash, never its number)."""
        signals.rate_limited.send(self.services, channel=caller.channel, limit=limit)
        if first:
            log.warning(
                "%s phone %s over its limit %s (%d): refused until the window ends",
                caller.channel,
                caller.phone_hash[:12],
                LIMIT_SETTINGS[limit],
                getattr(self.rate, LIMIT_SETTINGS[limit]),
            )

    def phone_hash(self, msisdn: str) -> str:
        """Raises ``phones.InvalidPhoneNumber`` for a number that cannot be a phone."""
        return self.services.vault.hash(phones.normalise(msisdn, self.phone_region))

    def caller(self, channel: str, gateway: str, msisdn: str, network: str) -> Caller:
        """Raises ``phones.InvalidPhoneNumber`` for a number that cannot be a phone."""
        # Parsing a number against the numbering plan was the costliest step of a hop that
        # needs no database, and a session sends the same number on every hop: its hash is
        # kept, under a digest keyed for this process only (no number is kept in clear).
        # With it, whether the number as sent is its E.164 form already, so that a report's
        # hop need not parse it again to encrypt it (a tenth of a millisecond).
        seen = hashlib.blake2b(msisdn.encode(), key=self._digest_key, digest_size=16).digest()
        known = self._hashes.get(seen)
        if known is None:
            normalised = phones.normalise(msisdn, self.phone_region)
            known = (self.services.vault.hash(normalised), normalised == msisdn)
            if len(self._hashes) >= HASHES_CACHED:
                self._hashes.clear()
            self._hashes[seen] = known
        return Caller(
            channel=channel,
            gateway=gateway,
            msisdn=msisdn,
            region=self.phone_region,
            phone_hash=known[0],
            network_code=network or None,
            canonical=known[1],
        )

    def context(
        self,
        caller: Caller,
        limit: int,
        stretch_limit: int | None = None,
        *,
        discreet: bool = False,
        offer_sms_reference: bool = False,
    ) -> Context:
        """What the engine needs for one turn of ``caller``'s: today, the lists, the limits, and
        what this phone may hear about a report it asks after."""
        return Context(
            catalog=self.services.catalog,
            datasets=self.services.datasets,
            today=self.services.clock.local_today(),
            limit=limit,
            stretch_limit=stretch_limit,
            discreet=discreet,
            offer_sms_reference=offer_sms_reference,
            reports=StatusLookup(self.services, caller.phone_hash),
        )

    def remembered_language(self, caller: Caller) -> str | None:
        """The language this phone chose in an earlier conversation, on either channel."""
        return queries.language_at_once(self.services.db, caller.phone_hash)

    def remember_language(self, caller: Caller, language: str) -> None:
        """A language chosen on a USSD hop: one statement of its own, outside any transaction
        (Redis caches it in the hop's own round trip)."""
        operations.remember_language_at_once(
            self.services.db, caller.phone_hash, language, self.services.clock.now()
        )

    @contextmanager
    def transaction(self, caller: Caller, stored: list[int] | None = None) -> Iterator[TurnWrites]:
        """The turn's one transaction: committed when the block succeeds, rolled back on any
        error; the SMS queued in it go to the workers only after the commit. The ids of the
        reports it stored are added to ``stored`` as soon as it has committed (what follows
        may still fail): each has used the slot of the day reserved for it (``reserve_report``)."""
        with self.services.db.transaction() as session:
            writes = TurnWrites(self.services, session, caller)
            yield writes
        if stored is not None:
            stored.extend(writes.report_ids)
        dispatch.enqueue(self.services, writes.outbox_ids)
        if writes.language is not None:
            # USSD reads the phone's language from Redis (no SQL on a hop that needs none): keep
            # that copy right whichever channel changed it.
            self.services.sessions.remember_language(caller.phone_hash, writes.language)

    def commit(
        self,
        caller: Caller,
        tree: Tree,
        outcome: Outcome,
        conversation_id: str,
        ctx: Context,
        stored: list[int] | None = None,
    ) -> Outcome:
        """USSD's writes. A report: ``TurnWrites.record`` in a transaction of its own. A language
        choice: one autocommit statement (the hop caches it in Redis itself). Any other turn
        makes no database round trip. The ids of the reports stored (not found from an earlier
        request) are added to ``stored``."""
        if not any(isinstance(e, ReportSubmitted) for e in outcome.events):
            language = chosen_language(outcome)
            if language is not None:
                self.remember_language(caller, language)
            return outcome
        with self.transaction(caller, stored) as writes:
            recorded = writes.record(tree, outcome, conversation_id, ctx)
        return recorded
