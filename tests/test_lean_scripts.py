"""The hop's Lua scripts on a connection of their own (storage/lean_scripts.py): the same bytes
redis-py would send, and the same recovery when the server forgot a script or dropped the
connection."""

from __future__ import annotations

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from redis._parsers.encoders import Encoder
from redis.connection import PythonRespSerializer
from redis.exceptions import ResponseError

from services import Services
from storage.lean_scripts import LeanScripts, pack

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
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with pytest.raises(redis.ConnectionError):
        LeanScripts(dead).script(ECHO)(["k"], ["a", 1])
