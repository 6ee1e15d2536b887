"""The SMS conversation service: an incoming message in, one reply queued in the outbox.

The menu tree and the engine are USSD's; only the framing differs (``menus/sms``). A
conversation is keyed by the sender's phone hash and the shortcode they wrote to, opens with a
keyword and lives ``sms.session_ttl`` seconds after its last message. Each message gets exactly
one reply: one question, within one SMS segment where possible and never more than
``sms.max_length`` GSM-7 characters.

Per message: lock the conversation, drop a gateway retry (the incoming id is already stored),
decide what the message means (``menus.sms.decisions``), answer it, then write the incoming id,
the reply and whatever the engine's events call for in the turn's one transaction. Only after
that commit is the reply handed to the outbox workers and the conversation saved. If the
transaction fails nothing is stored, and the gateway's retry starts the same message afresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import assert_never

from sqlalchemy.exc import IntegrityError

from menus import engine
from menus.engine import Context, InvalidInput, LanguageChosen, Outcome, ReportSubmitted
from menus.model import Tree
from menus.sms.answers import apply_inputs
from menus.sms.decisions import (
    Answer,
    Decision,
    Expired,
    FreeText,
    Help,
    Start,
    Stop,
    Welcome,
    decide,
    reads_as_report,
)
from menus.sms.texts import SmsTexts, reply_text
from menus.sms.words import Vocabulary
from services import Services
from storage import operations, queries
from storage.limits import Windows

from .conversation import MSG_LIMIT_REPORTS, MSG_LIMIT_SMS, Caller, Conversations, shown
from .sessions import SmsMemory, SmsSession
from .turn import SmsMessage

log = logging.getLogger(__name__)

CHANNEL = "sms"
MEMORY = ":seen"  # the key beside a conversation's, kept longer: see ``SmsMemory``


@dataclass(frozen=True)
class SmsResult:
    duplicate: bool  # a gateway's retry of a message already handled: nothing was done
    limited: bool = False  # the phone is over its messages per hour: nothing was stored
    kind: str = "other"  # for the metrics: what the message was ("answer", "start", ...)


@dataclass(frozen=True)
class _Known:
    """What Redis remembers of this phone's conversation on this shortcode."""

    session: SmsSession | None
    memory: SmsMemory | None
    tree: Tree | None  # the version the open conversation is pinned to
    expired: bool

    @property
    def open(self) -> bool:
        return self.session is not None and self.tree is not None and not self.expired

    @property
    def language(self) -> str | None:
        if self.session is not None and self.session.state.language:
            return self.session.state.language
        return self.memory.language if self.memory is not None else None

    @property
    def at_free_text(self) -> bool:
        if self.session is None or self.tree is None:
            return False
        return engine.accepts(self.tree, self.session.state).kind == "text"


@dataclass(frozen=True)
class _Answer:
    """What the service answers a decision with, before the turn's transaction."""

    tree: Tree | None = None
    outcome: Outcome | None = None  # the engine's word: its screen is the reply's question
    prefix: str = ""  # shown above the question (help)
    text: str = ""  # the whole reply when the engine has nothing to say
    conversation_id: str | None = None  # the open conversation's id after this message
    language: str | None = None
    # The reporter's own words, kept as a report before the menu is offered (``FreeText``).
    free_text: str | None = None


