"""What USSD and SMS share around the engine: building its context, and storing what it decided.

``commit_events`` is the one transaction of a turn: the reporter's language and a submitted
report are written together, and only once they are committed does the reporter read "thank you".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from menus import engine
from menus.engine import Context, LanguageChosen, Outcome, ReportSubmitted
from menus.model import Tree
from services import Services
from storage import operations

log = logging.getLogger(__name__)


def engine_context(services: Services, limit: int, stretch_limit: int | None = None) -> Context:
    return Context(
        catalog=services.catalog,
        datasets=services.datasets,
        today=services.clock.local_today(),
        limit=limit,
        stretch_limit=stretch_limit,
    )


@dataclass(frozen=True)
class Origin:
    """Who and where a conversation comes from, as the storage needs it."""

    channel: str
    gateway: str
    conversation_key: str
    phone: str
    phone_hash: str
    network_code: str | None


def commit_events(
    services: Services,
    tree: Tree,
    outcome: Outcome,
    events: Sequence[engine.Event],
    origin: Origin,
    ctx: Context,
    extra_writes: Callable[[Session, Outcome], None] | None = None,
) -> Outcome:
    """Write what the events call for in one transaction; return the outcome to show.

    A submitted report gets its reference here, and its end screen is rendered with it.
    """
    relevant = [e for e in events if isinstance(e, LanguageChosen | ReportSubmitted)]
    if not relevant and extra_writes is None:
        return outcome
    now = services.clock.now()
    with services.db.transaction() as session:
        for event in relevant:
            if isinstance(event, LanguageChosen):
                operations.remember_language(session, origin.phone_hash, event.language, now)
            else:
                report, created = operations.create_report(
                    session,
                    operations.Submission(
                        language=event.language,
                        tree_id=event.tree_id,
                        tree_version=event.tree_version,
                        answers=event.answers,
                        channel=origin.channel,
                        gateway=origin.gateway,
                        conversation_key=origin.conversation_key,
                        network_code=origin.network_code,
                    ),
                    phone=origin.phone,
                    vault=services.vault,
                    now=now,
                    local_today=services.clock.local_today(),
                    new_reference=services.new_reference,
                )
                if created:
                    log.info(
                        "report %s stored (%s, %s, %s)",
                        report.reference,
                        origin.channel,
                        report.category,
                        report.language,
                    )
                shown = engine.submitted(tree, outcome.state, report.reference, ctx)
                outcome = replace(shown, events=outcome.events)
        if extra_writes is not None:
            extra_writes(session, outcome)
    return outcome
