"""The hop's Lua scripts on a connection of their own (storage/lean_scripts.py): the same bytes
redis-py would send, and the same recovery when the server forgot a script or dropped the
connection."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from redis._parsers.encoders import Encoder
from redis.backoff import NoBackoff
from redis.connection import PythonRespSerializer
from redis.exceptions import InvalidResponse, NoScriptError, ReadOnlyError, ResponseError
from redis.retry import Retry

from services import Services
from storage.lean_scripts import LeanScripts, pack, read_reply

ECHO = "return {KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1}"


@given(st.lists(st.one_of(st.text(), st.binary(), st.integers(-(2**63), 2**63 - 1))))
def test_pack_writes_what_redis_py_writes(parts: list[str | bytes | int]) -> None:
    encoder = Encoder("utf-8", "strict", False)  # type: ignore[no-untyped-call]  # untyped upstream
    reference = PythonRespSerializer(6000, encoder.encode)
    # redis-py reads its first argument as the command's name: one is given, as a call does.
    expected = reference.pack("EVALSHA", *parts)  # type: ignore[no-untyped-call]
    assert pack(["EVALSHA", *parts]) == b"".join(expected)


def test_a_script_answers_and_survives_a_flushed_script_cache(services: Services) -> None:
    script = LeanScripts(services.redis).script(ECHO)
    assert script(["k"], ["a", 41]) == [b"k", b"a", 42]
    services.redis.script_flush()  # a restarted server has forgotten every script: NOSCRIPT
    assert script(["k"], ["b", 1]) == [b"k", b"b", 2]
    assert services.redis.script_exists(script.sha) == [True]  # loaded again by EVAL


def test_a_dropped_connection_is_made_again_once(services: Services) -> None:
    scripts = LeanScripts(services.redis)
    script = scripts.script(ECHO)
    script(["k"], ["a", 1])
    connection = scripts._connection()
    # The server closes every client connection (as a restart does): the next call reconnects.
    services.redis.client_kill_filter(_type="normal", skipme=True)
    assert script(["k"], ["c", 2]) == [b"k", b"c", 3]
    assert scripts._connection() is not connection


def test_a_script_error_leaves_the_connection_usable(services: Services) -> None:
    scripts = LeanScripts(services.redis)
    broken = scripts.script("return redis.call('incr', KEYS[1])")
    services.redis.set("kuf-test:lean:text", "not a number")
    try:
        with pytest.raises(ResponseError):
            broken(["kuf-test:lean:text"], [])
        connection = scripts._connection()
        assert scripts.script(ECHO)(["k"], ["d", 0]) == [b"k", b"d", 1]
        assert scripts._connection() is connection  # in step: kept
    finally:
        services.redis.delete("kuf-test:lean:text")


def test_errors_are_redis_pys_own(services: Services) -> None:
    dead = redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    with pytest.raises(redis.ConnectionError):
        LeanScripts(dead).script(ECHO)(["k"], ["a", 1])


# The reply reader (``read_reply``) against redis-py's own: every value a script can return, on
# both protocols, read the same.
REPLIES = [
    "return 1",
    "return -7",
    "return 'text'",
    "return ''",
    "return false",
    "return true",
    "return {}",
    "return {1, 'two', false, {3, {'four', ''}}, -5}",
    "return {'a', nil, 'b'}",  # Lua stops a table at its first nil
    "return redis.status_reply('FINE')",
    "return {redis.status_reply('OK'), 2}",
    "return 3.99",  # a Lua number becomes an integer
    "return string.rep('x', 200000)",  # more than one read of the socket
    "return {string.rep('y', 70000), string.rep('z', 70000)}",
    "return redis.call('hgetall', KEYS[1])",
    "return redis.call('get', KEYS[1] .. ':absent')",
]


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("source", REPLIES)
def test_a_reply_reads_as_redis_py_reads_it(services: Services, protocol: int, source: str) -> None:
    pool = services.redis.connection_pool
    where = {k: v for k, v in pool.connection_kwargs.items() if k in ("host", "port", "db", "path")}
    kwargs = {**where, "protocol": protocol, "socket_timeout": 5}
    client = redis.Redis(
        connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs)
    )
    key = "kuf-test:lean:hash"
    client.hset(key, mapping={"f": "1", "g": "two"})
    try:
        expected = client.eval(source, 1, key)
        assert LeanScripts(client).script(source)([key], []) == expected
    finally:
        client.delete(key)
        client.close()


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("return redis.error_reply('MY failure')", ResponseError),
        ("return redis.call('nosuchcommand')", ResponseError),
        ("return redis.error_reply('READONLY You cannot write')", ReadOnlyError),
    ],
)
def test_an_error_reply_is_the_exception_redis_py_raises(
    services: Services, source: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        services.redis.eval(source, 0)
    with pytest.raises(error) as ours:
        LeanScripts(services.redis).script(source)([], [])
    assert type(ours.value) is type(raised.value)
    assert str(ours.value) == str(raised.value)


class TrickleSocket:
    """A socket that hands out what it holds a few bytes at a time, as a slow network would."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = data, size

    def recv(self, limit: int) -> bytes:
        chunk, self.data = self.data[: min(limit, self.size)], self.data[min(limit, self.size) :]
        return chunk


