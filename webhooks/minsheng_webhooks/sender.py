"""Sending: due deliveries, one replica at a time (a PostgreSQL advisory lock), signed, to checked addresses.

A delivery was recorded before its first try (the consumer's transaction); each try is logged and its outcome
saved after it, so a crash between the two sends that one again on restart (at least once; `webhook-id` is the
same, a receiver drops what it has had).  Within a series (an indicator × org unit) only the earliest waiting
delivery of an endpoint is tried: a later event is never sent while an earlier one waits for its retry.
Endpoints are tried side by side (`concurrency`), so one that hangs holds only its own series."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time

import httpx
from fastapi import FastAPI
from prometheus_client import Counter, Gauge, Histogram
from sqlmodel import func, select

from minsheng.db.advisory import AdvisoryLease
from minsheng_webhooks.deliveries.models import Attempt, Delivery, DeliveryStatus
from minsheng_webhooks.destinations import Refused, resolve
from minsheng_webhooks.endpoints.models import DisabledReason, Endpoint
from minsheng_webhooks.signing import signatures

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "minsheng_webhooks_deliveries_total",
    "Tries of webhook deliveries by outcome (succeeded; retry: failed, another try to come; failed: after its "
    "last try or its endpoint disabled)",
    ["outcome"],
)
DELAY = Histogram(
    "minsheng_webhooks_delivery_delay_seconds",
    "From the event's time to its delivery's success",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 7200, 36000, 86400, 172800),
)
PENDING = Gauge("minsheng_webhooks_pending_deliveries", "Deliveries recorded and waiting (first try or a retry)")
SENDER_HOLDS_LEASE = Gauge("minsheng_webhooks_sender_leader", "1 while this replica holds the sender's lock")
ENDPOINTS_DISABLED = Counter(
    "minsheng_webhooks_endpoints_disabled_total", "Endpoints disabled by the sender, by reason", ["reason"]
)
for _outcome in ("succeeded", "retry", "failed"):  # at 0 from the start: rate() and the dashboards work at once
    DELIVERIES.labels(_outcome)
for _reason in (DisabledReason.gone, DisabledReason.failing):
    ENDPOINTS_DISABLED.labels(_reason.value)
BATCH = 200
LEASE_NAME = "minsheng-webhooks-sender"
EXCERPT_CHARS = 1000


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def now_of(app: FastAPI) -> dt.datetime:
    """The worker's time: `app.state.now` when a test travels in time."""
    return getattr(app.state, "now", utc_now)()


def retry_at(settings, attempts: int, now: dt.datetime) -> dt.datetime | None:  # noqa: ANN001 - WebhooksSettings
    """When try `attempts + 1` is due, or None when `attempts` tries were the schedule's last."""
    schedule = settings.retry_schedule
    if attempts >= len(schedule):
        return None
    wait = schedule[attempts]
    wait *= 1 + random.uniform(-settings.retry_jitter, settings.retry_jitter)  # noqa: S311 - jitter, not a secret
    return now + dt.timedelta(seconds=max(wait, 0.0))


def in_force(endpoint: Endpoint, now: dt.datetime) -> list[str]:
    """The secrets that sign: the current one, and the previous during its grace after a rotation."""
    found = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        found.append(endpoint.previous_secret)
    return found


def client(app: FastAPI) -> httpx.AsyncClient:
    found: httpx.AsyncClient | None = getattr(app.state, "webhooks_client", None)
    if found is None or found.is_closed:
        found = httpx.AsyncClient(
            follow_redirects=False,  # a redirect is an answer (3xx: not a success), never followed
            trust_env=False,
            timeout=httpx.Timeout(app.state.settings.timeout_seconds),
            limits=httpx.Limits(max_connections=app.state.settings.concurrency * 2),
        )
        app.state.webhooks_client = found
    return found


async def close_client(app: FastAPI) -> None:
    found: httpx.AsyncClient | None = getattr(app.state, "webhooks_client", None)
    app.state.webhooks_client = None
    if found is not None:
        await found.aclose()


def due(app: FastAPI, now: dt.datetime) -> list[tuple[Delivery, Endpoint]]:
    """The earliest waiting delivery of each series of each enabled endpoint, when it is due."""
    with app.state.database.session() as session:
        heads = (
            select(func.min(Delivery.id).label("id"))
            .where(Delivery.status == DeliveryStatus.pending)
            .group_by(Delivery.endpoint_id, Delivery.series)
        ).subquery()
        rows = session.exec(
            select(Delivery, Endpoint)
            .join(heads, heads.c.id == Delivery.id)
            .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
            .where(Delivery.next_attempt_at <= now, Endpoint.enabled)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(BATCH)
        ).all()
        PENDING.set(session.exec(select(func.count()).where(Delivery.status == DeliveryStatus.pending)).one())
        session.expunge_all()
        return list(rows)


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """At most `limit` bytes of the answer: a 10 MB answer costs 64 KB and the connection."""
    read = bytearray()
    async for chunk in response.aiter_raw():
        read.extend(chunk[: limit - len(read)])
        if len(read) >= limit:
            break
    return bytes(read)


