"""The USSD conversation service: a normalised turn in, a screen out.

Per request: lock the session, answer an exact repeat from the stored reply, work out the new
input from the gateway's cumulative text, run the engine, commit what its events call for
(``Conversations.commit``), then save the session and the phone's resume point in one Redis round
trip. Hop latency matters (the gateway gives ~10 s, weak networks eat most of it), so a hop that
writes nothing to the database makes no database round trip at all.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from menus import engine, gsm
from menus.engine import Context, Outcome, Screen, State
from menus.i18n import N_
from menus.model import Tree
from menus.state import RESUME_NODE
from services import Services
from storage import operations, phones
from storage.sessions import ResumePoint, SessionBusy

from .conversation import Caller, Conversations, shown
from .sessions import UssdSession
from .turn import UssdReply, UssdSessionEnd, UssdTurn

log = logging.getLogger(__name__)

CHANNEL = "ussd"
MSG_TRY_AGAIN = N_("Sorry, we could not save this. Please try again.")
MSG_UNAVAILABLE = N_("Service unavailable. Please try later.")


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


class UssdService:
    def __init__(self, services: Services, conversations: Conversations) -> None:
        self.services = services
        self.conversations = conversations
        self.store = services.sessions
        self.settings = services.settings.ussd
        self.default_tree = services.settings.default_tree

    def session_key(self, gateway: str, session_id: str) -> str:
        return f"{gateway}:{session_id}"

    def limit_for(self, network: str) -> int:
        return self.settings.network_limits.get(network, self.settings.screen_limit)

    def unavailable(self) -> UssdReply:
        """For a reporter whose language we do not know: the message in every language."""
        tree = self.services.trees.current(self.default_tree)
        text = self.services.catalog.in_each(tree.languages, MSG_UNAVAILABLE)
        return UssdReply(text=gsm.truncate(text, self.settings.screen_limit), end=True)

    def handle(self, turn: UssdTurn) -> UssdReply:
        """Always a reply for the gateway; raises only ``phones.InvalidPhoneNumber``, for a
        number that cannot be a phone (the gateway's request is malformed)."""
        caller = self.conversations.caller(CHANNEL, turn.gateway, turn.msisdn, turn.network)
        try:
            return self._handle(turn, caller)
        except SessionBusy:
            log.warning("USSD session %s busy: concurrent request dropped", turn.session_id)
        except Exception:
            log.exception("USSD request failed for session %s", turn.session_id)
        return self.unavailable()

    def _handle(self, turn: UssdTurn, caller: Caller) -> UssdReply:
        key = self.session_key(turn.gateway, turn.session_id)
        with self.store.lock(CHANNEL, key, self.settings.lock_timeout):
            stored = self.store.load(CHANNEL, key, UssdSession.from_json)
            seen = turn.cumulative
            if stored is not None and seen is not None and stored.last_text == seen:
                return stored.reply  # the gateway repeated itself
            ctx = self.conversations.context(
                self.limit_for(turn.network), offer_sms_reference=self.settings.sms_reference
            )
            current = self._advance(turn, stored, caller, key, ctx)
            if current is None:  # a late copy of an earlier request: change nothing
                assert stored is not None
                return stored.reply
            tree, outcome = current
            try:
                outcome = self.conversations.commit(caller, tree, outcome, turn.session_id, ctx)
                screen = shown(outcome)
            except Exception:
                log.exception("could not store the outcome of USSD session %s", turn.session_id)
                outcome = self._unsaved(tree, stored, ctx)
                screen = shown(outcome)
            reply = UssdReply(text=screen.text, end=screen.end)
            last_text = seen if seen is not None else turn.latest_input
            self._save(key, caller, outcome.state, last_text, reply)
        return reply

    def _advance(
        self,
        turn: UssdTurn,
        stored: UssdSession | None,
        caller: Caller,
        key: str,
        ctx: Context,
    ) -> tuple[Tree, Outcome] | None:
        """The engine's outcome for this request, or None when the request is stale."""
        pinned = None
        if stored is not None and not turn.is_new:
            pinned = self.services.trees.get(stored.state.tree_id, stored.state.tree_version)
        if pinned is None or stored is None:
            # A new session, or one whose tree version is no longer served: start afresh.
            tree = self.services.trees.current(self.default_tree)
            earlier = self._resume(caller, key, tree)
            received = earlier.reference if earlier is not None and earlier.ended else None
            opened = engine.start(
                tree,
                ctx,
                language=self.conversations.remembered_language(caller),
                resume=earlier if received is None else None,
                received=received,
            )
            return tree, play(tree, opened, opening_inputs(turn), ctx)
        tree, state = pinned, stored.state
        if turn.cumulative is not None:
            inputs = new_inputs(stored.last_text or "", turn.cumulative)
            if inputs is None:
                return None
        else:
            inputs = [turn.latest_input or ""]
        return tree, play(tree, Outcome(engine.render(tree, state, ctx), state), inputs, ctx)

    def _resume(self, caller: Caller, key: str, tree: Tree) -> State | None:
        """What the next dial hears of this phone's last session: its unfinished report (to
        resume) or its submitted one (to confirm its reference), within the resume window."""
        point = self.store.resume_point(CHANNEL, caller.phone_hash)
        if point is None or point.session_id == key:
            return None
        state = State.from_dict(point.state)
        if state.ended:
            return state if state.reference and self.settings.received_notice else None
        if not self.settings.resume_offer:
            return None
        pinned = self.services.trees.get(state.tree_id, state.tree_version)
        return state if pinned is not None and pinned.version == tree.version else None

    def _unsaved(self, tree: Tree, stored: UssdSession | None, ctx: Context) -> Outcome:
        """The database failed: keep the reporter where they were and ask them to try again."""
        if stored is None:
            return Outcome(Screen(self.unavailable().text, end=True), engine.fresh_state(tree))
        state = stored.state
        hint = ctx.catalog.gettext(engine.language_of(tree, state), MSG_TRY_AGAIN)
        return Outcome(engine.render(tree, state, ctx, hint), state)

    def _save(
        self, key: str, caller: Caller, state: State, text: str | None, reply: UssdReply
    ) -> None:
        """The session and, in the same round trip, the phone's resume point: set while a report
        is unfinished (where resuming is offered) and once it is submitted (for "your report was
        received"), kept while the resume offer itself is showing, cleared otherwise: the next
        dial hears of the last one at most once."""
        resume: tuple[str, ResumePoint | None, int] | None
        window = self.settings.resume_window
        submitted = state.ended and state.reference is not None
        if state.node == RESUME_NODE:
            resume = None  # the offer itself must not erase what it offers
        elif (state.unfinished and self.settings.resume_offer) or (
            submitted and self.settings.received_notice
        ):
            resume = (caller.phone_hash, ResumePoint(state.to_dict(), key), window)
        else:
            resume = (caller.phone_hash, None, window)
        record = UssdSession(state=state, last_text=text, reply=reply)
        self.store.save(CHANNEL, key, record, self.settings.session_ttl, resume=resume)

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
