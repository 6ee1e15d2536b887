"""Signals the channels send, for features that react to them (metrics). Receivers run inside a
gateway's request (a USSD hop has seconds) and must be quick. (New reports have no signal: the
worker's sweep finds them, ``notify.sweep``.)

- ``rate_limited``: sent with ``channel`` and ``limit`` ("sessions", "reports", "sms") for every
  request refused because its phone is over a limit (the metrics count them).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

rate_limited = _signals.signal("rate-limited")