async def try_once(app: FastAPI, delivery: Delivery, endpoint: Endpoint, now: dt.datetime) -> Attempt:
    """One try, its outcome as an (unsaved) Attempt; never raises for the endpoint's sake."""
    settings = app.state.settings
    attempt = Attempt(delivery_id=delivery.id, at=now, succeeded=False)
    try:
        target = await resolve(
            endpoint.url, allow_http=settings.allow_http, allow_private=settings.allow_private_destinations
        )
    except Refused as refused:
        attempt.error, attempt.response_excerpt = refused.code, refused.reason
        return attempt
    timestamp = int(now.timestamp())
    body = delivery.body.encode()
    headers = {
        "content-type": "application/json",
        "host": target.host,
        "user-agent": "minsheng-webhooks/1",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures(in_force(endpoint, now), delivery.event_id, timestamp, body),
    }
    host = f"[{target.host}]" if ":" in target.host else target.host  # an IPv6 literal
    port = httpx.URL(endpoint.url).port
    headers["host"] = f"{host}:{port}" if port is not None else host
    started = time.perf_counter()
    http = client(app)
    try:
        async with asyncio.timeout(settings.timeout_seconds):
            request = http.build_request(
                "POST", target.url, headers=headers, content=body, extensions={"sni_hostname": target.host}
            )
            response = await http.send(request, stream=True)
            try:
                excerpt = await _read_capped(response, settings.max_response_bytes)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        attempt.error, attempt.response_excerpt = "timeout", f"{settings.timeout_seconds:g} 秒内未答复"
        attempt.latency_ms = (time.perf_counter() - started) * 1000
        return attempt
    except httpx.HTTPError as exc:
        attempt.error, attempt.response_excerpt = "unreachable", f"无法连接：{exc.__class__.__name__}"
        attempt.latency_ms = (time.perf_counter() - started) * 1000
        return attempt
    attempt.latency_ms = (time.perf_counter() - started) * 1000
    attempt.status_code = response.status_code
    attempt.succeeded = 200 <= response.status_code < 300
    attempt.response_excerpt = excerpt.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    if 300 <= response.status_code < 400:
        attempt.error = "redirect_not_followed"
    return attempt


def record(app: FastAPI, delivery: Delivery, attempt: Attempt, now: dt.datetime) -> str:
    """Save the try and what follows from it (in one transaction); the outcome for the metrics."""
    settings = app.state.settings
    with app.state.database.session() as session:
        row = session.get(Delivery, delivery.id)
        endpoint = session.get(Endpoint, delivery.endpoint_id)
        if row is None or endpoint is None or row.status is not DeliveryStatus.pending:
            return "gone"  # deleted, or settled (a replay raced it) meanwhile
        session.add(attempt)
        row.attempts += 1
        row.last_status_code = attempt.status_code
        row.last_error = None if attempt.succeeded else (attempt.error or f"http_{attempt.status_code}")
        if attempt.succeeded:
            row.status, row.delivered_at = DeliveryStatus.succeeded, now
            endpoint.failing_since = None
            outcome = "succeeded"
            DELAY.observe(max((now - row.event_time).total_seconds(), 0.0))
        else:
            endpoint.failing_since = endpoint.failing_since or now
            gone = attempt.status_code == 410
            failing = (now - endpoint.failing_since).total_seconds() >= settings.disable_after_seconds
            if gone or failing:
                reason = DisabledReason.gone if gone else DisabledReason.failing
                endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, reason, now
                ENDPOINTS_DISABLED.labels(reason.value).inc()
                log.warning("webhook endpoint %s (%s) disabled: %s", endpoint.id, endpoint.url, reason.value)
            following = None if gone else retry_at(settings, row.attempts, now)
            if following is None:
                row.status, outcome = DeliveryStatus.failed, "failed"
            else:
                row.next_attempt_at, outcome = following, "retry"
        endpoint.updated_at = now
        session.add(row)
        session.add(endpoint)
        session.commit()
    DELIVERIES.labels(outcome).inc()
    return outcome


async def send_due(app: FastAPI, now: dt.datetime) -> int:
    """Try what is due at `now` (one batch, side by side); returns how many were tried.  The caller holds the
    lease."""
    found = await asyncio.to_thread(due, app, now)
    gate = asyncio.Semaphore(app.state.settings.concurrency)

    async def one(delivery: Delivery, endpoint: Endpoint) -> None:
        async with gate:
            attempt = await try_once(app, delivery, endpoint, now)
        await asyncio.to_thread(record, app, delivery, attempt, now)

    await asyncio.gather(*(one(d, e) for d, e in found))
    return len(found)


async def run_sender(app: FastAPI) -> None:
    """Background job: send due deliveries while this replica holds the lease; woken at once by new events."""
    lease = AdvisoryLease(app.state.database, LEASE_NAME)
    waiting: asyncio.Event = app.state.deliveries_waiting
    try:
        while True:
            held = await asyncio.to_thread(lease.hold)
            SENDER_HOLDS_LEASE.set(1 if held else 0)
            waiting.clear()
            if held:
                try:
                    while await send_due(app, now_of(app)) >= BATCH:
                        pass
                except Exception:  # noqa: BLE001 - the database or a bug: log, keep the loop alive
                    log.exception("sending webhooks failed; trying again")
            try:
                async with asyncio.timeout(app.state.settings.send_seconds):
                    await waiting.wait()
            except TimeoutError:
                pass
    finally:
        SENDER_HOLDS_LEASE.set(0)
        await asyncio.to_thread(lease.release)
        await close_client(app)
