"""Failed logins counted in Redis, per account and per client address.

Each failure increments a counter that expires ``window`` seconds after the first failure. Once a
counter reaches its limit, every attempt for that account (or from that address) is refused, right
password or not, until the window ends: guessing gets at most ``per_account`` tries per window.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class LoginThrottle:
    client: redis.Redis
    prefix: str
    per_account: int
    per_address: int
    window: int

    def _keys(self, email: str, address: str) -> tuple[str, str]:
        # Hashed: the Redis keys should not list who tried to log in.
        account = hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]
        return f"{self.prefix}login:account:{account}", f"{self.prefix}login:address:{address}"

    def retry_after(self, email: str, address: str) -> int:
        """Seconds until a login may be tried again; 0 when it may be tried now."""
        account_key, address_key = self._keys(email, address)
        pipe = self.client.pipeline()
        pipe.get(account_key)
        pipe.get(address_key)
        pipe.ttl(account_key)
        pipe.ttl(address_key)
        account_count, address_count, account_ttl, address_ttl = pipe.execute()
        wait = 0
        if account_count is not None and int(account_count) >= self.per_account:
            wait = max(wait, int(account_ttl), 1)
        if address_count is not None and int(address_count) >= self.per_address:
            wait = max(wait, int(address_ttl), 1)
        return wait

    def failed(self, email: str, address: str) -> None:
        keys = self._keys(email, address)
        pipe = self.client.pipeline()
        for key in keys:
            pipe.incr(key)
            pipe.ttl(key)
        results = pipe.execute()
        # The window starts at the first failure (EXPIRE ... NX would say it in one command, but
        # needs Redis 7 and the embedded server is older).
        for key, ttl in zip(keys, results[1::2], strict=True):
            if int(ttl) < 0:
                self.client.expire(key, self.window)

    def succeeded(self, email: str, address: str) -> None:
        # The account's slate is clean again; the address keeps its count (one address trying
        # many accounts is the pattern that counter is for).
        self.client.delete(self._keys(email, address)[0])
