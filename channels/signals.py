"""Signals the channels send after a turn's transaction committed, for features that react to it
(notifications). Receivers run after the commit and must be quick: they run inside a gateway's
request (a USSD hop has seconds), so they hand work to a job rather than doing it.

- ``reports_received``: sent with the app's ``Services`` as sender and ``report_ids``, the
  reports this turn stored.
- ``rate_limited``: sent with ``channel`` and ``limit`` ("sessions", "reports", "sms") for every
  request refused because its phone is over a limit (the metrics count them).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

reports_received = _signals.signal("reports-received")
rate_limited = _signals.signal("rate-limited")
