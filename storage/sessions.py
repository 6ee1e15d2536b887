"""Conversation state in Redis: one small JSON document per conversation, with a TTL.

What a document holds is each channel's own record type (``channels/sessions.py``); this module
only keys, expires and locks them. A per-conversation lock serialises concurrent requests for one
conversation. A second key per phone holds an unfinished report for ``resume_window`` seconds
after its session broke off.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import redis

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Document(Protocol):
    """A channel's session record: its own type, written as one small JSON document."""

    def to_json(self) -> str: ...


D = TypeVar("D")


@dataclass
class ResumePoint:
    state: dict[str, Any]
    session_id: str


class SessionBusy(RuntimeError):
    """Another request for the same session held the lock for too long."""


class SessionStore:
    def __init__(self, client: redis.Redis, prefix: str = "kuf:") -> None:
        self.redis = client
        self.prefix = prefix
        self._release = client.register_script(_RELEASE)

    def _key(self, kind: str, *parts: str) -> str:
        return self.prefix + kind + ":" + ":".join(parts)

    def load(
        self, channel: str, conversation: str, read: Callable[[bytes | str], D | None]
    ) -> D | None:
        """The conversation's record, as ``read`` makes it from the stored JSON; None if none."""
        raw = self.redis.get(self._key(channel, "s", conversation))
        return read(raw) if raw else None

    def delete(self, channel: str, conversation: str) -> None:
        self.redis.delete(self._key(channel, "s", conversation))

    def save(
        self,
        channel: str,
        conversation: str,
        record: Document,
        ttl: int,
        *,
        resume: tuple[str, ResumePoint | None, int] | None = None,
    ) -> None:
        """Write the record and, in the same round trip, set or clear the phone's resume point."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self._key(channel, "s", conversation), record.to_json(), ex=ttl)
        if resume is not None:
            phone_hash, point, window = resume
            key = self._key(channel, "resume", phone_hash)
            if point is None:
                pipe.delete(key)
            else:
                payload = {"state": point.state, "session_id": point.session_id}
                pipe.set(key, json.dumps(payload, separators=(",", ":")), ex=window)
        pipe.execute()

    def resume_point(self, channel: str, phone_hash: str) -> ResumePoint | None:
        raw = self.redis.get(self._key(channel, "resume", phone_hash))
        if not raw:
            return None
        data = json.loads(raw)
        return ResumePoint(state=data["state"], session_id=data["session_id"])

    @contextmanager
    def lock(self, channel: str, conversation: str, timeout: float = 3.0) -> Iterator[None]:
        """Hold the session's lock; wait up to ``timeout`` seconds for another holder."""
        key = self._key(channel, "lock", conversation)
        token = uuid.uuid4().hex
        deadline = time.monotonic() + timeout
        delay = 0.002
        while not self.redis.set(key, token, nx=True, px=int(timeout * 1000) + 5000):
            if time.monotonic() >= deadline:
                raise SessionBusy(f"session {channel}:{conversation} is busy")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            self._release(keys=[key], args=[token])
