"""Lua scripts called on the USSD hop's hot path, straight on a connection of our own.

redis-py's client call wraps every command in its retry helper, its observability hooks, a
connection-pool checkout that polls the socket for stray data, and a generic argument encoder.
On a hop that is two round trips, that wrapping cost more CPU than the round trips themselves
(measured: ``bench/loadtest/run.py``, and the README's figures). A script here is packed once
into RESP by a small encoder and sent on a connection kept per thread, with the same semantics
the client gave us:

- the client's timeouts (the connection is made by the client's own pool settings);
- one immediate retry on a dropped connection (a Redis restarted since the last hop), never on a
  timeout (a frozen server would only double the wait);
- ``NOSCRIPT`` (a restarted or flushed server has forgotten the script): sent once more as
  ``EVAL`` with its source, which loads it again;
- after a fork (gunicorn's workers) a process never reuses its parent's socket.

Any other error is raised as redis-py raises it (``redis.exceptions.*``, the error classes its
own parser picks), so callers catch the same exceptions as before.

The connection is made and handshaken by redis-py (``connect``: the protocol, AUTH, SELECT);
the command then goes straight to its socket and the reply is read by ``read_reply`` below.
redis-py's reader (a buffered stream, a readline per element, its timeout and error wrapping)
cost ~10 µs more per reply (a hop's two scripts in a tight loop: 100-126 µs of client CPU
with it, 76-111 with ours).
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Sequence
from typing import Any

import redis
from redis._parsers import BaseParser
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Argument = bytes | str | int


def pack(parts: Sequence[Argument], head: bytes = b"", count: int = 0) -> bytes:
    """One RESP command: an array of bulk strings. ``head`` is ``count`` of them packed already
    (a script's EVALSHA and digest, the same on every call)."""
    out = [b"*%d\r\n%s" % (len(parts) + count, head)]
    for part in parts:  # one loop, no call per part: a hop packs ~35 of them
        kind = type(part)  # exact types first: a type test costs less than isinstance
        if kind is str:
            data = part.encode()  # type: ignore[union-attr]
        elif kind is bytes:
            data = part
        elif isinstance(part, str):  # a subclass (a StrEnum)
            data = part.encode()
        else:
            data = part if isinstance(part, bytes) else b"%d" % part
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Incomplete(Exception):
    """The bytes read so far end inside the reply: read more."""


def _parse(data: bytes, at: int) -> tuple[Any, int]:
    """One RESP2 or RESP3 value starting at ``data[at]``: the value and where the next begins.
    Values as redis-py gives them without decoding (bytes, int, None, lists); an error reply
    nested in an array is its exception object, as redis-py leaves it."""
    end = data.find(b"\r\n", at)
    if end < 0:
        raise _Incomplete
    kind, line, at = data[at], data[at + 1 : end], end + 2
    if kind in _BULK:  # $ bulk string, = verbatim string, ! bulk error
        size = int(line)
        if size < 0:
            return None, at
        if len(data) < at + size + 2:
            raise _Incomplete
        value = data[at : at + size]
        if kind == _VERBATIM:
            value = value[4:]  # "txt:" or "mkd:"
        elif kind == _BULK_ERROR:
            return _error(value), at + size + 2
        return value, at + size + 2
    if kind in _ARRAYS:  # * array, ~ set, > push, % map (as its pairs, flattened), | attribute
        size = int(line)
        if size < 0:
            return None, at
        if kind in _PAIRS:
            size *= 2
        items = []
        for _ in range(size):
            item, at = _parse(data, at)
            items.append(item)
        if kind == _MAP:
            return dict(zip(items[::2], items[1::2], strict=True)), at
        if kind == _ATTRIBUTE:  # metadata about the reply that follows: skipped
            return _parse(data, at)
        return items, at
    if kind in (_INTEGER, _BIG_NUMBER):
        return int(line), at
    if kind == _SIMPLE:
        return line, at
    if kind == _ERROR:
        return _error(line), at
    if kind == _NULL:
        return None, at
    if kind == _BOOLEAN:
        return line == b"t", at
    if kind == _DOUBLE:
        return float(line), at
    raise InvalidResponse(f"Protocol error, got {chr(kind)!r} as reply type byte")


def _error(text: bytes) -> Exception:
    """The exception redis-py gives for this error reply (NoScriptError, ReadOnlyError, …)."""
    return BaseParser.parse_error(text.decode("utf-8", "replace"))  # type: ignore[no-untyped-call,no-any-return]


_SIMPLE, _ERROR, _INTEGER, _BULK_STRING, _ARRAY = b"+-:$*"
_NULL, _BOOLEAN, _DOUBLE, _BIG_NUMBER, _BULK_ERROR, _VERBATIM = b"_#,(!="
_MAP, _SET, _ATTRIBUTE, _PUSH = b"%~|>"
_BULK = frozenset((_BULK_STRING, _VERBATIM, _BULK_ERROR))
_ARRAYS = frozenset((_ARRAY, _SET, _PUSH, _MAP, _ATTRIBUTE))
_PAIRS = frozenset((_MAP, _ATTRIBUTE))


def read_reply(sock: socket.socket) -> Any:
    """One reply from the socket (a push message the server slips in first is skipped), as
    redis-py gives it; an error reply raised as redis-py raises it. ``OSError``, a timeout
    too, as the socket raises it."""
    data = b""
    while True:
        if data:
            try:
                value, end = _parse(data, 0)
            except _Incomplete:
                pass
            else:
                if data[0] == _PUSH:
                    data = data[end:]
                    continue
                if end != len(data):  # one command, one reply: more means we are out of step
                    raise InvalidResponse("Protocol error: more bytes than one reply")
                if isinstance(value, Exception):
                    raise value
                return value
        chunk = sock.recv(65536)
        if not chunk:
            raise RedisConnectionError("Connection closed by server.")
        data += chunk


def _exchange(connection: AbstractConnection, command: bytes) -> Any:
    """Send one packed command on the connection's socket (connecting it first if need be)
    and read its reply; socket failures as redis-py reports them."""
    sock: socket.socket | None = connection._sock
    if sock is None:
        connection.connect()  # type: ignore[no-untyped-call]  # untyped upstream
        sock = connection._sock
        assert sock is not None
    try:
        sock.sendall(command)
        return read_reply(sock)
    except TimeoutError:  # before OSError: it is one
        raise RedisTimeoutError("Timeout talking to Redis") from None
    except OSError as exc:
        raise RedisConnectionError(f"Error while talking to Redis: {exc}") from None


class _Connections(threading.local):
    connection: AbstractConnection | None = None
    pid: int = 0


class LeanScripts:
    """The hot path's scripts, on one connection per thread (made like the client's own)."""

    def __init__(self, client: redis.Redis) -> None:
        self.pool = client.connection_pool
        self._local = _Connections()

    def script(self, source: str) -> LeanScript:
        return LeanScript(self, source)

    def _connection(self) -> AbstractConnection:
        local = self._local
        if local.connection is None or local.pid != os.getpid():
            # The pool's class and settings: the same server, database, timeouts and socket
            # (TCP or the embedded server's Unix socket). Not checked out of the pool: it is
            # this thread's for good.
            local.connection = self.pool.connection_class(**self.pool.connection_kwargs)
            local.pid = os.getpid()
        return local.connection

    def _drop(self) -> None:
        connection = self._local.connection
        self._local.connection = None
        if connection is not None:
            connection.disconnect()  # type: ignore[no-untyped-call]  # untyped upstream

    def call(self, source: str, head: bytes, tail: Sequence[Argument]) -> Any:
        """EVALSHA the script (``head``: EVALSHA and its digest, packed); on NOSCRIPT, EVAL its
        source (which loads it again)."""
        command = pack(tail, head, 2)
        for attempt in (1, 2):
            connection = self._connection()
            try:
                try:
                    return _exchange(connection, command)
                except NoScriptError:
                    return _exchange(connection, pack(("EVAL", source, *tail)))
            except ResponseError:
                raise  # Redis's own answer, read whole: the connection is still in step
            except RedisConnectionError:
                self._drop()
                if attempt == 2:
                    raise
            except BaseException:
                self._drop()  # a timeout, or a reply left unread: never reuse this socket
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._drop()


class LeanScript:
    def __init__(self, scripts: LeanScripts, source: str) -> None:
        self.scripts = scripts
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self._head = pack(("EVALSHA", self.sha)).split(b"\r\n", 1)[1]  # without the count

    def __call__(self, keys: Sequence[Argument], args: Sequence[Argument]) -> Any:
        return self.scripts.call(self.source, self._head, (len(keys), *keys, *args))
