"""The USSD conversation service: a normalised turn in, a screen out.

Per request: lock the session, detect an exact repeat, work out the new input from the gateway's
cumulative text, run the engine, commit what the events call for, then save the state and the
(input, reply) pair. Hop latency matters (the gateway gives ~10 s, weak networks eat most of it),
so a hop that writes nothing to the database makes no database round trip at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from menus import engine, gsm
from menus.engine import Outcome
from menus.i18n import N_
from menus.model import Tree
from menus.state import RESUME_NODE, State
from services import Services
from storage import phones, queries
from storage.sessions import ResumePoint, StoredSession

from .conversation import Origin, commit_events, engine_context
from .turn import UssdReply, UssdTurn

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


@dataclass
class _Turn:
    tree: Tree
    outcome: Outcome
    events: list[engine.Event]


class UssdService:
    def __init__(self, services: Services) -> None:
        self.services = services
        ussd = services.settings.section("ussd")
        self.session_ttl = int(ussd.get("session_ttl", 300))
        self.resume_window = int(ussd.get("resume_window", 900))
        self.lock_timeout = float(ussd.get("lock_timeout", 3))
        self.default_limit = int(ussd.get("screen_limit", 160))
        self.network_limits = {
            str(k): int(v) for k, v in (ussd.get("network_limits") or {}).items()
        }
        self.default_tree = str(services.settings.get("default_tree", default="incident"))
        self.phone_region = services.settings.phone_region

    def unavailable_text(self) -> str:
        """For a reporter whose language we do not know: the message in every language."""
        tree = self.services.trees.current(self.default_tree)
        text = self.services.catalog.in_each(tree.languages, MSG_UNAVAILABLE)
        return gsm.truncate(text, self.default_limit)

    def limit_for(self, network: str) -> int:
        return self.network_limits.get(network, self.default_limit)

    def handle(self, turn: UssdTurn) -> UssdReply:
        """Raises ``phones.InvalidPhoneNumber`` for a number that cannot be a phone."""
        phone = phones.normalise(turn.msisdn, self.phone_region)
        phone_hash = self.services.vault.hash(phone)
        conversation = f"{turn.gateway}:{turn.session_id}"
        store = self.services.sessions
        with store.lock(CHANNEL, conversation, self.lock_timeout):
            stored = store.load(CHANNEL, conversation)
            seen = turn.cumulative
            repeated = stored is not None and seen is not None and stored.last_input == seen
            if repeated and stored is not None and stored.last_reply is not None:
                return UssdReply(**stored.last_reply)  # the gateway repeated itself
            ctx = engine_context(self.services, self.limit_for(turn.network))
            current = self._advance(turn, stored, phone_hash, conversation, ctx)
            if current is None:  # a late copy of an earlier request: change nothing
                assert stored is not None and stored.last_reply is not None
                return UssdReply(**stored.last_reply)
            origin = Origin(
                channel=CHANNEL,
                gateway=turn.gateway,
                conversation_key=f"{CHANNEL}:{conversation}",
                phone=phone,
                phone_hash=phone_hash,
                network_code=turn.network or None,
            )
            try:
                outcome = commit_events(
                    self.services, current.tree, current.outcome, current.events, origin, ctx
                )
            except Exception:
                log.exception("could not store the outcome of USSD session %s", turn.session_id)
                outcome = self._unsaved(current.tree, stored, ctx)
            assert outcome.screen is not None  # commit_events renders a submission's screen
            reply = UssdReply(text=outcome.screen.text, end=outcome.screen.end)
            state = outcome.state
            resume: tuple[str, ResumePoint | None, int] | None
            if state.node == RESUME_NODE:
                resume = None  # the offer itself must not erase what it offers
            elif state.unfinished:
                resume = (
                    phone_hash,
                    ResumePoint(state.to_dict(), conversation),
                    self.resume_window,
                )
            else:
                resume = (phone_hash, None, self.resume_window)
            store.save(
                CHANNEL,
                conversation,
                StoredSession(
                    state=state.to_dict(),
                    last_input=seen if seen is not None else turn.latest_input,
                    last_reply={"text": reply.text, "end": reply.end},
                    phone_hash=phone_hash,
                    created_at=stored.created_at
                    if stored
                    else self.services.clock.now().timestamp(),
                ),
                self.session_ttl,
                resume=resume,
            )
        return reply

    def _advance(
        self,
        turn: UssdTurn,
        stored: StoredSession | None,
        phone_hash: str,
        conversation: str,
        ctx: engine.Context,
    ) -> _Turn | None:
        events: list[engine.Event] = []
        tree: Tree | None = None
        state: State | None = None
        if stored is not None and not turn.is_new:
            state = State.from_dict(stored.state)
            tree = self.services.trees.get(state.tree_id, state.tree_version)
        if tree is None or state is None or stored is None:
            tree = self.services.trees.current(self.default_tree)
            outcome = engine.start(
                tree,
                ctx,
                language=self._language(phone_hash),
                resume=self._resume(phone_hash, conversation, tree),
            )
            inputs = self._opening_inputs(turn)
        else:
            outcome = Outcome(engine.render(tree, state, ctx), state)
            if turn.cumulative is not None:
                found = new_inputs(stored.last_input or "", turn.cumulative)
                if found is None:
                    return None
                inputs = found
            else:
                inputs = [turn.latest_input or ""]
        for text in inputs:
            outcome = engine.step(tree, outcome.state, text, ctx)
            events.extend(outcome.events)
            if outcome.state.ended:
                break
        return _Turn(tree=tree, outcome=outcome, events=events)

    @staticmethod
    def _opening_inputs(turn: UssdTurn) -> list[str]:
        """A deep dial (``*384*12*1#``) may bring inputs with the very first request."""
        if turn.cumulative:
            return turn.cumulative.split("*")
        if turn.latest_input and not turn.is_new:
            return [turn.latest_input]
        return []

    def _language(self, phone_hash: str) -> str | None:
        with self.services.db.session() as session:
            return queries.language_for(session, phone_hash)

    def _resume(self, phone_hash: str, conversation: str, tree: Tree) -> State | None:
        point = self.services.sessions.resume_point(CHANNEL, phone_hash)
        if point is None or point.session_id == conversation:
            return None
        state = State.from_dict(point.state)
        pinned = self.services.trees.get(state.tree_id, state.tree_version)
        return state if pinned is not None and pinned.version == tree.version else None

    def _unsaved(self, tree: Tree, stored: StoredSession | None, ctx: engine.Context) -> Outcome:
        """The database failed: keep the reporter where they were and ask them to try again."""
        if stored is None:
            state = engine.fresh_state(tree)
            text = self.unavailable_text()
            return Outcome(engine.Screen(text=text, end=True), state)
        state = State.from_dict(stored.state)
        lang = engine.language_of(tree, state)
        hint = ctx.catalog.gettext(lang, MSG_TRY_AGAIN)
        return Outcome(engine.render(tree, state, ctx, hint), state)
