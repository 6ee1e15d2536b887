"""Signals the platform sends after a change is committed, for features that react to it
(notifications by e-mail or SMS). Receivers run after the commit, so they only ever see changes
that happened; one failing receiver must not undo anything.

Each is sent with the app as sender and keyword arguments:
- ``report_forwarded``: report_id, event_id, to_organisation_id, from_organisation_id (or None),
  by_user_id
- ``report_status_changed``: report_id, event_id, status, previous, by_user_id
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

report_forwarded = _signals.signal("report-forwarded")
report_status_changed = _signals.signal("report-status-changed")
