"""The notification jobs' queue: beside the outbox's on the same Redis, served after it."""

from __future__ import annotations

import logging
from typing import Any

import redis
from rq import Queue

from services import Services

log = logging.getLogger(__name__)
JOB_TIMEOUT = 120  # seconds: an SMTP server that answers slowly, for each member


def queue_name(services: Services) -> str:
    return services.settings.redis_prefix + services.settings.notify.queue


def notify_queue(services: Services, connection: redis.Redis | None = None) -> Queue:
    return Queue(queue_name(services), connection=connection or services.redis)


def enqueue(services: Services, job: str, *args: Any) -> bool:
    """Hand a job to the workers. Never raises: a notification must not fail what caused it
    (a reporter's hop, a forward); a job lost with Redis down is logged."""
    try:
        notify_queue(services).enqueue(
            job,
            *args,
            job_timeout=JOB_TIMEOUT,
            result_ttl=0,
            failure_ttl=7 * 24 * 3600,
            description=f"{job}{args}",
        )
    except redis.RedisError:
        log.warning("could not queue %s%s: not sent", job, args, exc_info=True)
        return False
    return True
