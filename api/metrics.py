"""Prometheus metrics: request counts by route and status, latency per request and per answer stage."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.schema import STAGES, Answer

#: Methods that get a label of their own; any other method a client makes up is counted as OTHER.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The route label of requests no route matched (404s, and those refused before routing: 401, 413, 429).
UNMATCHED = "unmatched"
#: Answer stages recorded from ``Answer.timings_ms``.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0, 30.0)


class Metrics:
    """The app's metrics, in a registry of their own so several apps can live in one process."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "qa_http_requests",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "qa_http_request_duration_seconds",
            "Time to the end of the HTTP response, by route template.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "qa_answer_stage_seconds",
            "Time spent per answering stage (retrieve, answer, total).",
            ["stage"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        # The collection label is bounded: names come from the registry (QA_MAX_COLLECTIONS), never a client.
        self.answers = Counter(
            "qa_answers",
            "Answers given, by status (answered or abstained) and collection.",
            ["status", "collection"],
            registry=self.registry,
        )

    def observe_answer(self, answer: Answer, *, collection: str = "default") -> None:
        """Record the stage timings and status of one answer of ``collection`` (an existing one)."""
        for stage in STAGES:
            if stage in answer.timings_ms:
                self.stage_seconds.labels(stage=stage).observe(answer.timings_ms[stage] / 1000)
        self.answers.labels(status=answer.status, collection=collection).inc()

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Count every HTTP request and time it to the end of its response body."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            # Labels come from fixed sets, never from the client: a route template (not the raw path),
            # a known method or OTHER. Made-up methods and paths cannot grow the metrics.
            route = route_label(scope)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self.metrics.requests.labels(route=route, method=method, status=str(status)).inc()
            self.metrics.request_seconds.labels(route=route).observe(time.perf_counter() - started)


def route_label(scope: Scope) -> str:
    """The matched route's template (``/api/documents/{doc_id}``), or UNMATCHED."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED
