"""Rate limits per phone, counted in Redis under the phone's keyed hash (never the number).

One small Redis hash per phone (``<prefix>rl:<phone hash>``) holds every counter, each as three
fields: the window it counts (``<k>w``), the count in it (``<k>n``), and the window in which it
was last logged as over its limit (``<k>l``), so that a flood is logged once per phone and
window, not once per request. ``k`` is ``s`` (new USSD sessions, per clock hour), ``r`` (reports
stored, per local day) or ``m`` (SMS received, per clock hour). The hash expires at the end of
the longest window it counts.

USSD folds its counting into the hop's two Lua round trips (``storage/sessions.py``): the first
counts a new session and reads the day's reports, the second counts a report just stored. A
report is refused when the day's count, read at the start of the hop that would store it, has
reached the limit. A phone holds one USSD session at a time on the network, so for real traffic
that check is exact; forged concurrent requests could pass it by as many as are in flight at
once (the new-session limit, counted atomically, bounds those too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import redis

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
    """The counters SMS uses directly (USSD counts inside its own scripts)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.redis = client
        self.prefix = prefix
        self._count = client.register_script(_COUNT)
        self._first_over = client.register_script(_FIRST_OVER)

    def key(self, phone_hash: str) -> str:
        return f"{self.prefix}rl:{phone_hash}"

    def count(self, phone_hash: str, limit: Limit, maximum: int, windows: Windows) -> Counted:
        """One more of ``limit`` for this phone; over when the count passes ``maximum``."""
        window, ttl = windows.of(limit)
        found = self._count(keys=[self.key(phone_hash)], args=[FIELD[limit], window, ttl, maximum])
        count, first = int(found[0]), bool(found[1])
        return Counted(count, count > maximum, first)

    def reports_today(self, phone_hash: str, windows: Windows) -> int:
        values = self.redis.hmget(self.key(phone_hash), ["rw", "rn"])
        window, count = values[0], values[1]
        if (
            window is None
            or (window.decode() if isinstance(window, bytes) else window) != windows.day
        ):
            return 0
        return int(count or 0)

    def first_over(self, phone_hash: str, limit: Limit, windows: Windows) -> bool:
        """Mark ``limit`` as logged for this window; whether it was not yet."""
        window, ttl = windows.of(limit)
        return bool(self._first_over(keys=[self.key(phone_hash)], args=[FIELD[limit], window, ttl]))

    def add_report(self, phone_hash: str, windows: Windows) -> None:
        self.count(phone_hash, "reports", 2**31, windows)
