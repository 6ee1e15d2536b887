"""Conversation state in Redis: one small document per conversation, with a TTL.

What a document holds is each channel's own record type (``channels/sessions.py``); this module
only keys, encodes, expires and locks them. A per-conversation lock serialises concurrent
requests for one conversation. A second key per phone names the conversation that holds an
unfinished report, for ``resume_window`` seconds after it broke off; the report itself is that
conversation's own document, kept alive as long.

A USSD hop is two round trips (``open_turn``, ``close_turn``): one Lua script takes the lock and
reads the session (and, for a new session, the phone's resume point and remembered language);
another saves the session, sets or clears the resume point and releases the lock. Every round
trip is about a tenth of a millisecond on the same host, and a hop used to make four or five.

Documents are LZ4-compressed JSON against a preset dictionary (a session is mostly repeated
keys and screen text, and Redis holds one per live reporter); plain JSON and zlib, written by
earlier versions, are still read.
"""

from __future__ import annotations

import json
import logging
import os
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import lz4.block
import redis

from .lean_scripts import LeanScripts
from .limits import LUA_HELPERS, Limit, Windows

log = logging.getLogger(__name__)

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

# KEYS: lock, session, resume, language, the phone's rate-limit hash.
# ARGV: token, lock ms, session key prefix, hour, hour ttl, day, day ttl, sessions per hour,
#       reports per day (0: no limit).
# -> {0} when another request holds the lock; {2, limit ('s' or 'r'), first over, language} when
# a new session is over a limit (the lock is released); else {1, session, reports today} or, for
# a conversation with no document yet (a new one: counted), {1, false, reports today, resume
# conversation id, its document, language}.
_OPEN = (
    LUA_HELPERS
    + """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
local session = redis.call('get', KEYS[2])
local reports = 0
local per_day = tonumber(ARGV[9])
if per_day > 0 then reports = rl_peek(KEYS[5], 'r', ARGV[6]) end
if session then return {1, session, reports} end
local per_hour = tonumber(ARGV[8])
local over = false
if per_hour > 0 and rl_bump(KEYS[5], 's', ARGV[4], ARGV[5]) > per_hour then
  over = {'s', rl_first_over(KEYS[5], 's', ARGV[4], ARGV[5])}
elseif per_day > 0 and reports >= per_day then
  over = {'r', rl_first_over(KEYS[5], 'r', ARGV[6], ARGV[7])}
end
if over then
  redis.call('del', KEYS[1])
  return {2, over[1], over[2], redis.call('get', KEYS[4])}
end
local pointer = redis.call('get', KEYS[3])
local resumed = false
if pointer then resumed = redis.call('get', ARGV[3] .. pointer) end
return {1, false, reports, pointer, resumed, redis.call('get', KEYS[4])}
"""
)

# KEYS: session, resume, lock, language, the phone's rate-limit hash.
# ARGV: document, ttl, resume mode (set|clear|keep), conversation id, resume window, token,
#       language ('' to leave it), language ttl, day, day ttl, what the hop did about a report
#       ('give back': a reserved slot it did not use; 'refused': over the limit; '': neither).
# -> 1 when a refused report is the first refused in this day (to log), else 0.
_CLOSE = (
    LUA_HELPERS
    + """
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
if ARGV[3] == 'set' then
  redis.call('set', KEYS[2], ARGV[4], 'EX', ARGV[5])
elseif ARGV[3] == 'clear' then
  redis.call('del', KEYS[2])
end
if ARGV[7] ~= '' then redis.call('set', KEYS[4], ARGV[7], 'EX', ARGV[8]) end
if redis.call('get', KEYS[3]) == ARGV[6] then redis.call('del', KEYS[3]) end
if ARGV[11] == 'give back' then rl_give_back(KEYS[5], 'r', ARGV[9]) end
if ARGV[11] == 'refused' then return rl_first_over(KEYS[5], 'r', ARGV[9], ARGV[10]) end
return 0
"""
)

NO_LANGUAGE = "-"  # cached: the database knows no language for this phone
LANGUAGE_TTL = 7 * 86400  # a cache: the database stays the record (reporters.language)
ResumeMode = Literal["set", "clear", "keep"]
ReportCount = Literal["give back", "refused", ""]


