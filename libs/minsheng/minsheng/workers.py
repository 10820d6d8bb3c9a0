"""Building blocks of a worker beside the gateway (the notifier, the webhooks worker): each reads every event the
platform publishes (the five campaign topics and the 督办单 topic) under a consumer group of its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import FastAPI

from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.messaging import EventConsumer, EventHandlers, topic_for
from minsheng.supervision_events import SUPERVISION_TOPIC

PLATFORM_TOPICS = (*(topic_for(c) for c in CAMPAIGN_CODES), SUPERVISION_TOPIC)
# A short session: a worker that lost the broker rejoins within seconds of its return (tests/chaos).
WORKER_CONSUMER_OPTIONS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000, "fetch_max_wait_ms": 20}


async def consume_platform_events(
    app: FastAPI,
    *,
    process: str,
    group_id: str,
    handlers: EventHandlers,
    committed: Callable[[Sequence], object] | None = None,
) -> None:
    """Each event applied once in the worker's own database (the kernel's idempotent consumer); `committed` is
    called after each transaction of events commits (to wake the worker's sender)."""
    consumer = EventConsumer(
        app.state.database,
        lambda: app.state.settings.kafka_bootstrap_servers,
        topics=PLATFORM_TOPICS,
        group_id=group_id,
        handlers=handlers,
        process=process,
        consumer_options=WORKER_CONSUMER_OPTIONS,
        committed=committed,
        stall_after=app.state.settings.consumer_stall_seconds,
    )
    app.state.event_consumer = consumer
    await consumer.run()
