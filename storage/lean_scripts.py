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

Any other error is raised as redis-py raises it (``redis.exceptions.*``), so callers catch the
same exceptions as before.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from typing import Any

import redis
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

Argument = bytes | str | int


def pack(parts: Sequence[Argument], head: bytes = b"", count: int = 0) -> bytes:
    """One RESP command: an array of bulk strings. ``head`` is ``count`` of them packed already
    (a script's EVALSHA and digest, the same on every call)."""
    out = [b"*%d\r\n%s" % (len(parts) + count, head)]
    for part in parts:  # one loop, no call per part: a hop packs ~35 of them
        data = (
            part.encode()
            if isinstance(part, str)
            else b"%d" % part
            if isinstance(part, int)
            else part
        )
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


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
                    connection.send_packed_command([command], check_health=False)  # type: ignore[no-untyped-call]
                    return connection.read_response()
                except NoScriptError:
                    again = pack(("EVAL", source, *tail))
                    connection.send_packed_command([again], check_health=False)  # type: ignore[no-untyped-call]
                    return connection.read_response()
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