ENCODED: list[tuple[bytes, Any]] = [
    (b"*3\r\n$1\r\na\r\n_\r\n:-12\r\n", [b"a", None, -12]),
    (b"*2\r\n$-1\r\n*-1\r\n", [None, None]),  # RESP2's nils
    (b"%2\r\n+k\r\n#t\r\n$1\r\nv\r\n#f\r\n", {b"k": True, b"v": False}),
    (b"~2\r\n,1.5\r\n(12345678901234567890\r\n", [1.5, 12345678901234567890]),
    (b"=8\r\ntxt:some\r\n", b"some"),
    (b"|1\r\n+key\r\n+meta\r\n:7\r\n", 7),  # an attribute before the reply: skipped
    (b">2\r\n+invalidate\r\n*0\r\n:1\r\n", 1),  # a push before the reply: skipped
    (b"$0\r\n\r\n", b""),
]


@pytest.mark.parametrize(("data", "value"), ENCODED)
@pytest.mark.parametrize("size", [1, 2, 3, 7, 65536])
def test_a_reply_is_read_whole_however_it_arrives(data: bytes, value: Any, size: int) -> None:
    assert read_reply(TrickleSocket(data, size)) == value  # type: ignore[arg-type]


def test_a_reply_cut_short_or_followed_by_more_breaks_the_connection() -> None:
    with pytest.raises(redis.ConnectionError):
        read_reply(TrickleSocket(b"*2\r\n:1\r\n", 3))  # type: ignore[arg-type]
    with pytest.raises(InvalidResponse):
        read_reply(TrickleSocket(b":1\r\n:2\r\n", 100))  # type: ignore[arg-type]
    with pytest.raises(InvalidResponse):
        read_reply(TrickleSocket(b"?what\r\n", 100))  # type: ignore[arg-type]
    error = b"-NOSCRIPT No matching script\r\n"
    with pytest.raises(NoScriptError):
        read_reply(TrickleSocket(error, 5))  # type: ignore[arg-type]


def test_a_frozen_server_times_out_and_the_socket_is_not_reused(services: Services) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        host, port = listener.getsockname()
        # RESP2, no database, no client name: the handshake sends nothing, so the server that
        # never answers is met on the script itself.
        silent = redis.Redis(
            host=host,
            port=port,
            socket_timeout=0.3,
            protocol=2,
            driver_info=None,
            retry=Retry(NoBackoff(), 0),
        )
        scripts = LeanScripts(silent)
        with pytest.raises(redis.TimeoutError, match="Timeout talking to Redis"):
            scripts.script(ECHO)(["k"], ["a", 1])
        assert scripts._local.connection is None  # dropped: its reply may still come
    finally:
        listener.close()