class SmsService:
    def __init__(self, services: Services, conversations: Conversations) -> None:
        self.services = services
        self.conversations = conversations
        self.store = services.sessions
        self.settings = services.settings.sms
        self.default_tree = services.settings.default_tree
        # Expiry notices outlive the conversation itself.
        self.memory_ttl = max(self.settings.session_ttl, self.settings.expiry_notice_seconds)
        self._words: tuple[tuple[tuple[str, int], ...], Vocabulary, SmsTexts] | None = None

    def handle(self, message: SmsMessage) -> SmsResult:
        """Raises ``phones.InvalidPhoneNumber`` for a sender that cannot be a phone, and
        ``SessionBusy`` when another message of the conversation holds it too long."""
        caller = self.conversations.caller(
            CHANNEL, message.gateway, message.sender, message.network
        )
        key = f"{caller.phone_hash}:{message.recipient}"
        if self._over_messages(message, caller, key):
            return SmsResult(duplicate=False, limited=True, kind="limited")
        with self.store.lock(CHANNEL, key, self.settings.lock_timeout):
            if self._seen(message):
                return SmsResult(duplicate=True, kind="duplicate")
            known = self._load(key)
            words, texts = self._vocabulary()
            decision = decide(
                message.text,
                words,
                open=known.open,
                at_free_text=known.at_free_text,
                expired=known.expired,
            )
            # The whole exchange stays on the handset: a discreet confirmation, and the last
            # message advises deleting them.
            ctx = self.conversations.context(
                caller, self.settings.screen_limit, self.settings.max_length, discreet=True
            )
            answer = self._answer(decision, known, message, caller, texts, ctx)
            windows = self.conversations.windows()
            answer, reserved = self._within_reports(answer, known, caller, windows)
            stored: list[int] = []
            try:
                answer = self._commit(answer, message, caller, texts, ctx, stored)
            except IntegrityError:
                if self._seen(message):  # a copy handled elsewhere won the race
                    return SmsResult(duplicate=True, kind="duplicate")
                raise
            finally:
                # A slot reserved for a report not stored now (a failed transaction, or one
                # stored by an earlier message) goes back.
                for _ in range(reserved - len(stored)):
                    self.conversations.give_back_report(caller, windows)
            try:
                self._save(key, answer, known, message)
            except Exception:
                # The reply is committed and will be sent; only the next message may be misread.
                log.exception("SMS %s: could not save the conversation state", message.message_id)
        log.info("SMS %s handled: %s", message.message_id, type(decision).__name__)
        return SmsResult(duplicate=False, kind=type(decision).__name__.lower())

    # Rate limits ---------------------------------------------------------------------------

    def _over_messages(self, message: SmsMessage, caller: Caller, key: str) -> bool:
        """Count the message; past ``rate_limits.sms_per_hour`` it is dropped unread. The first
        one over gets one reply saying so (a reply to each would make us the flood's echo)."""
        per_hour = self.conversations.rate.sms_per_hour
        if not per_hour:
            return False
        windows = self.conversations.windows()
        counted = self.conversations.limits.count(caller.phone_hash, "sms", per_hour, windows)
        if not counted.over:
            return False
        self.conversations.rate_limited(caller, "sms", first=counted.first_over)
        if counted.first_over:
            memory = self.store.load(CHANNEL, key + MEMORY, SmsMemory.from_json)
            language = memory.language if memory is not None else None
            language = language or self.conversations.remembered_language(caller)
            with self.conversations.transaction(caller) as writes:
                writes.queue_sms(
                    self._in_language(language, MSG_LIMIT_SMS),
                    sender=message.recipient or None,
                    idempotency_key=f"sms-limit:{caller.phone_hash[:32]}:{windows.hour}",
                )
        return True

    def _within_reports(
        self, answer: _Answer, known: _Known, caller: Caller, windows: Windows
    ) -> tuple[_Answer, int]:
        """An answer that would store a report takes a slot of the phone's daily reports first
        (``rate_limits.reports_per_day``), and how many it took; past the limit it says so
        instead, and ends the conversation without storing it."""
        submits = answer.free_text is not None or (
            answer.outcome is not None
            and any(isinstance(e, ReportSubmitted) for e in answer.outcome.events)
        )
        if not submits:
            return answer, 0
        reserved = self.conversations.reserve_report(caller, windows)
        if reserved is None:  # no limit
            return answer, 0
        if reserved:
            return answer, 1
        first = self.conversations.limits.first_over(caller.phone_hash, "reports", windows)
        self.conversations.rate_limited(caller, "reports", first=first)
        language = known.language
        if answer.outcome is not None and answer.outcome.state.language:
            language = answer.outcome.state.language
        refused = _Answer(text=self._in_language(language, MSG_LIMIT_REPORTS), language=language)
        return refused, 0

    def _in_language(self, language: str | None, message: str) -> str:
        catalog = self.services.catalog
        if language:
            return catalog.gettext(language, message)
        tree = self.services.trees.current(self.default_tree)
        return catalog.in_each(tree.languages, message)

    # Reading what we know ----------------------------------------------------------------

    def _seen(self, message: SmsMessage) -> bool:
        with self.services.db.session() as session:
            return queries.sms_incoming_seen(session, message.gateway, message.message_id)

    def _load(self, key: str) -> _Known:
        session = self.store.load(CHANNEL, key, SmsSession.from_json)
        memory = self.store.load(CHANNEL, key + MEMORY, SmsMemory.from_json)
        tree = None
        expired = False
        if session is not None:
            tree = self.services.trees.get(session.state.tree_id, session.state.tree_version)
            # Redis drops the key after the TTL; the clock makes the rule exact (and testable).
            idle = self.services.clock.now().timestamp() - session.last_activity
            # A tree version no longer served cannot carry on the conversation either.
            expired = idle > self.settings.session_ttl or tree is None
        elif memory is not None and memory.open:
            expired = True
        return _Known(session=session, memory=memory, tree=tree, expired=expired)

    def _vocabulary(self) -> tuple[Vocabulary, SmsTexts]:
        """The words, rebuilt only when a tree's current version changes (trees have keywords)."""
        trees = self.services.trees
        versions = tuple(sorted(trees.versions().items()))
        if self._words is None or self._words[0] != versions:
            languages = trees.current(self.default_tree).languages
            words = Vocabulary.build(
                keywords=self.settings.keywords,
                tree_keywords=[
                    (tree_id, trees.current(tree_id).keywords) for tree_id, _ in versions
                ],
                default_tree=self.default_tree,
                languages=languages,
                stop_words=self.settings.stop_words,
                help_words=self.settings.help_words,
            )
            texts = SmsTexts(self.services.catalog, words, languages, self.settings.help_contact)
            self._words = (versions, words, texts)
        return self._words[1], self._words[2]

    # Answering ---------------------------------------------------------------------------

    def _answer(
        self,
        decision: Decision,
        known: _Known,
        message: SmsMessage,
        caller: Caller,
        texts: SmsTexts,
        ctx: Context,
    ) -> _Answer:
        session, tree = known.session, known.tree
        if isinstance(decision, Start):
            return self._start(decision, message, caller, ctx)
        if isinstance(decision, Answer):
            assert session is not None and tree is not None  # decided only when open
            current = Outcome(engine.render(tree, session.state, ctx), session.state)
            return _Answer(
                tree=tree,
                outcome=apply_inputs(tree, current, decision.text, ctx),
                conversation_id=session.conversation_id,
            )
        if isinstance(decision, Stop):
            if known.open:
                assert session is not None and tree is not None
                # The same end as the tree's own "cancel" option, reached by a word instead.
                return _Answer(tree=tree, outcome=engine.cancel(tree, session.state, ctx))
            lang = known.language or decision.language
            return _Answer(text=texts.nothing_to_stop(lang), language=lang)
        if isinstance(decision, Help):
            lang = decision.language or known.language
            if known.open:
                assert session is not None and tree is not None
                return _Answer(
                    tree=tree,
                    outcome=Outcome(engine.render(tree, session.state, ctx), session.state),
                    prefix=texts.help(lang),
                    conversation_id=session.conversation_id,
                )
            return _Answer(text=texts.help_outside(lang), language=lang)
        if isinstance(decision, Expired):
            return _Answer(text=texts.expired(known.language), language=known.language)
        if isinstance(decision, FreeText):
            tree = self.services.trees.current(self.default_tree)
            language = known.language or self.conversations.remembered_language(caller)
            return _Answer(
                tree=tree,
                outcome=engine.start(tree, ctx, language=language),
                conversation_id=message.message_id,
                free_text=decision.text,
            )
        if isinstance(decision, Welcome):
            return _Answer(text=texts.welcome(), language=known.language)
        assert_never(decision)

    def _start(self, start: Start, message: SmsMessage, caller: Caller, ctx: Context) -> _Answer:
        tree = self.services.trees.current(start.keyword.tree_id)
        language = start.keyword.language
        if language in tree.languages:
            # The keyword was the reporter's choice of language: remember it like a menu choice.
            opened = replace(
                engine.start(tree, ctx, language=language), events=(LanguageChosen(language),)
            )
        else:
            language = self.conversations.remembered_language(caller)
            opened = engine.start(tree, ctx, language=language)
        if start.rest.strip():
            answered = apply_inputs(tree, opened, start.rest, ctx)
            stuck = answered.state.node == opened.state.node
            if stuck and reads_as_report(start.rest) and _reasked(answered):
                # "Ripoti askari wanatoza kodi Nyabibwe kila siku": the words are the report.
                return _Answer(
                    tree=tree,
                    outcome=opened,
                    conversation_id=message.message_id,
                    free_text=start.rest.strip(),
                )
            opened = answered
        return _Answer(tree=tree, outcome=opened, conversation_id=message.message_id)

    # Writing -----------------------------------------------------------------------------

    def _commit(
        self,
        answer: _Answer,
        message: SmsMessage,
        caller: Caller,
        texts: SmsTexts,
        ctx: Context,
        stored: list[int],
    ) -> _Answer:
        """The turn's transaction: the engine's events, the incoming id and the reply together.
        Returns the answer as stored (a report's end screen shows its reference); the reports
        it stored (not found from an earlier message) are added to ``stored``."""
        with self.conversations.transaction(caller, stored) as writes:
            outcome = answer.outcome
            if answer.free_text is not None and answer.tree is not None:
                language = outcome.state.language if outcome is not None else None
                reference = writes.store_free_text(
                    answer.tree,
                    answer.free_text,
                    language,
                    # Its own key: the conversation the menu opens may store a report too.
                    f"{message.message_id}:text",
                )
                answer = replace(answer, prefix=texts.saved(language, reference))
            if outcome is not None and answer.tree is not None:
                # A submission comes only from an open (or just opened) conversation.
                conversation_id = answer.conversation_id or message.message_id
                outcome = writes.record(answer.tree, outcome, conversation_id, ctx)
                answer = replace(answer, outcome=outcome)
            question = shown(outcome).text if outcome is not None else None
            reply = reply_text(
                question,
                prefix=answer.prefix,
                text=answer.text,
                max_length=self.settings.max_length,
            )
            operations.record_sms_incoming(
                writes.session,
                gateway=message.gateway,
                message_id=message.message_id,
                received_at=self.services.clock.now(),
                sent_at=message.sent_at,
                reporter_hash=caller.phone_hash,
                shortcode=message.recipient,
                network_code=caller.network_code,
            )
            writes.queue_sms(
                reply,
                sender=message.recipient or None,
                idempotency_key=f"sms-reply:{message.gateway}:{message.message_id}",
            )
        return answer

    def _save(self, key: str, answer: _Answer, known: _Known, message: SmsMessage) -> None:
        outcome = answer.outcome
        is_open = (
            outcome is not None and not outcome.state.ended and answer.conversation_id is not None
        )
        language = answer.language
        if outcome is not None:
            language = outcome.state.language
        if is_open:
            assert outcome is not None and answer.conversation_id is not None
            record = SmsSession(
                state=outcome.state,
                conversation_id=answer.conversation_id,
                last_message_id=message.message_id,
                last_activity=self.services.clock.now().timestamp(),
            )
            self.store.save(CHANNEL, key, record, self.settings.session_ttl)
        elif known.session is not None:
            self.store.delete(CHANNEL, key)
        memory = SmsMemory(language=language or known.language, open=is_open)
        self.store.save(CHANNEL, key + MEMORY, memory, self.memory_ttl)


def _reasked(outcome: Outcome) -> bool:
    return any(isinstance(event, InvalidInput) for event in outcome.events)