class Document(Protocol):
    """A channel's session record: its own type, written as one small JSON document."""

    def to_json(self) -> str: ...


D = TypeVar("D")


# Documents are written as LZ4 blocks against a preset dictionary: a one-byte mark ("L"), the
# dictionary's number, then the block with its size in front. Measured on the documents of
# complete French report sessions (850 B of JSON on average): 1.2 µs to write and 0.5 µs to read,
# 255 B, where zlib with the same dictionary (its fastest level, a 4 KB window) took 11 µs and
# 3 µs for 227 B. zlib sets up ~24 KB of state for every document; on a hop, among everything
# else a worker does, that came to 35 µs, 7% of the hop's CPU in process.
_LZ4_MARK = 0x4C  # b"L": never the first byte of zlib (its low nibble is always 8) or of JSON

# The preset dictionary: what every USSD document repeats (its keys, the answers' shape, the
# usual screens' tails), so that even the first occurrence in a document is a back-reference.
# Each document names the dictionary it was written with (LZ4: its number; zlib: its Adler-32 in
# the header), and is read with that one: NEVER EDIT THESE BYTES (a live session written with
# them could no longer be read); to change it, add another, write with it, and keep this one in
# ``_DICTIONARIES`` and ``_LZ4_DICTIONARIES`` for reading.
_DICTIONARY_1 = (
    b'{"state":{"tree_id":"incident","tree_version":1,"node":"","language":"fr","page":0,'
    b'"answers":[{"key":"category","node":"category","value":""},'
    b'{"key":"subcategory","node":"sub_","value":"."},'
    b'{"key":"province","node":"province","value":"CD-","label":"","pcode":"CD"},'
    b'{"key":"territory","node":"territory","value":"CD","label":"","province":"CD-",'
    b'"kind":"territoire","pcode":"CD"},'
    b'{"key":"site","node":"site","value":""},{"key":"when","node":"when","value":"today"},'
    b'{"key":"details","node":"details","value":""}],'
    b'"stack":[{"node":"language","page":0,"answers":0},{"node":"main","page":0,"answers":0},'
    b'{"node":"category","page":0,"answers":1}],'
    b'"ended":false,"reference":null,"resume":null,"previous":{},"changing":false,'
    b'"narrow":null,"asked":null,"status":null},'
    b'"text":"1*1*1","reply":"\\n1 \\n2 \\n3 \\n0 Retour\\n0 Rudi\\n0 Back","end":false}'
)
_LZ4_DICTIONARIES = {1: _DICTIONARY_1}
_WRITE_WITH = 1  # the dictionary documents are written with
_LZ4_HEADER = bytes((_LZ4_MARK, _WRITE_WITH))
_LARGEST = 1 << 20  # a session document is a few KB at most; a larger stated size is damage

# Read only: documents written by earlier versions, zlib with this dictionary (named by its
# Adler-32 in the zlib header) or with none.
_DICTIONARIES = {zlib.adler32(d): d for d in (_DICTIONARY_1,)}
_FDICT = 0x20  # the zlib header's flag: a dictionary id follows the first two bytes


class UnreadableDocument(ValueError):
    """A stored document this version cannot read: an unknown dictionary, or damaged bytes."""


def encode(document: str) -> bytes:
    block: bytes = lz4.block.compress(
        document.encode(), store_size=True, dict=_LZ4_DICTIONARIES[_WRITE_WITH]
    )
    return _LZ4_HEADER + block


