"""Prometheus metrics at ``/metrics``, for the operator only.

Per request: count and latency by endpoint and status. Per gateway hop: a latency histogram by
channel and kind (``kufatilia_hop_seconds``: its ``_count`` is the hops). Requests refused by a rate limit, by
channel and limit (``kufatilia_rate_limited_total``). At each scrape: reports stored by channel,
outbox messages by status and the outbox queue's depth (read then, so they are right whichever
process answers), and whether each part answered. Errors: every ERROR log record, by logger.

Under gunicorn each worker is a process with its own counters. Set ``PROMETHEUS_MULTIPROC_DIR``
to an empty directory for the server (README, Operations) and the scrape adds up all workers.

Access: from an allowed address (``ops.metrics_allow``, loopback by default) or with the token
(``ops.metrics_token``) as ``Authorization: Bearer <token>``. Behind a reverse proxy every request
comes from the proxy's address: use the token there, or keep ``/metrics`` off the public site.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, Response, abort, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from channels import signals
from outbox.dispatch import job_queue
from services import EXTENSION_KEY, Services
from storage import queries
from storage.models import OutboxStatus

from .checks import run_checks

EXTENSION = "kufatilia_metrics"
# USSD hops must answer within the gateway's ~10 s, and feel instant well below 1 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)


class StateCollector(Collector):
    """What the database and Redis hold, read at scrape time (never more than the checks' 2 s)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def describe(self) -> list[GaugeMetricFamily]:
        # Registering must not read the database (start-up would then need it, and an app is
        # built by `flask db upgrade` before the tables exist).
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("kufatilia_up", "1 if the part answered", labels=["part"])
        checks = run_checks(self.services)
        for check in checks:
            up.add_metric([check.part], 1.0 if check.ok else 0.0)
        yield up
        if all(check.ok for check in checks if check.part == "database"):
            reports = GaugeMetricFamily(
                "kufatilia_reports", "Reports stored, by channel", labels=["channel"]
            )
            outbox = GaugeMetricFamily(
                "kufatilia_outbox_messages", "Outgoing messages, by status", labels=["status"]
            )
            with self.services.db.session() as session:
                for channel, count in queries.reports_by_channel(session).items():
                    reports.add_metric([channel], count)
                counts = queries.outbox_counts(session)
                for status in OutboxStatus:  # every one, 0 too: an alert needs the series
                    outbox.add_metric([str(status)], counts.get(status, 0))
                to_announce = queries.reports_to_announce(session)
            yield reports
            yield outbox
            yield GaugeMetricFamily(
                "kufatilia_reports_to_announce",
                "Reports whose members the worker's sweep has not told yet",
                value=to_announce,
            )
        if all(check.ok for check in checks if check.part == "redis"):
            yield GaugeMetricFamily(
                "kufatilia_outbox_queue_depth",
                "Jobs waiting in the outbox queue",
                value=job_queue(self.services).count,
            )


class _ErrorCounter(logging.Handler):
    def __init__(self, counter: Counter) -> None:
        super().__init__(level=logging.ERROR)
        self.counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        self.counter.labels(logger=record.name).inc()


class Metrics:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kufatilia_http_requests",
            "HTTP requests, by endpoint and status",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kufatilia_http_request_seconds",
            "Time to answer, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.hops = Histogram(
            "kufatilia_hop_seconds",
            "Gateway hops (a USSD request, an incoming SMS) and their time to answer, by channel "
            "and kind (the node kind shown, submit, repeat, limited, unavailable...)",
            ["channel", "kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "kufatilia_errors", "ERROR log records, by logger", ["logger"], registry=self.registry
        )
        self.rate_limited = Counter(
            "kufatilia_rate_limited",
            "Requests refused because their phone is over a rate limit, by channel and limit",
            ["channel", "limit"],
            registry=self.registry,
        )
        self._series: dict[tuple[str, int, tuple[str, str] | None], tuple[Any, Any, Any]] = {}
        services: Services = app.extensions[EXTENSION_KEY]
        signals.rate_limited.connect(self._count_rate_limited, sender=services)
        self.state = StateCollector(services)
        self.registry.register(self.state)
        self._error_handler = _ErrorCounter(self.errors)
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, _ErrorCounter)]:
            root.removeHandler(handler)  # one per process: the latest app's
        root.addHandler(self._error_handler)
        self.token = services.settings.ops.metrics_token
        self.allowed = [
            ipaddress.ip_network(entry, strict=False)
            for entry in services.settings.ops.metrics_allow
        ]
        app.extensions[EXTENSION] = self
        app.before_request(self._start)
        app.after_request(self._finish)
        app.add_url_rule("/metrics", "ops_metrics", self.scrape, methods=["GET"])

    def _count_rate_limited(self, sender: Services, *, channel: str, limit: str) -> None:
        self.rate_limited.labels(channel=channel, limit=limit).inc()

    @staticmethod
    def _start() -> None:
        g.kuf_started = time.perf_counter()

    def _finish(self, response: Response) -> Response:
        started = g.pop("kuf_started", None)
        # The URL rule, not the path: a scanner's random paths must not become new series.
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        if rule != "/metrics":
            elapsed = None if started is None else time.perf_counter() - started
            self.observe(rule, response.status_code, elapsed, g.pop("kuf_hop", None))
        return response

    def observe(
        self, rule: str, status: int, elapsed: float | None, hop: tuple[str, str] | None
    ) -> None:
        """One request served (the USSD fast path calls this directly: it bypasses Flask)."""
        key = (rule, status, hop)
        series = self._series.get(key)
        if series is None:
            # ``labels()`` builds and checks its label tuple and takes a lock on every call: a
            # tenth of what metrics cost a hop. The combinations are few (URL rules, statuses,
            # node kinds), so each one's series is looked up once per process.
            series = self._series[key] = (
                self.requests.labels(endpoint=rule, status=str(status)),
                self.latency.labels(endpoint=rule),
                None if hop is None else self.hops.labels(channel=hop[0], kind=hop[1]),
            )
        requests, latency, hops = series
        requests.inc()
        if elapsed is not None:
            latency.observe(elapsed)
            if hops is not None:
                hops.observe(elapsed)

    def _permitted(self) -> bool:
        if self.token:
            given = request.headers.get("Authorization", "")
            if hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                return True
        try:
            address = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            return False
        return any(address in network for network in self.allowed)

    def scrape(self) -> Response:
        if not self._permitted():
            abort(403)
        return Response(generate_latest(self._registry_to_read()), mimetype=CONTENT_TYPE_LATEST)

    def _registry_to_read(self) -> CollectorRegistry:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory:
            return self.registry
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]  # untyped upstream
        merged.register(self.state)
        return merged


def collected(app: Flask) -> Iterable[Any]:
    """The metric families as the scrape would see them (for tests and ``flask`` shells)."""
    metrics: Metrics = app.extensions[EXTENSION]
    return list(metrics._registry_to_read().collect())
