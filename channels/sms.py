"""The SMS conversation service: an incoming message in, one reply queued in the outbox.

The menu tree and the engine are USSD's; only the framing differs. A conversation is keyed by the
sender's phone hash and the shortcode they wrote to, opens with a keyword and lives
``sms.session_ttl`` seconds after its last message. Each message gets exactly one reply: one
question, within one SMS segment where possible and never more than ``sms.max_length`` GSM-7
characters.

Per message: lock the conversation, drop a gateway retry (the incoming id is already stored),
decide, then write the incoming id, the reply and whatever the engine's events call for in one
transaction (``commit_events``). Only after that commit are the state saved and the reply handed
to the outbox workers. If the transaction fails nothing is stored and the gateway's retry
starts the same message afresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from menus import engine, gsm
from menus.engine import LanguageChosen, Outcome
from menus.model import Tree
from menus.sms.answers import apply_inputs
from menus.sms.texts import MSG_EXPIRED, MSG_HELP, MSG_NOTHING_TO_STOP, MSG_START
from menus.sms.words import Keyword, Vocabulary, compact
from menus.state import State
from outbox import dispatch
from services import Services
from storage import operations, phones, queries
from storage.sessions import StoredSession

from .conversation import Origin, commit_events, engine_context
from .turn import SmsMessage

log = logging.getLogger(__name__)

CHANNEL = "sms"
SEEN = ":seen"  # the key beside a conversation that outlives it, to tell "expired" from "never"

# The service ---------------------------------------------------------------------------------


@dataclass
class SmsResult:
    duplicate: bool
    kind: str = ""
    reply: str | None = None
    outbox_ids: tuple[int, ...] = ()


@dataclass
class _Decision:
    kind: str  # start | answer | help | stop | expired | welcome: for logs and tests
    tree: Tree | None = None
    outcome: Outcome | None = None  # the engine's word: its screen is the reply's question
    events: list[engine.Event] = field(default_factory=list)
    prefix: str = ""  # shown above the question (help)
    text: str = ""  # the whole reply when the engine has nothing to say
    conversation_id: str | None = None  # the open conversation's id after this message
    language: str | None = None


@dataclass(frozen=True)
class _Known:
    """What Redis remembers of this phone's conversation on this shortcode."""

    stored: StoredSession | None
    seen: StoredSession | None
    tree: Tree | None
    state: State | None
    expired: bool

    @property
    def open(self) -> bool:
        return self.state is not None and self.tree is not None and not self.expired

    @property
    def language(self) -> str | None:
        if self.state is not None and self.state.language:
            return self.state.language
        if self.seen is not None:
            lang = self.seen.state.get("language")
            return str(lang) if lang else None
        return None