def decode(raw: bytes | str) -> str:
    """A stored document as JSON text, however it was written: plain JSON (it starts with
    "{"), LZ4 with a preset dictionary (b"L" and the dictionary's number), or, from earlier
    versions, zlib with a preset dictionary (named in its header) or without one."""
    if not isinstance(raw, bytes):
        return raw
    try:
        first = raw[:1]
        if first == b"{":
            return raw.decode()
        if first == _LZ4_HEADER[:1]:
            dictionary = _LZ4_DICTIONARIES.get(raw[1]) if len(raw) > 2 else None
            if dictionary is None:
                raise UnreadableDocument("a session document written with an unknown dictionary")
            if int.from_bytes(raw[2:6], "little") > _LARGEST:  # damaged: never allocate it
                raise UnreadableDocument(f"a damaged session document (size {raw[2:6]!r})")
            document: bytes = lz4.block.decompress(raw[2:], dict=dictionary)
            return document.decode()
        if len(raw) > 6 and raw[1] & _FDICT:
            zdict = _DICTIONARIES.get(int.from_bytes(raw[2:6], "big"))
            if zdict is None:
                raise UnreadableDocument(
                    "a session document written with an unknown preset dictionary"
                )
            unpacker = zlib.decompressobj(zdict=zdict)
            return (unpacker.decompress(raw) + unpacker.flush()).decode()
        return zlib.decompress(raw).decode()
    except UnreadableDocument:
        raise
    except (zlib.error, lz4.block.LZ4BlockError, ValueError) as exc:  # ValueError: bad UTF-8 too
        raise UnreadableDocument(f"a damaged session document ({exc})") from exc


def _readable(raw: bytes | str) -> str | None:
    """``decode``, or None for a document this version cannot read (logged): it counts as no
    conversation, as a record that does not parse does (``channels/sessions.py``), so that the
    reporter hears "please dial again" rather than an error on every hop until it expires."""
    try:
        return decode(raw)
    except UnreadableDocument as exc:
        log.warning("unreadable session document ignored: %s", exc)
        return None


@dataclass
class ResumePoint:
    state: dict[str, Any]
    session_id: str


@dataclass(frozen=True)
class OpenedTurn:
    """What the first round trip of a turn read. ``resume_*`` and ``language`` are read only
    when the conversation has no document yet (a new session is the only one that needs them)."""

    token: str
    document: str | None
    reports_today: int = 0  # reports this phone stored today (0 when that limit is off)
    resume_session: str | None = None
    resume_document: str | None = None
    language: str | None = None  # NO_LANGUAGE, a language code, or None: not cached


@dataclass(frozen=True)
class PerPhone:
    """The limits a USSD turn checks, and the windows they count in."""

    sessions_per_hour: int
    reports_per_day: int
    windows: Windows


class OverLimit(Exception):  # not an error: a reporter told to wait
    """A new session from a phone over one of its limits; nothing was stored, the lock is free."""

    def __init__(self, limit: Limit, first: bool, language: str | None) -> None:
        super().__init__(limit)
        self.limit: Limit = limit
        self.first = first  # the first refusal of this phone in this window: log it
        self.language = language  # NO_LANGUAGE, a language code, or None: not cached


class SessionBusy(RuntimeError):
    """Another request for the same session held the lock for too long."""


