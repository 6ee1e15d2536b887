"""What the engine needs from the outside world for one turn, passed in rather than fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .datasets import Datasets
from .follow import ReportLookup
from .i18n import Catalog


@dataclass(frozen=True)
class Context:
    catalog: Catalog
    datasets: Datasets
    today: date  # the reporter's today: dates are judged in their time zone, not the server's
    limit: int = 160
    # SMS: a list that needs pages at ``limit`` may use one longer message (up to this) first.
    stretch_limit: int | None = None
    # The conversation stays on the handset (SMS): the confirmation shows the tree's discreet
    # summary, and the last message advises deleting the messages.
    discreet: bool = False
    # The deployment offers to send the reference by SMS: a confirmation's "send_reference"
    # option is shown.
    offer_sms_reference: bool = False
    # "Follow my report": what this caller may hear about a typed reference (a channel's
    # lookup); None answers every reference "not found".
    reports: ReportLookup | None = None
