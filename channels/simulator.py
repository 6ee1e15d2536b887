"""The editor's phone simulator: a draft (or any version) of a tree run through the real engine
and the real SMS framing, as a feature phone's USSD screen or an SMS thread.

Nothing is stored as a report and nothing is sent: a confirmation shows what *would* be stored
(the report's columns as the intake computes them). Simulated conversations live in Redis under
a channel of their own (``<redis_prefix>simulator:s:...``), apart from every real conversation,
keyed by the editor, the tree version and the channel, for ``TTL`` seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from menus import engine, gsm
from menus.engine import Context, Outcome, ReportSubmitted
from menus.model import Tree
from menus.sms.answers import apply_inputs
from menus.sms.decisions import (
    Answer,
    Expired,
    FreeText,
    Help,
    Start,
    Stop,
    Welcome,
    decide,
)
from menus.sms.texts import SmsTexts, reply_text
from menus.sms.words import Vocabulary
from services import Services
from storage.operations import report_columns

CHANNEL = "simulator"  # the session store's channel: keys apart from "ussd" and "sms"
TTL = 3600
SIMULATED_REFERENCE = "0000000"  # shown where a stored report's reference would be

Channel = Literal["ussd", "sms"]


@dataclass(frozen=True)
class Limit:
    name: str  # "USSD", "USSD 63902", "SMS segment", "SMS at most"
    limit: int
    fits: bool


@dataclass
class Line:
    """One message of the simulation: what the phone sent, or what the service answered."""

    sender: Literal["phone", "service"]
    text: str
    end: bool = False
    length: int = 0  # GSM-7 septets of the text as sent (transliterated)
    segments: int = 0  # SMS only
    limits: list[Limit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sender": self.sender,
            "text": self.text,
            "end": self.end,
            "length": self.length,
            "segments": self.segments,
            "limits": [[x.name, x.limit, x.fits] for x in self.limits],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Line:
        data = dict(data)
        data["limits"] = [Limit(n, int(v), bool(f)) for n, v, f in data.get("limits", [])]
        return cls(**data)


@dataclass
class Simulation:
    state: dict[str, Any] | None = None  # the engine's State, while a conversation is open
    lines: list[Line] = field(default_factory=list)
    stored: dict[str, Any] | None = None  # what the last confirmation would have stored

    @property
    def open(self) -> bool:
        return self.state is not None and not self.state.get("ended")

    def to_json(self) -> str:
        return json.dumps(
            {
                "state": self.state,
                "lines": [line.to_dict() for line in self.lines],
                "stored": self.stored,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Simulation:
        data = json.loads(raw)
        return cls(
            state=data.get("state"),
            lines=[Line.from_dict(x) for x in data.get("lines", [])],
            stored=data.get("stored"),
        )


class Simulator:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.sessions

    @staticmethod
    def key(user_id: int, tree_id: str, version: int, channel: Channel) -> str:
        return f"{user_id}:{tree_id}:{version}:{channel}"

    def load(self, key: str) -> Simulation:
        return self.store.load(CHANNEL, key, Simulation.from_json) or Simulation()

    def reset(self, key: str) -> None:
        self.store.delete(CHANNEL, key)

    def _save(self, key: str, simulation: Simulation) -> None:
        self.store.save(CHANNEL, key, simulation, TTL)

    def _context(self, channel: Channel) -> Context:
        settings = self.services.settings
        if channel == "ussd":
            return Context(
                catalog=self.services.catalog,
                datasets=self.services.datasets,
                today=self.services.clock.local_today(),
                limit=settings.ussd.screen_limit,
                offer_sms_reference=settings.ussd.sms_reference,
            )
        return Context(
            catalog=self.services.catalog,
            datasets=self.services.datasets,
            today=self.services.clock.local_today(),
            limit=settings.sms.screen_limit,
            stretch_limit=settings.sms.max_length,
            discreet=True,
        )

    def _measured(self, channel: Channel, text: str, end: bool) -> Line:
        sent = gsm.to_gsm(text)
        length = gsm.length(sent)
        settings = self.services.settings
        if channel == "ussd":
            limits = [
                Limit("USSD", settings.ussd.screen_limit, length <= settings.ussd.screen_limit)
            ]
            limits += [
                Limit(f"USSD {network}", limit, length <= limit)
                for network, limit in sorted(settings.ussd.network_limits.items())
            ]
            return Line("service", text, end, length, 0, limits)
        encoding = gsm.sms_encoding(sent)
        limits = [
            Limit("SMS", settings.sms.screen_limit, length <= settings.sms.screen_limit),
            Limit("SMS max", settings.sms.max_length, length <= settings.sms.max_length),
        ]
        return Line("service", text, end, length, encoding.segments, limits)

    def _finish(self, tree: Tree, outcome: Outcome, ctx: Context, simulation: Simulation) -> str:
        """The screen of an outcome; a submission shows what would be stored instead of storing."""
        submitted = [e for e in outcome.events if isinstance(e, ReportSubmitted)]
        if submitted:
            event = submitted[-1]
            columns = report_columns(event.answers, self.services.clock.local_today())
            simulation.stored = {
                "tree_id": event.tree_id,
                "tree_version": event.tree_version,
                "language": event.language,
                **{
                    k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in columns.items()
                },
            }
            outcome = engine.submitted(tree, outcome.state, SIMULATED_REFERENCE, ctx)
        simulation.state = outcome.state.to_dict()
        assert outcome.screen is not None  # a submission was rendered just above
        return outcome.screen.text

    # USSD -------------------------------------------------------------------------------------

    def ussd(self, key: str, tree: Tree, text: str | None, language: str | None) -> Simulation:
        """``text`` None dials (a new session); otherwise the reporter's answer."""
        ctx = self._context("ussd")
        simulation = self.load(key)
        if text is None or not simulation.open:
            simulation = Simulation()
            outcome = engine.start(tree, ctx, language=language)
        else:
            assert simulation.state is not None
            simulation.lines.append(Line("phone", text))
            state = engine.State.from_dict(simulation.state)
            outcome = engine.step(tree, state, text, ctx)
        screen = self._finish(tree, outcome, ctx, simulation)
        simulation.lines.append(self._measured("ussd", screen, outcome.state.ended))
        self._save(key, simulation)
        return simulation

    # SMS --------------------------------------------------------------------------------------

    def _words(self, tree: Tree) -> tuple[Vocabulary, SmsTexts]:
        settings = self.services.settings.sms
        words = Vocabulary.build(
            keywords=settings.keywords,
            tree_keywords=[(tree.id, tree.keywords)],
            default_tree=tree.id,
            languages=tree.languages,
            stop_words=settings.stop_words,
            help_words=settings.help_words,
        )
        texts = SmsTexts(self.services.catalog, words, tree.languages, settings.help_contact)
        return words, texts

    def sms(self, key: str, tree: Tree, text: str, language: str | None) -> Simulation:
        """One SMS from the simulated phone, and the one reply the service would send."""
        ctx = self._context("sms")
        words, texts = self._words(tree)
        simulation = self.load(key)
        simulation.lines.append(Line("phone", text))
        state = (
            engine.State.from_dict(simulation.state)
            if simulation.open and simulation.state is not None
            else None
        )
        at_free_text = state is not None and engine.accepts(tree, state).kind == "text"
        decision = decide(
            text, words, open=state is not None, at_free_text=at_free_text, expired=False
        )
        question: str | None = None
        prefix = plain = ""
        if isinstance(decision, Start | FreeText):
            keyword_language = decision.keyword.language if isinstance(decision, Start) else None
            chosen = keyword_language if keyword_language in tree.languages else language
            outcome = engine.start(tree, ctx, language=chosen)
            rest = decision.rest if isinstance(decision, Start) else ""
            if rest.strip():
                outcome = apply_inputs(tree, outcome, rest, ctx)
            if isinstance(decision, FreeText):
                simulation.stored = {"details": decision.text, "free_text": True}
                prefix = texts.saved(outcome.state.language, SIMULATED_REFERENCE)
            question = self._finish(tree, outcome, ctx, simulation)
        elif isinstance(decision, Answer):
            assert state is not None
            current = Outcome(engine.render(tree, state, ctx), state)
            outcome = apply_inputs(tree, current, decision.text, ctx)
            question = self._finish(tree, outcome, ctx, simulation)
        elif isinstance(decision, Stop):
            if state is not None:
                question = self._finish(tree, engine.cancel(tree, state, ctx), ctx, simulation)
            else:
                plain = texts.nothing_to_stop(language or decision.language)
        elif isinstance(decision, Help):
            lang = decision.language or (state.language if state is not None else language)
            if state is not None:
                prefix = texts.help(lang)
                question = engine.render(tree, state, ctx).text
            else:
                plain = texts.help_outside(lang)
        elif isinstance(decision, Expired):
            plain = texts.expired(language)
        elif isinstance(decision, Welcome):
            plain = texts.welcome()
        reply = reply_text(
            question, prefix=prefix, text=plain, max_length=self.services.settings.sms.max_length
        )
        ended = not Simulation(state=simulation.state).open
        simulation.lines.append(self._measured("sms", reply, ended))
        if ended:
            simulation.state = None
        self._save(key, simulation)
        return simulation