class SessionStore:
    def __init__(self, client: redis.Redis, prefix: str = "kuf:") -> None:
        self.redis = client
        self.prefix = prefix
        # The hop's own scripts go the lean way (``lean_scripts``): two per hop, on every hop.
        self.lean = LeanScripts(client)
        self._release = self.lean.script(_RELEASE)
        self._open = self.lean.script(_OPEN)
        self._close = self.lean.script(_CLOSE)

    def _key(self, kind: str, *parts: str) -> str:
        return self.prefix + kind + ":" + ":".join(parts)

    def language_key(self, phone_hash: str) -> str:
        return self._key("lang", phone_hash)

    # One document at a time (SMS, tests) ---------------------------------------------------

    def load(
        self, channel: str, conversation: str, read: Callable[[bytes | str], D | None]
    ) -> D | None:
        """The conversation's record, as ``read`` makes it from the stored JSON; None if none."""
        raw = self.redis.get(self._key(channel, "s", conversation))
        document = _readable(raw) if raw else None
        return read(document) if document is not None else None

    def delete(self, channel: str, conversation: str) -> None:
        self.redis.delete(self._key(channel, "s", conversation))

    def save(self, channel: str, conversation: str, record: Document, ttl: int) -> None:
        self.redis.set(self._key(channel, "s", conversation), encode(record.to_json()), ex=ttl)

    def resume_point(self, channel: str, phone_hash: str) -> ResumePoint | None:
        pointer = self.redis.get(self._key(channel, "resume", phone_hash))
        if not pointer:
            return None
        session_id = pointer.decode() if isinstance(pointer, bytes) else str(pointer)
        raw = self.redis.get(self._key(channel, "s", session_id))
        document = _readable(raw) if raw else None
        if document is None:
            return None
        return ResumePoint(state=json.loads(document)["state"], session_id=session_id)

    def remember_language(self, phone_hash: str, language: str | None) -> None:
        self.redis.set(self.language_key(phone_hash), language or NO_LANGUAGE, ex=LANGUAGE_TTL)

    @contextmanager
    def lock(self, channel: str, conversation: str, timeout: float = 3.0) -> Iterator[None]:
        """Hold the session's lock; wait up to ``timeout`` seconds for another holder."""
        key = self._key(channel, "lock", conversation)
        token = os.urandom(16).hex()  # a lock token: no UUID object needed
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
            self._release([key], [token])

    # A USSD turn in two round trips -------------------------------------------------------

    def limits_key(self, phone_hash: str) -> str:
        return f"{self.prefix}rl:{phone_hash}"  # storage.limits.RateLimits.key

    def open_turn(
        self,
        channel: str,
        conversation: str,
        phone_hash: str,
        timeout: float = 3.0,
        limits: PerPhone | None = None,
    ) -> OpenedTurn:
        """Take the lock and read the session (waiting up to ``timeout`` for another holder),
        counting a new session against ``limits`` (``OverLimit`` past them). The caller must
        end the turn with ``close_turn`` or ``release``."""
        keys = [
            self._key(channel, "lock", conversation),
            self._key(channel, "s", conversation),
            self._key(channel, "resume", phone_hash),
            self.language_key(phone_hash),
            self.limits_key(phone_hash),
        ]
        token = os.urandom(16).hex()  # a lock token: no UUID object needed
        args: list[str | int] = [token, int(timeout * 1000) + 5000, self._key(channel, "s", "")]
        if limits is None:
            args += ["", 1, "", 1, 0, 0]
        else:
            w = limits.windows
            args += [w.hour, w.hour_ttl, w.day, w.day_ttl]
            args += [limits.sessions_per_hour, limits.reports_per_day]
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            found = self._open(keys, args)
            if found[0]:
                break
            if time.monotonic() >= deadline:
                raise SessionBusy(f"session {channel}:{conversation} is busy")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        if found[0] == 2:
            limit: Limit = "sessions" if found[1] == b"s" else "reports"
            cached = found[3].decode() if found[3] else None
            raise OverLimit(limit, bool(found[2]), cached)
        if found[1]:
            return OpenedTurn(token, _readable(found[1]), int(found[2]))
        pointer, resumed, language = found[3], found[4], found[5]
        return OpenedTurn(
            token,
            None,
            int(found[2]),
            resume_session=pointer.decode() if pointer else None,
            resume_document=_readable(resumed) if resumed else None,
            language=language.decode() if language else None,
        )

    def close_turn(
        self,
        channel: str,
        conversation: str,
        token: str,
        *,
        record: Document,
        ttl: int,
        phone_hash: str,
        resume: ResumeMode,
        resume_window: int,
        language: str | None = None,
        report: ReportCount = "",
        windows: Windows | None = None,
    ) -> bool:
        """Save the session, set (to this conversation) or clear the phone's resume point,
        optionally cache the phone's language, give back a report slot reserved and not used
        (``give back``, ``storage.limits.RateLimits.reserve_report``) or note one ``refused``
        in ``windows``, and release the lock: one round trip. True when a refused report is the
        first refused for this phone today (the one to log)."""
        keys = [
            self._key(channel, "s", conversation),
            self._key(channel, "resume", phone_hash),
            self._key(channel, "lock", conversation),
            self.language_key(phone_hash),
            self.limits_key(phone_hash),
        ]
        args: list[bytes | str | int] = [
            encode(record.to_json()),
            ttl,
            resume,
            conversation,
            resume_window,
            token,
            language or "",
            LANGUAGE_TTL,
            windows.day if windows is not None else "",
            windows.day_ttl if windows is not None else 1,
            report if windows is not None else "",
        ]
        return bool(self._close(keys, args))

    def release(self, channel: str, conversation: str, token: str) -> None:
        self._release([self._key(channel, "lock", conversation)], [token])
