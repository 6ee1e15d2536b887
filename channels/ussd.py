"""The USSD conversation service: a normalised turn in, a screen out.

Per request: lock the session, answer an exact repeat from the stored reply, work out the new
input from the gateway's cumulative text, run the engine, commit what its events call for
(``Conversations.commit``), then save the session and the phone's resume point in one Redis round
trip. Hop latency matters (the gateway gives ~10 s, weak networks eat most of it), so a hop that
writes nothing to the database makes no database round trip at all.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, replace

from redis.exceptions import RedisError

from menus import engine, gsm
from menus.engine import Context, Outcome, ReportSubmitted, Screen, State
from menus.i18n import N_
from menus.model import Tree
from menus.state import CANCELLED_NODE, CHANGE_NODE, DISCARD_NODE, RESUME_NODE, STATUS_NODE
from services import Services
from storage import operations, phones
from storage.limits import Windows
from storage.sessions import (
    NO_LANGUAGE,
    OpenedTurn,
    OverLimit,
    PerPhone,
    ReportCount,
    ResumeMode,
    SessionBusy,
)

from .conversation import (
    LIMIT_MESSAGES,
    LIMIT_MESSAGES_SHORT,
    MSG_LIMIT_REPORTS,
    Caller,
    Conversations,
    chosen_language,
    shown,
)
from .sessions import UssdSession
from .turn import UssdReply, UssdSessionEnd, UssdTurn

log = logging.getLogger(__name__)

CHANNEL = "ussd"
# The kind of a pseudo-node's screen, for the metrics.
PSEUDO_KINDS = {
    RESUME_NODE: "resume",
    CANCELLED_NODE: "end",
    DISCARD_NODE: "confirm",
    CHANGE_NODE: "menu",
    STATUS_NODE: "status",
}
MSG_TRY_AGAIN = N_("Sorry, we could not save this. Please try again.")
MSG_UNAVAILABLE = N_("Service unavailable. Please try later.")
MSG_INTERRUPTED = N_("Sorry, this session was interrupted. Please dial again.")


def new_inputs(previous: str, current: str) -> list[str] | None:
    """The input(s) a cumulative ``text`` adds to the previous one; None for a stale request.

    Everything after the previous text and its ``*`` is one input, even if it contains ``*``
    itself (a date typed ``12*05*2026``), because the reporter sent it in one go.
    """
    if previous == "":
        return [current]
    if current.startswith(previous + "*"):
        return [current[len(previous) + 1 :]]
    if previous.startswith(current):
        return None
    return [current.rsplit("*", 1)[-1]]


def opening_inputs(turn: UssdTurn) -> list[str]:
    """A deep dial (``*384*12*1#``) may bring inputs with the very first request."""
    if turn.cumulative:
        return turn.cumulative.split("*")
    if turn.latest_input and not turn.is_new:
        return [turn.latest_input]
    return []


def play(tree: Tree, outcome: Outcome, inputs: list[str], ctx: Context) -> Outcome:
    """Apply ``inputs`` in turn until the conversation ends; the events of every step."""
    events = list(outcome.events)
    for text in inputs:
        outcome = engine.step(tree, outcome.state, text, ctx)
        events.extend(outcome.events)
        if outcome.state.ended:
            break
    return replace(outcome, events=tuple(events))


@dataclass(frozen=True)
class _Advanced:
    tree: Tree
    outcome: Outcome
    inputs: tuple[str, ...]  # what this request applied
    origin: str | None  # the session a resumed report began in


class _Start:
    """How a new session starts: the phone's remembered language comes from Redis when cached
    there, and from the database (once, then cached) otherwise."""

    def __init__(self, opened: OpenedTurn, conversations: Conversations, caller: Caller) -> None:
        self.opened = opened
        self.conversations = conversations
        self.caller = caller
        self.to_cache: str | None = None  # what the database said, for the cache
        self._asked = False
        self._found: str | None = None

    def language(self) -> str | None:
        if self._asked:
            return self._found
        cached = self.opened.language
        if cached is not None:
            self._found = None if cached == NO_LANGUAGE else cached
        else:
            self._found = self.conversations.remembered_language(self.caller)
            self.to_cache = self._found or NO_LANGUAGE
        self._asked = True
        return self._found


class UssdService:
    def __init__(self, services: Services, conversations: Conversations) -> None:
        self.services = services
        self.conversations = conversations
        self.store = services.sessions
        self.settings = services.settings.ussd
        self.default_tree = services.settings.default_tree
        self.rate = services.settings.rate_limits

    def session_key(self, gateway: str, session_id: str) -> str:
        return f"{gateway}:{session_id}"

    def limit_for(self, network: str) -> int:
        return self.settings.network_limits.get(network, self.settings.screen_limit)

    def unavailable(
        self, language: str | None = None, message: str = MSG_UNAVAILABLE, kind: str = "unavailable"
    ) -> UssdReply:
        """An END screen in the reporter's language, or in every language when it is unknown."""
        tree = self.services.trees.current(self.default_tree)
        if language in tree.languages:
            text = self.services.catalog.gettext(language, message)
        else:
            text = self.services.catalog.in_each(tree.languages, message)
        return UssdReply(text=gsm.truncate(text, self.settings.screen_limit), end=True, kind=kind)

    def _language_without_redis(self, caller: Caller) -> str | None:
        try:
            return self.conversations.remembered_language(caller)
        except Exception:  # the database may be what failed too: every language then
            return None

    def handle(self, turn: UssdTurn) -> UssdReply:
        """Always a reply for the gateway; raises only ``phones.InvalidPhoneNumber``, for a
        number that cannot be a phone (the gateway's request is malformed)."""
        caller = self.conversations.caller(CHANNEL, turn.gateway, turn.msisdn, turn.network)
        try:
            return self._handle(turn, caller)
        except OverLimit as over:
            self.conversations.rate_limited(caller, over.limit, first=over.first)
            language = over.language if over.language != NO_LANGUAGE else None
            # In every language when the phone's is unknown: the short one, which fits.
            messages = LIMIT_MESSAGES if language else LIMIT_MESSAGES_SHORT
            return self.unavailable(language, messages[over.limit], "limited")
        except SessionBusy:
            log.warning("USSD session %s busy: concurrent request dropped", turn.session_id)
        except RedisError as exc:
            # Expected when Redis is down or frozen: one line, no traceback, and the reporter
            # hears it in their language (the database knows it) within the client's timeouts.
            log.error(
                "USSD session %s: Redis unavailable (%s)", turn.session_id, type(exc).__name__
            )
            return self.unavailable(self._language_without_redis(caller))
        except Exception:
            log.exception("USSD request failed for session %s", turn.session_id)
        return self.unavailable()

    def _handle(self, turn: UssdTurn, caller: Caller) -> UssdReply:
        key = self.session_key(turn.gateway, turn.session_id)
        windows = self.conversations.windows()
        limits = PerPhone(self.rate.ussd_sessions_per_hour, self.rate.reports_per_day, windows)
        # Round trip 1: the lock, the session, the reports stored today, and for a new session
        # its resume point and language (and the session counted: ``OverLimit`` past a limit).
        opened = self.store.open_turn(
            CHANNEL, key, caller.phone_hash, self.settings.lock_timeout, limits
        )
        saved = False
        try:
            stored_session = UssdSession.from_json(opened.document) if opened.document else None
            seen = turn.cumulative
            repeat = (
                stored_session is not None and seen is not None and stored_session.last_text == seen
            )
            if repeat and stored_session is not None and not stored_session.retry:
                return replace(stored_session.reply, kind="repeat")  # the gateway repeated itself
            ctx = self.conversations.context(
                caller,
                self.limit_for(turn.network),
                offer_sms_reference=self.settings.sms_reference,
            )
            start = _Start(opened, self.conversations, caller)
            if stored_session is None and seen is not None and "*" in seen:
                lost = self._lost(start)
                if lost is not None:
                    return lost
            current = self._advance(turn, stored_session, start, key, ctx)
            if current is None:  # a late copy of an earlier request: change nothing
                assert stored_session is not None
                return replace(stored_session.reply, kind="repeat")
            # The report's own conversation: a resumed report keeps the one it began in, so
            # that storing it twice (an answer lost after its commit) finds the first row.
            conversation = current.origin or turn.session_id
            retry: tuple[str, ...] = ()
            stored: list[int] = []
            report: ReportCount = ""
            reserved = self._reserve(caller, current.outcome, opened, windows)
            if reserved is False and self.conversations.stored_already(caller, conversation):
                # The retry of a request whose report is stored (its answer was lost): no slot
                # needed, it hears its reference again.
                reserved = None
            if reserved is False:
                # Past the phone's daily reports: nothing stored, and nothing left to resume.
                report = "refused"
                outcome = self._refused(current.tree, current.outcome.state, ctx)
                screen, language = shown(outcome), start.to_cache
            else:
                try:
                    outcome = self.conversations.commit(
                        caller, current.tree, current.outcome, conversation, ctx, stored
                    )
                    screen = shown(outcome)
                    # A language chosen now (stored by the commit, cached here), else what the
                    # database said, if it was asked.
                    language = chosen_language(outcome) or start.to_cache
                except Exception:
                    log.exception("could not store the outcome of USSD session %s", turn.session_id)
                    outcome = self._unsaved(current.tree, stored_session, ctx)
                    screen = shown(outcome)
                    language = start.to_cache
                    # The same request again (a gateway's retry, after the database is back)
                    # must replay these inputs rather than repeat "try again" for ever.
                    retry = current.inputs
                if reserved and not stored:
                    # Not stored now (the commit failed, or an earlier request stored it): the
                    # slot goes back in the closing round trip.
                    report = "give back"
            kind = "submit" if stored else "limited" if report == "refused" else None
            reply = UssdReply(
                text=screen.text, end=screen.end, kind=kind or self._kind(current.tree, outcome)
            )
            record = UssdSession(
                state=outcome.state,
                last_text=seen if seen is not None else turn.latest_input,
                reply=reply,
                retry=retry,
                # Kept while the offer shows and while its report goes on; a report started
                # again from nothing is a new one.
                origin=current.origin
                if outcome.state.answers or outcome.state.node == RESUME_NODE
                else None,
            )
            first = self._save(key, caller, record, opened.token, language, report, windows)
            saved = True  # round trip 2 saved the session and released the lock
            if report == "refused":
                self.conversations.rate_limited(caller, "reports", first=first)
            return reply
        finally:
            if not saved:
                with suppress(RedisError):  # it expires by itself; the first error is the one
                    self.store.release(CHANNEL, key, opened.token)

    def _advance(
        self,
        turn: UssdTurn,
        stored: UssdSession | None,
        start: _Start,
        key: str,
        ctx: Context,
    ) -> _Advanced | None:
        """The engine's outcome for this request, or None when the request is stale."""
        pinned = None
        if stored is not None and not turn.is_new:
            pinned = self.services.trees.get(stored.state.tree_id, stored.state.tree_version)
        if pinned is None or stored is None:
            # A new session, or one whose tree version is no longer served: start afresh.
            tree = self.services.trees.current(self.default_tree)
            earlier = self._resume(start.opened, key, tree)
            received = earlier.reference if earlier is not None and earlier.ended else None
            resumed = earlier if received is None else None
            opened = engine.start(
                tree, ctx, language=start.language(), resume=resumed, received=received
            )
            inputs = tuple(opening_inputs(turn))
            origin = None
            if resumed is not None and start.opened.resume_session is not None:
                origin = start.opened.resume_session.split(":", 1)[-1]
            return _Advanced(tree, play(tree, opened, list(inputs), ctx), inputs, origin)
        tree, state = pinned, stored.state
        found: list[str] | None
        if stored.retry and turn.cumulative == stored.last_text:
            found = list(stored.retry)
        elif turn.cumulative is not None:
            found = new_inputs(stored.last_text or "", turn.cumulative)
            if found is None:
                return None
        else:
            found = [turn.latest_input or ""]
        if not found:
            outcome = Outcome(engine.render(tree, state, ctx), state)
            return _Advanced(tree, outcome, (), stored.origin)
        # No screen for where the reporter stood: the step renders the one they move to.
        outcome = play(tree, Outcome(None, state), found, ctx)
        return _Advanced(tree, outcome, tuple(found), stored.origin)

    def _lost(self, start: _Start) -> UssdReply | None:
        """A session past its first answer that Redis no longer holds (restarted, evicted, failed
        over). Replaying the gateway's text from today's start could walk another way than the
        reporter did (the language is known by now, so the first screen differs; a typed
        ``12*05*2026`` splits), so end it, in their language, and store nothing. With no
        language known yet, the walk began at the language question and the replay is exact."""
        language = start.language()
        if language is None:
            return None
        log.warning("USSD session state lost mid-report: the reporter is asked to dial again")
        return self.unavailable(language, MSG_INTERRUPTED, "interrupted")

    def _resume(self, opened: OpenedTurn, key: str, tree: Tree) -> State | None:
        """What the next dial hears of this phone's last session: its unfinished report (to
        resume) or its submitted one (to confirm its reference), within the resume window."""
        if opened.resume_session in (None, key) or opened.resume_document is None:
            return None
        record = UssdSession.from_json(opened.resume_document)
        if record is None:
            return None
        state = record.state
        if state.ended:
            return state if state.reference and self.settings.received_notice else None
        if not self.settings.resume_offer:
            return None
        pinned = self.services.trees.get(state.tree_id, state.tree_version)
        return state if pinned is not None and pinned.version == tree.version else None

    @staticmethod
    def _kind(tree: Tree, outcome: Outcome) -> str:
        node = outcome.state.node
        found = tree.nodes.get(node)
        return found.kind if found is not None else PSEUDO_KINDS.get(node, "other")

    def _reserve(
        self, caller: Caller, outcome: Outcome, opened: OpenedTurn, windows: Windows
    ) -> bool | None:
        """For a hop that would store a report, a slot of the phone's daily reports: whether
        the day had one (None: no report, or no limit). Only the submit hop pays this round
        trip; it makes the limit hold when one phone's sessions submit at once (the count read
        when the hop opened is only a lower bound, enough to refuse without asking again)."""
        per_day = self.rate.reports_per_day
        if not per_day or not any(isinstance(e, ReportSubmitted) for e in outcome.events):
            return None
        if opened.reports_today >= per_day:
            return False
        return self.conversations.reserve_report(caller, windows)

    def _refused(self, tree: Tree, state: State, ctx: Context) -> Outcome:
        """The report the phone may not store today: the session ends, politely, without it."""
        ended = engine.cancel(tree, state, ctx).state
        text = ctx.catalog.gettext(engine.language_of(tree, state), MSG_LIMIT_REPORTS)
        return Outcome(Screen(gsm.truncate(text, ctx.limit), end=True), ended)

    def _unsaved(self, tree: Tree, stored: UssdSession | None, ctx: Context) -> Outcome:
        """The database failed: keep the reporter where they were and ask them to try again."""
        if stored is None:
            return Outcome(Screen(self.unavailable().text, end=True), engine.fresh_state(tree))
        state = stored.state
        hint = ctx.catalog.gettext(engine.language_of(tree, state), MSG_TRY_AGAIN)
        return Outcome(engine.render(tree, state, ctx, hint), state)

    def _save(
        self,
        key: str,
        caller: Caller,
        record: UssdSession,
        token: str,
        language: str | None,
        report: ReportCount,
        windows: Windows,
    ) -> bool:
        """The session, the phone's resume point and the lock, in one round trip. The resume
        point names this session while its report is unfinished (where resuming is offered) and
        once it is submitted (for "your report was received"), and the session then lives as long
        as the resume window; it is kept while the resume offer itself is showing, and cleared
        otherwise: the next dial hears of the last one at most once."""
        settings, state = self.settings, record.state
        resume: ResumeMode
        ttl = settings.session_ttl
        submitted = state.ended and state.reference is not None
        if state.node == RESUME_NODE:
            resume = "keep"  # the offer itself must not erase what it offers
        elif (state.unfinished and settings.resume_offer) or (
            submitted and settings.received_notice
        ):
            resume = "set"
            ttl = max(ttl, settings.resume_window)
        else:
            resume = "clear"
        return self.store.close_turn(
            CHANNEL,
            key,
            token,
            record=record,
            ttl=ttl,
            phone_hash=caller.phone_hash,
            resume=resume,
            resume_window=settings.resume_window,
            language=language,
            report=report,
            windows=windows,
        )

    # The end of a session ------------------------------------------------------------------

    def record_session_end(self, end: UssdSessionEnd) -> None:
        """Store the gateway's end-of-session notification, with the node the reporter was on."""
        phone_hash = None
        if end.msisdn:
            try:
                phone_hash = self.conversations.phone_hash(end.msisdn)
            except phones.InvalidPhoneNumber:
                # The notification is still true: keep it for the drop-off figures, without a
                # reporter.
                log.warning(
                    "USSD session end %s: phoneNumber is not a valid phone number",
                    end.session_id[:64],
                )
        stored = self.store.load(
            CHANNEL, self.session_key(end.gateway, end.session_id), UssdSession.from_json
        )
        with self.services.db.transaction() as session:
            operations.record_ussd_session_end(
                session,
                gateway=end.gateway,
                session_id=end.session_id,
                received_at=self.services.clock.now(),
                ended_at=end.ended_at,
                service_code=end.service_code or None,
                network_code=end.network or None,
                reporter_hash=phone_hash,
                status=end.status,
                hops=end.hops,
                duration_ms=end.duration_ms,
                cost=end.cost or None,
                last_node=stored.state.node if stored is not None else None,
                last_response=end.last_response or None,
                error_message=end.error_message or None,
            )
