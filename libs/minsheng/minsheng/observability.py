"""Logging and Prometheus metrics shared by every process."""

from __future__ import annotations

import logging
import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "minsheng_http_requests_total", "HTTP requests handled", ["process", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "minsheng_http_request_duration_seconds",
    "HTTP request latency",
    ["process", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
PROCESS_READY = Gauge("minsheng_ready", "1 when the process has migrated, seeded and is serving", ["process"])


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per outgoing request is noise; failures are logged by the caller.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # aiokafka logs every failed connection attempt as an ERROR; the relay and the consumer already
    # report a broker outage themselves, once, with what it means for the data.
    logging.getLogger("aiokafka.client").addFilter(_drop_connection_retries)
    logging.getLogger("aiokafka.conn").addFilter(_drop_connection_retries)


def _drop_connection_retries(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(("Unable connect to", "Unable to request metadata"))


class MetricsMiddleware:
    """Counts and times requests by route template (not raw path: /tasks/{number}, not /tasks/2)."""

    def __init__(self, app: ASGIApp, process: str):
        self.app = app
        self.process = process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500, "stream": False}

        async def send_wrapper(message):  # noqa: ANN001
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["stream"] = any(
                    name.lower() == b"content-type" and value.startswith(b"text/event-stream")
                    for name, value in message.get("headers", [])
                )
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(self.process, scope["method"], template, str(status["code"])).inc()
            # An event stream lasts as long as the page stays open: its duration is no request latency.
            if not status["stream"]:
                HTTP_LATENCY.labels(self.process, scope["method"], template).observe(time.perf_counter() - started)


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