class SmsService:
    def __init__(self, services: Services) -> None:
        self.services = services
        sms = services.settings.section("sms")
        self.session_ttl = int(sms.get("session_ttl", 86400))
        self.notice_ttl = max(self.session_ttl, int(sms.get("expiry_notice_seconds", 7 * 86400)))
        self.limit = int(sms.get("screen_limit", 160))
        self.max_length = int(sms.get("max_length", 459))
        self.lock_timeout = float(sms.get("lock_timeout", 5))
        self.default_tree = str(services.settings.get("default_tree", default="incident"))
        self.phone_region = services.settings.phone_region
        cached = services.extras.get("sms.vocabulary")
        if not isinstance(cached, Vocabulary):
            trees = services.trees
            cached = Vocabulary.build(
                keywords=sms.get("keywords") or {},
                tree_keywords=[
                    (tree_id, trees.current(tree_id).keywords) for tree_id in trees.ids()
                ],
                default_tree=self.default_tree,
                languages=trees.current(self.default_tree).languages,
                stop_words=sms.get("stop_words") or {},
                help_words=sms.get("help_words") or {},
            )
            services.extras["sms.vocabulary"] = cached
        self.words = cached

    def handle(self, message: SmsMessage) -> SmsResult:
        """Raises ``phones.InvalidPhoneNumber`` for a sender that cannot be a phone."""
        phone = phones.normalise(message.sender, self.phone_region)
        phone_hash = self.services.vault.hash(phone)
        conversation = f"{phone_hash}:{message.recipient}"
        store = self.services.sessions
        with store.lock(CHANNEL, conversation, self.lock_timeout):
            if self._seen(message):
                return SmsResult(duplicate=True)
            known = self._load(conversation)
            ctx = engine_context(self.services, self.limit, self.max_length)
            decision = self._decide(message, known, phone_hash, ctx)
            try:
                reply, ids = self._commit(decision, message, phone, phone_hash, ctx)
            except IntegrityError:
                if self._seen(message):  # a copy handled elsewhere won the race
                    return SmsResult(duplicate=True)
                raise
            try:
                self._save(conversation, decision, known, message, phone_hash, reply)
            except Exception:
                # The reply is committed and will be sent; only the next message may be misread.
                log.exception("SMS %s: could not save the conversation state", message.message_id)
        dispatch.enqueue(self.services, ids)
        log.info("SMS %s handled: %s", message.message_id, decision.kind)
        return SmsResult(duplicate=False, kind=decision.kind, reply=reply, outbox_ids=tuple(ids))

    # Reading what we know ----------------------------------------------------------------

    def _seen(self, message: SmsMessage) -> bool:
        with self.services.db.session() as session:
            return queries.sms_incoming_seen(session, message.gateway, message.message_id)

    def _load(self, conversation: str) -> _Known:
        store = self.services.sessions
        stored = store.load(CHANNEL, conversation)
        seen = store.load(CHANNEL, conversation + SEEN)
        tree = state = None
        expired = False
        if stored is not None:
            state = State.from_dict(stored.state)
            tree = self.services.trees.get(state.tree_id, state.tree_version)
            last = float((stored.last_reply or {}).get("at", stored.created_at))
            # Redis drops the key after the TTL; the clock check makes the rule exact (and testable).
            expired = self.services.clock.now().timestamp() - last > self.session_ttl
            if tree is None:
                expired = True  # the version it was pinned to is no longer served
        elif seen is not None and seen.state.get("open"):
            expired = True
        return _Known(stored=stored, seen=seen, tree=tree, state=state, expired=expired)

    # Deciding ----------------------------------------------------------------------------

    def _decide(
        self, message: SmsMessage, known: _Known, phone_hash: str, ctx: engine.Context
    ) -> _Decision:
        text = message.text
        word = compact(text)
        if word in self.words.stop:
            return self._stop(known, self.words.stop[word], ctx)
        if word in self.words.help:
            return self._help(message, known, self.words.help[word], ctx)
        found = self.words.keyword(text)
        if found is not None and known.open and self._at_free_text(known) and word != found[0].word:
            found = None  # "Ripoti ya ajali..." typed as a description is a description
        if found is not None:
            keyword, rest = found
            return self._start(message, keyword, rest, phone_hash, ctx)
        if known.open:
            assert known.tree is not None and known.state is not None
            outcome = Outcome(engine.render(known.tree, known.state, ctx), known.state)
            outcome = apply_inputs(known.tree, outcome, text, ctx)
            return _Decision(
                "answer",
                tree=known.tree,
                outcome=outcome,
                events=list(outcome.events),
                conversation_id=self._conversation_id(known, message),
            )
        if known.expired:
            return self._expired(known)
        return _Decision("welcome", text=self._welcome(), language=known.language)

    @staticmethod
    def _at_free_text(known: _Known) -> bool:
        assert known.tree is not None and known.state is not None
        node = known.tree.nodes.get(known.state.node)
        return node is not None and node.kind == "input" and node.input_type == "text"

    @staticmethod
    def _conversation_id(known: _Known, message: SmsMessage) -> str:
        stored = known.stored
        found = (stored.last_reply or {}).get("conversation") if stored is not None else None
        return str(found) if found else message.message_id

    def _start(
        self,
        message: SmsMessage,
        keyword: Keyword,
        rest: str,
        phone_hash: str,
        ctx: engine.Context,
    ) -> _Decision:
        tree = self.services.trees.current(keyword.tree_id)
        events: list[engine.Event] = []
        language = keyword.language if keyword.language in tree.languages else None
        if language is not None:
            events.append(LanguageChosen(language))  # the keyword was the reporter's choice
        else:
            with self.services.db.session() as session:
                language = queries.language_for(session, phone_hash)
        outcome = engine.start(tree, ctx, language=language)
        outcome = Outcome(outcome.screen, outcome.state, tuple(events))
        if rest.strip():
            outcome = apply_inputs(tree, outcome, rest, ctx)
        return _Decision(
            "start",
            tree=tree,
            outcome=outcome,
            events=list(outcome.events),
            conversation_id=message.message_id,
        )

    def _stop(self, known: _Known, word_language: str | None, ctx: engine.Context) -> _Decision:
        if known.open:
            assert known.tree is not None and known.state is not None
            outcome = engine.cancel(known.tree, known.state, ctx)
            return _Decision("stop", tree=known.tree, outcome=outcome, events=[*outcome.events])
        lang = known.language or word_language
        _ = self.services.catalog.gettext
        text = f"{_(lang, MSG_NOTHING_TO_STOP)} {self._start_line(lang)}"
        return _Decision("stop", text=text, language=lang)

    def _help(
        self, message: SmsMessage, known: _Known, word_language: str | None, ctx: engine.Context
    ) -> _Decision:
        lang = word_language or known.language
        help_text = self.services.catalog.gettext(lang, MSG_HELP).replace(
            "{stop}", self.words.stop_shown.get(lang or "", "STOP")
        )
        if known.open:
            assert known.tree is not None and known.state is not None
            outcome = Outcome(engine.render(known.tree, known.state, ctx), known.state)
            return _Decision(
                "help",
                tree=known.tree,
                outcome=outcome,
                prefix=help_text,
                conversation_id=self._conversation_id(known, message),
            )
        if lang is None:
            return _Decision("help", text=self._welcome())
        return _Decision("help", text=f"{help_text}\n{self._start_line(lang)}", language=lang)

    def _expired(self, known: _Known) -> _Decision:
        lang = known.language
        if lang is None:
            return _Decision("expired", text=self._welcome())
        text = self.services.catalog.gettext(lang, MSG_EXPIRED).replace(
            "{keyword}", self.words.shown.get(lang, "KUFATILIA")
        )
        return _Decision("expired", text=text, language=lang)

    def _start_line(self, lang: str | None) -> str:
        keyword = self.words.shown.get(lang or "", "KUFATILIA")
        return self.services.catalog.gettext(lang, MSG_START).replace("{keyword}", keyword)

    def _welcome(self) -> str:
        """Outside any conversation: how to start one, in every language of the default tree."""
        tree = self.services.trees.current(self.default_tree)
        return "\n".join(self._start_line(lang) for lang in tree.languages)

    # Writing -----------------------------------------------------------------------------

    def _reply_text(self, decision: _Decision, outcome: Outcome | None) -> str:
        if outcome is None:
            text = decision.text
        elif decision.prefix:
            assert outcome.screen is not None  # help only repeats a question already shown
            text = f"{decision.prefix}\n{outcome.screen.text}"
            if gsm.length(gsm.to_gsm(text)) > self.max_length:
                text = decision.prefix
        else:
            assert outcome.screen is not None  # a submission's screen is rendered at commit
            text = outcome.screen.text
        return gsm.truncate(gsm.to_gsm(text), self.max_length)

    def _commit(
        self,
        decision: _Decision,
        message: SmsMessage,
        phone: str,
        phone_hash: str,
        ctx: engine.Context,
    ) -> tuple[str, list[int]]:
        services = self.services
        written: dict[str, object] = {}

        def writes(session: Session, outcome: Outcome | None) -> None:
            now = services.clock.now()
            reply = self._reply_text(decision, outcome)
            operations.record_sms_incoming(
                session,
                gateway=message.gateway,
                message_id=message.message_id,
                received_at=now,
                sent_at=message.sent_at,
                reporter_hash=phone_hash,
                shortcode=message.recipient,
                network_code=message.network or None,
            )
            row = dispatch.queue_message(
                session,
                services,
                phone=phone,
                text=reply,
                sender=message.recipient or None,
                idempotency_key=f"sms-reply:{message.gateway}:{message.message_id}",
            )
            written.update(reply=reply, id=row.id)

        if decision.outcome is not None and decision.tree is not None:
            origin = Origin(
                channel=CHANNEL,
                gateway=message.gateway,
                conversation_key=f"{CHANNEL}:{message.gateway}:{decision.conversation_id}",
                phone=phone,
                phone_hash=phone_hash,
                network_code=message.network or None,
            )
            decision.outcome = commit_events(
                services,
                decision.tree,
                decision.outcome,
                decision.events,
                origin,
                ctx,
                extra_writes=writes,
            )
        else:
            with services.db.transaction() as session:
                writes(session, None)
        reply = str(written["reply"])
        row_id = written["id"]
        assert isinstance(row_id, int)
        return reply, [row_id]

    def _save(
        self,
        conversation: str,
        decision: _Decision,
        known: _Known,
        message: SmsMessage,
        phone_hash: str,
        reply: str,
    ) -> None:
        store = self.services.sessions
        now = self.services.clock.now().timestamp()
        outcome = decision.outcome
        is_open = outcome is not None and not outcome.state.ended and bool(decision.conversation_id)
        language = decision.language
        if outcome is not None and decision.tree is not None:
            language = outcome.state.language
        if is_open:
            assert outcome is not None
            continuing = decision.kind != "start" and known.stored is not None
            started = known.stored.created_at if continuing and known.stored else now
            store.save(
                CHANNEL,
                conversation,
                StoredSession(
                    state=outcome.state.to_dict(),
                    last_input=message.message_id,
                    last_reply={
                        "text": reply,
                        "end": False,
                        "at": now,
                        "conversation": decision.conversation_id,
                    },
                    phone_hash=phone_hash,
                    created_at=started,
                ),
                self.session_ttl,
            )
        elif known.stored is not None:
            store.delete(CHANNEL, conversation)
        store.save(
            CHANNEL,
            conversation + SEEN,
            StoredSession(
                state={"language": language or known.language, "open": is_open},
                last_input=None,
                last_reply=None,
                phone_hash=phone_hash,
                created_at=now,
            ),
            self.notice_ttl,
        )
