"""实时: the gateway pushes "views changed" (Server-Sent Events) after each fold commits.

The end-to-end test runs the real processes of tests/chaos/test_failures.py (education service, gateway,
broker as subprocesses): the stream passes the gateway's own middlewares as a browser would meet it."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from minsheng.observability import MetricsMiddleware
from minsheng_gateway.stream.service import EVERYTHING, QUEUE_SIZE, ViewsBroadcaster, event_stream
from tests.support.platform import Platform

pytestmark = pytest.mark.timeout(150)


def test_a_publish_from_the_fold_thread_reaches_every_subscriber():
    async def scenario() -> tuple[list, list]:
        broadcaster = ViewsBroadcaster()
        async with broadcaster.subscribe() as first, broadcaster.subscribe() as second:
            # The fold commits in a worker thread.
            await asyncio.to_thread(broadcaster.publish, ["education"])
            got = [await asyncio.wait_for(q.get(), 1) for q in (first, second)]
        return got, broadcaster.subscribers

    got, left = asyncio.run(scenario())
    assert got == [frozenset({"education"})] * 2
    assert left == 0  # a subscriber that leaves is forgotten


def test_a_subscriber_that_falls_behind_gets_one_refetch_everything_signal():
    async def scenario() -> list:
        broadcaster = ViewsBroadcaster()
        async with broadcaster.subscribe() as slow:
            for _ in range(QUEUE_SIZE + 5):
                broadcaster.publish(["health"])
            await asyncio.sleep(0.05)  # let the loop deliver
            return [slow.get_nowait() for _ in range(slow.qsize())]

    assert asyncio.run(scenario()) == [EVERYTHING]


def test_the_stream_sends_keep_alive_comments_while_nothing_changes():
    async def scenario() -> list[str]:
        stream = event_stream(ViewsBroadcaster(), keep_alive=0.05)
        try:
            return [await anext(stream) for _ in range(3)]
        finally:
            await stream.aclose()

    opening, *rest = asyncio.run(scenario())
    assert opening.startswith("retry:")
    assert rest == [": keep-alive\n\n"] * 2


def read_events(url: str, events: queue.Queue, opened: threading.Event) -> None:
    """Reads the stream as an EventSource does, putting each (event, data) on `events`."""
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(5.0, read=60.0)) as response:
            events.put(("headers", dict(response.headers)))
            opened.set()
            name = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    name = line.partition(":")[2].strip()
                elif line.startswith("data:") and name:
                    events.put((name, json.loads(line.partition(":")[2])))
                    name = None
    except httpx.TransportError:
        pass  # the gateway stopped at the end of the test


def test_an_approval_in_a_service_reaches_a_subscriber_within_seconds(platform: Platform):
    p = platform
    events: queue.Queue = queue.Queue()
    opened = threading.Event()
    reader = threading.Thread(
        target=read_events, args=(f"{p.gateway.url}/api/v1/stream/views", events, opened), daemon=True
    )
    reader.start()
    assert opened.wait(10), "the stream did not open"
    _, headers = events.get(timeout=1)
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["x-content-type-options"] == "nosniff"  # the security headers, and nothing buffered

    report = p.submit("T002-1", "370303", "2022-06", 4)
    p.approve(report["id"])
    approved = time.monotonic()
    deadline = approved + 5
    # The submission's own signal may come first; the approval's comes after its fold committed, so
    # the views already show the approved value when it arrives.
    while True:
        name, data = events.get(timeout=max(deadline - time.monotonic(), 0.01))
        if name == "views-changed" and data["campaigns"] == ["education"]:
            if p.progress("T002-1", "370303")["current_value"] == 4:
                break
    assert time.monotonic() - approved < 5


def test_a_stream_is_counted_as_a_request_but_its_duration_is_no_latency():
    app = FastAPI()
    app.add_middleware(MetricsMiddleware, process="stream-test")

    @app.get("/events")
    def events() -> StreamingResponse:
        return StreamingResponse(iter(["event: views-changed\ndata: {}\n\n"]), media_type="text/event-stream")

    @app.get("/plain")
    def plain() -> dict:
        return {}

    with TestClient(app) as client:
        assert client.get("/events").text.startswith("event: views-changed")
        client.get("/plain")

    def sample(name: str, route: str, **extra: str) -> float | None:
        labels = {"process": "stream-test", "method": "GET", "route": route, **extra}
        return REGISTRY.get_sample_value(name, labels)

    assert sample("minsheng_http_requests_total", "/events", status="200") == 1
    assert sample("minsheng_http_request_duration_seconds_count", "/events") is None
    assert sample("minsheng_http_request_duration_seconds_count", "/plain") == 1
