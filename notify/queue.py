"""The notification jobs' queue: beside the outbox's on the same Redis, served after it."""

from __future__ import annotations

import logging
from typing import Any

import redis
from rq import Queue

from services import Services

log = logging.getLogger(__name__)
_QUEUE_KEY = "notify.queue"
JOB_TIMEOUT = 120  # seconds: an SMTP server that answers slowly, for each member


def queue_name(services: Services) -> str:
    return services.settings.redis_prefix + services.settings.notify.queue


def notify_queue(services: Services, connection: redis.Redis | None = None) -> Queue:
    if connection is not None:
        return Queue(queue_name(services), connection=connection)
    # One per process: RQ asks the server its version (INFO) once per queue object, and a USSD
    # hop must not pay a round trip for that.
    found = services.extras.get(_QUEUE_KEY)
    if not isinstance(found, Queue):
        found = Queue(queue_name(services), connection=services.redis)
        services.extras[_QUEUE_KEY] = found
    return found


def enqueue(services: Services, job: str, *calls: tuple[Any, ...]) -> bool:
    """Hand one job per ``calls`` item (its arguments) to the workers, in one Redis round trip:
    a USSD hop that stored a report pays for one, not three per job. Never raises: a
    notification must not fail what caused it (a reporter's hop, a forward); jobs lost with Redis
    down are logged."""
    if not calls:
        return True
    try:
        queue = notify_queue(services)
        with services.redis.pipeline() as pipe:
            for args in calls:
                queue.enqueue_call(
                    job,
                    args=args,
                    timeout=JOB_TIMEOUT,
                    result_ttl=0,
                    failure_ttl=7 * 24 * 3600,
                    description=f"{job}{args}",
                    pipeline=pipe,
                )
            pipe.execute()
    except redis.RedisError:
        log.warning("could not queue %s%s: not sent", job, calls, exc_info=True)
        return False
    return True
