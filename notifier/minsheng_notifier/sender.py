"""Sending: due messages, one replica at a time (a PostgreSQL advisory lock), each channel through its adapter.

A message is recorded (planner) before it is sent; after the adapter accepted it, it is marked sent in a
transaction of its own.  A failure waits with backoff and is marked failed after its last try; it holds neither
the other channels nor other people's messages (each message is one try, the loop moves on).  A crash between
the hand-over and the mark sends that one message again on restart (at least once): e-mail carries a
Message-ID derived from its key, so the mail system can tell it is the same message."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import httpx
from fastapi import FastAPI
from prometheus_client import Counter, Gauge
from sqlmodel import select

from minsheng.db.advisory import AdvisoryLease
from minsheng.messaging.backoff import backoff_delay
from minsheng_notifier.channels.base import Adapter, ChannelError
from minsheng_notifier.channels.email import EmailAdapter
from minsheng_notifier.channels.robots import RobotAdapter
from minsheng_notifier.channels.sms import SmsAdapter
from minsheng_notifier.messages.models import Channel, Delivery, Message
from minsheng_notifier.robots.models import Robot

log = logging.getLogger(__name__)

MESSAGES_SENT = Counter(
    "minsheng_notifier_messages_total",
    "Messages handed over by channel and outcome (sent, retry: failed and waiting, failed: after its last try)",
    ["channel", "outcome"],
)
SENDER_HOLDS_LEASE = Gauge("minsheng_notifier_sender_leader", "1 while this replica holds the sender's lock")
PENDING = Gauge("minsheng_notifier_pending_messages", "Messages recorded and due, not yet sent")
for _channel in Channel:  # exported at 0 from the start: rate() and the dashboards work before the first message
    for _outcome in ("sent", "retry", "failed"):
        MESSAGES_SENT.labels(_channel.value, _outcome)
BATCH = 200
LEASE_NAME = "minsheng-notifier-sender"


def adapters(app: FastAPI) -> dict[Channel, Adapter]:
    found = getattr(app.state, "channel_adapters", None)
    if found is None:
        settings = app.state.settings
        transport: httpx.AsyncBaseTransport | None = getattr(app.state, "channel_transport", None)
        found = {
            Channel.email: EmailAdapter(settings),
            Channel.wecom: RobotAdapter(Channel.wecom, settings, transport),
            Channel.dingtalk: RobotAdapter(Channel.dingtalk, settings, transport),
            Channel.sms: SmsAdapter(settings, transport),
        }
        app.state.channel_adapters = found
    return found


def _link(app: FastAPI, message: Message) -> str:
    return f"{app.state.settings.app_url.rstrip('/')}{message.link}" if message.link else ""


def _save(app: FastAPI, message_id: int, **values) -> None:
    with app.state.database.session() as session:
        row = session.get(Message, message_id)
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


async def send_due(app: FastAPI, now: dt.datetime) -> int:
    """Send what is due at `now` (one batch); returns how many were handed over.  The caller holds the lease."""
    settings = app.state.settings
    with app.state.database.session() as session:
        due = list(
            session.exec(
                select(Message)
                .where(Message.status == Delivery.pending, Message.not_before <= now)
                .order_by(Message.not_before, Message.id)
                .limit(BATCH)
            )
        )
        robots = {r.code: r for r in session.exec(select(Robot))}
    PENDING.set(len(due))
    sent = 0
    for message in due:
        if message.channel is Channel.inapp:  # 站内消息: shown in the 消息中心 from now on
            _save(app, message.id, status=Delivery.sent, sent_at=now, attempts=message.attempts + 1)
            MESSAGES_SENT.labels(message.channel.value, "sent").inc()
            sent += 1
            continue
        adapter = adapters(app)[message.channel]
        wait = adapter.limit.wait(adapter.rate_key(message))
        if wait > 0:  # over this adapter's (or robot's) rate: later, the others go on
            _save(app, message.id, not_before=now + dt.timedelta(seconds=wait))
            continue
        robot = robots.get(message.address) if message.channel in (Channel.wecom, Channel.dingtalk) else None
        attempts = message.attempts + 1
        try:
            await adapter.send(message, robot=robot, link=_link(app, message))
        except ChannelError as exc:
            last = not exc.retry or attempts >= settings.max_attempts
            retry_at = now + dt.timedelta(
                seconds=backoff_delay(attempts, settings.retry_initial_seconds, settings.retry_max_seconds)
            )
            _save(
                app,
                message.id,
                attempts=attempts,
                last_error=str(exc)[:500],
                status=Delivery.failed if last else Delivery.pending,
                not_before=message.not_before if last else retry_at,
            )
            MESSAGES_SENT.labels(message.channel.value, "failed" if last else "retry").inc()
            log.info("message %s (%s) not sent, try %d: %s", message.id, message.channel.value, attempts, exc)
            continue
        _save(app, message.id, status=Delivery.sent, sent_at=now, attempts=attempts, last_error=None)
        MESSAGES_SENT.labels(message.channel.value, "sent").inc()
        sent += 1
    return sent


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def now_of(app: FastAPI) -> dt.datetime:
    """The notifier's time: `app.state.now` when a test travels in time."""
    return getattr(app.state, "now", utc_now)()


async def run_sender(app: FastAPI) -> None:
    """Background job: send due messages while this replica holds the lease; the others wait for it."""
    lease = AdvisoryLease(app.state.database, LEASE_NAME)
    app.state.sender_lease = lease
    try:
        while True:
            held = await asyncio.to_thread(lease.hold)
            SENDER_HOLDS_LEASE.set(1 if held else 0)
            if held:
                try:
                    while await send_due(app, now_of(app)) >= BATCH:
                        pass
                except Exception:  # noqa: BLE001 - the database or a bug: log, keep the loop alive
                    log.exception("sending failed; trying again")
            await asyncio.sleep(app.state.settings.send_seconds)
    finally:
        SENDER_HOLDS_LEASE.set(0)
        await asyncio.to_thread(lease.release)
        for adapter in adapters(app).values():
            close = getattr(adapter, "close", None)
            if close is not None:
                await close()
