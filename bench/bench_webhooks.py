"""Outbound webhooks (decision 0023): deliveries per second to one endpoint, and their delay behind the event.

The webhooks worker's app on a real PostgreSQL database, its sender run as its background loop would run it
(`send_due`, again and again), sending over real sockets to a receiver on 127.0.0.1 that answers 204 at once.
Events are applied as its consumer applies them (`webhooks_handlers`, in the consumer's transaction), so the figures
are the worker's own: recording, choosing what is due in order per series, signing, sending, saving each try.
- burst: N events of 100 series applied at once, then sent: deliveries/s from the first try to the last receipt;
- steady: events at a fixed rate for a while: the delay from the event's time to its receipt, p50 and p99.
Nothing is asserted."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fastapi.testclient import TestClient

from bench.infra import BENCH_PUBLIC_KEY, BENCH_SIGNER, BenchResult, Databases, Outcome, percentile, print_table
from minsheng.auth.demo import DEMO_BY_USERNAME
from minsheng.messaging import IntegrationEvent, event_source
from minsheng.reporting.events import ReportChanged, ReportState
from minsheng_gateway.identity.tokens import FreshBearer
from minsheng_webhooks.deliveries.handlers import webhooks_handlers
from minsheng_webhooks.main import build_app
from minsheng_webhooks.sender import send_due, utc_now
from minsheng_webhooks.settings import WebhooksSettings

SERIES = 100
STEADY_RATE = 100  # events per second
TARGET_DELAY_P99_S = 5.0


class Receiver:
    """Answers 204 at once and notes when each webhook-id first came (time.time(), as the events' times)."""

    def __init__(self) -> None:
        self.received: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.received.setdefault(self.headers["webhook-id"], time.time())
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _event(n: int) -> IntegrationEvent:
    at = utc_now()
    org_unit = f"3703{n % SERIES:02d}"
    state = ReportState(
        report_id=n + 1,
        indicator="T002-1",
        org_unit=org_unit,
        period="2024-06",
        value=float(n),
        status="submitted",
        revision=1,
        is_current=True,
        submitted_by="张店区 演示用户",
    )
    data = ReportChanged(campaign="education", report=state, actor="张店区 演示用户", occurred_at=at)
    return IntegrationEvent(
        id=str(uuid.uuid4()),
        source=event_source("education"),
        type="minsheng.report.submitted.v1",
        subject="T002-1",
        time=at,
        data=data,
    )


class Sender:
    """The worker's send loop in a thread of its own, as `run_sender` runs it (without its lease and its waits)."""

    def __init__(self, client: TestClient) -> None:
        self.client, self.stop = client, threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            if not self.client.portal.call(send_due, self.client.app, utc_now()):
                time.sleep(0.005)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)


def _apply(client: TestClient, events: list[IntegrationEvent]) -> None:
    handlers = webhooks_handlers()
    with client.app.state.database.session() as session:
        handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in events])
        session.commit()


def _wait_for(receiver: Receiver, ids: set[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with receiver.lock:
            if ids <= receiver.received.keys():
                return True
        time.sleep(0.01)
    return False


def run(quick: bool, client: str = "raw") -> BenchResult:  # noqa: ARG001 - every benchmark takes the client choice
    burst, steady_seconds = (500, 3) if quick else (5_000, 20)
    result = BenchResult("webhooks")
    with contextlib.ExitStack() as stack:
        databases = Databases()
        stack.callback(databases.close)
        settings = WebhooksSettings(
            database_url=databases.make("webhooks"),
            jwt_public_key=BENCH_PUBLIC_KEY,
            kafka_bootstrap_servers="127.0.0.1:1",  # the consumer is not run: events are applied as it applies them
            allow_private_destinations=True,  # the receiver is on 127.0.0.1, over plain HTTP
            allow_http=True,
        )
        worker = stack.enter_context(TestClient(build_app(settings, jobs=False)))
        receiver = Receiver()
        stack.callback(receiver.close)
        city = FreshBearer(BENCH_SIGNER, DEMO_BY_USERNAME["demo-city-office"].principal(), "webhooks")
        answer = worker.post("/api/v1/endpoints", json={"url": receiver.url}, headers=dict(city))
        answer.raise_for_status()

        events = [_event(n) for n in range(burst)]
        _apply(worker, events)
        started = time.monotonic()
        sender = Sender(worker)
        stack.callback(sender.close)
        delivered = _wait_for(receiver, {e.id for e in events}, timeout=600)
        burst_seconds = time.monotonic() - started
        burst_rate = burst / burst_seconds if delivered else None

        steady: list[IntegrationEvent] = []
        begin = time.monotonic()
        for n in range(STEADY_RATE * steady_seconds):  # in batches of 10 every 0.1 s
            if n % 10 == 0:
                time.sleep(max(0.0, begin + n / STEADY_RATE - time.monotonic()))
            batch = [_event(burst + n)]
            _apply(worker, batch)
            steady.extend(batch)
        caught_up = _wait_for(receiver, {e.id for e in steady}, timeout=300)
        with receiver.lock:
            delays = [receiver.received[e.id] - e.time.timestamp() for e in steady if e.id in receiver.received]

    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    print_table(
        ["phase", "events", "figure"],
        [
            ["burst, 100 series", burst, f"{burst_rate:,.0f} deliveries/s" if burst_rate else "not all delivered"],
            [
                f"steady {STEADY_RATE}/s",
                len(steady),
                f"delay p50 {p50:.3f} s, p99 {p99:.3f} s" if p99 is not None else "nothing delivered",
            ],
        ],
    )
    result.data = {
        "burst": {"events": burst, "seconds": burst_seconds, "per_second": burst_rate, "all_delivered": delivered},
        "steady": {"rate": STEADY_RATE, "events": len(steady), "p50_s": p50, "p99_s": p99, "all_delivered": caught_up},
    }
    result.outcomes = [
        Outcome(
            "webhooks: deliveries/s (burst)",
            f"{burst_rate:,.0f}/s" if burst_rate else "—",
            "reference",
            None,
            reference=True,
        ),
        Outcome(
            f"webhooks: delay behind the event p99 at {STEADY_RATE}/s",
            f"{p99:.2f} s" if p99 is not None else "—",
            f"≤ {TARGET_DELAY_P99_S:.0f} s",
            p99 is not None and caught_up and p99 <= TARGET_DELAY_P99_S,
        ),
    ]
    return result
