"""Rate limits per phone, counted in Redis under the phone's keyed hash (never the number).

One small Redis hash per phone (``<prefix>rl:<phone hash>``) holds every counter, each as three
fields: the window it counts (``<k>w``), the count in it (``<k>n``), and the window in which it
was last logged as over its limit (``<k>l``), so that a flood is logged once per phone and
window, not once per request. ``k`` is ``s`` (new USSD sessions, per clock hour), ``r`` (reports
stored, per local day) or ``m`` (SMS received, per clock hour). The hash expires at the end of
the longest window it counts.

USSD folds its session counting into the hop's two Lua round trips (``storage/sessions.py``):
the first counts a new session and reads the day's reports (a dial over either limit is refused
at once). A report is counted before it is stored: the hop or message that would store one first
reserves a slot of the day (``reserve_report``: check and count in one script, so concurrent
requests from one phone, forged or from both channels at once, can never take more slots than
the day has), and gives it back (``give_back_report``; on USSD, in the hop's closing round trip)
when the transaction fails or the report turns out to be stored already (a gateway's retry).
A process that dies between the reservation and the commit keeps the slot: the error is on the
side of one report fewer, never one more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import redis

from .lean_scripts import LeanScripts

Limit = Literal["sessions", "reports", "sms"]
FIELD: dict[Limit, str] = {"sessions": "s", "reports": "r", "sms": "m"}

# Lua helpers, prepended to every script that counts. KEYS and ARGV stay the script's own.
LUA_HELPERS = """
local function rl_expire(key, ttl)
  if redis.call('ttl', key) < tonumber(ttl) then redis.call('expire', key, ttl) end
end
local function rl_bump(key, f, window, ttl)
  local n
  if redis.call('hget', key, f .. 'w') == window then
    n = redis.call('hincrby', key, f .. 'n', 1)
  else
    redis.call('hset', key, f .. 'w', window, f .. 'n', 1)
    n = 1
  end
  rl_expire(key, ttl)
  return n
end
local function rl_peek(key, f, window)
  if redis.call('hget', key, f .. 'w') == window then
    return tonumber(redis.call('hget', key, f .. 'n')) or 0
  end
  return 0
end
local function rl_give_back(key, f, window)
  if redis.call('hget', key, f .. 'w') == window and redis.call('hincrby', key, f .. 'n', -1) < 0 then
    redis.call('hset', key, f .. 'n', 0)
  end
end
local function rl_first_over(key, f, window, ttl)
  if redis.call('hget', key, f .. 'l') == window then return 0 end
  redis.call('hset', key, f .. 'l', window)
  rl_expire(key, ttl)
  return 1
end
"""

# KEYS: the phone's hash.  ARGV: field, window, ttl, limit.
# -> {count after this one, 1 if this is the first request over the limit in the window}
_COUNT = (
    LUA_HELPERS
    + """
local n = rl_bump(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
local first = 0
if n > tonumber(ARGV[4]) then first = rl_first_over(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) end
return {n, first}
"""
)

# KEYS: the phone's hash.  ARGV: field, window, ttl, limit.
# -> 1 when counted (the count was below the limit), 0 when the limit is reached (not counted).
_RESERVE = (
    LUA_HELPERS
    + """
if rl_peek(KEYS[1], ARGV[1], ARGV[2]) >= tonumber(ARGV[4]) then return 0 end
rl_bump(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return 1
"""
)

# KEYS: the phone's hash.  ARGV: field, window.
_GIVE_BACK = LUA_HELPERS + "rl_give_back(KEYS[1], ARGV[1], ARGV[2])"

# KEYS: the phone's hash.  ARGV: field, window, ttl.  -> 1 if not yet logged in this window.
_FIRST_OVER = LUA_HELPERS + "return rl_first_over(KEYS[1], ARGV[1], ARGV[2], ARGV[3])"


@dataclass(frozen=True)
class Windows:
    """The current windows, named by what they count from, and seconds until each ends."""

    hour: str
    hour_ttl: int
    day: str
    day_ttl: int

    @classmethod
    def at(cls, now: datetime, timezone: ZoneInfo) -> Windows:
        epoch = int(now.timestamp())
        local = now.astimezone(timezone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), timezone)
        return cls(
            hour=str(epoch // 3600),
            # A minute's grace: a request at the window's very end still finds its count.
            hour_ttl=3600 - epoch % 3600 + 60,
            day=local.date().isoformat(),
            day_ttl=max(1, int((midnight - local).total_seconds())) + 60,
        )

    def of(self, limit: Limit) -> tuple[str, int]:
        """The window ``limit`` counts in, and its time to live."""
        return (self.day, self.day_ttl) if limit == "reports" else (self.hour, self.hour_ttl)


@dataclass(frozen=True)
class Counted:
    count: int
    over: bool
    first_over: bool  # the first request over the limit in this window: the one to log


class RateLimits:
    """The counters a request checks on its own round trip (USSD counts new sessions inside its
    hop's scripts, ``storage/sessions.py``)."""

    def __init__(self, client: redis.Redis, prefix: str, lean: LeanScripts | None = None) -> None:
        self.redis = client
        self.prefix = prefix
        # The lean way (``lean_scripts``), as the hop's own scripts: reserving a report's slot
        # is on the submit hop, and redis-py's script call cost four times the round trip.
        # ``lean``: the session store's, to share its connection (one per thread).
        lean = lean or LeanScripts(client)
        self._count = lean.script(_COUNT)
        self._first_over = lean.script(_FIRST_OVER)
        self._reserve = lean.script(_RESERVE)
        self._give_back = lean.script(_GIVE_BACK)

    def key(self, phone_hash: str) -> str:
        return f"{self.prefix}rl:{phone_hash}"

    def count(self, phone_hash: str, limit: Limit, maximum: int, windows: Windows) -> Counted:
        """One more of ``limit`` for this phone; over when the count passes ``maximum``."""
        window, ttl = windows.of(limit)
        found = self._count([self.key(phone_hash)], [FIELD[limit], window, ttl, maximum])
        count, first = int(found[0]), bool(found[1])
        return Counted(count, count > maximum, first)

    def first_over(self, phone_hash: str, limit: Limit, windows: Windows) -> bool:
        """Mark ``limit`` as logged for this window; whether it was not yet."""
        window, ttl = windows.of(limit)
        return bool(self._first_over([self.key(phone_hash)], [FIELD[limit], window, ttl]))

    def reserve_report(self, phone_hash: str, maximum: int, windows: Windows) -> bool:
        """Count a report about to be stored, if the day has room for it (``maximum``): whether
        it had. Check and count are one script: concurrent requests cannot both take the last
        slot. Give the slot back (``give_back_report``) if the report is not stored after all."""
        window, ttl = windows.of("reports")
        found = self._reserve([self.key(phone_hash)], ["r", window, ttl, maximum])
        return bool(found)

    def give_back_report(self, phone_hash: str, windows: Windows) -> None:
        """Un-count a reserved report that was not stored (in the window it was reserved in)."""
        self._give_back([self.key(phone_hash)], ["r", windows.day])
