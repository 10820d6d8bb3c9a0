"""The gateway's consumer: all campaign topics, one consumer group, each event folded once."""

from __future__ import annotations

from fastapi import FastAPI

from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.messaging import EventConsumer, topic_for
from minsheng.progress.model import Thresholds
from minsheng_gateway.projection.fold import view_handlers
from minsheng_gateway.projection.generation import current_generation, group_id
from minsheng_gateway.projection.progress import refresh

TOPICS = tuple(topic_for(c) for c in CAMPAIGN_CODES)


def stalled_fold(app: FastAPI) -> list[str]:
    """Readiness: a fold stalled beyond `consumer_unready_seconds` (the consumer was replaced and still does
    not follow) makes the gateway unready, so traffic goes to a replica whose views follow."""
    consumer: EventConsumer | None = getattr(app.state, "event_consumer", None)
    if consumer is None or consumer.stalled_for() <= app.state.settings.consumer_unready_seconds:
        return []
    return [f"events: fold stalled for {consumer.stalled_for():.0f} s ({consumer.stall_reason})"]


async def consume_events(app: FastAPI) -> None:
    """Background job of the gateway process."""
    with app.state.database.session() as session:
        generation = current_generation(session)
    thresholds = Thresholds.from_settings(app.state.settings)

    # A poll's events are folded in one transaction; the progress they made stale is recomputed once.
    consumer = EventConsumer(
        app.state.database,
        lambda: app.state.settings.kafka_bootstrap_servers,
        topics=TOPICS,
        group_id=group_id(generation),
        handlers=view_handlers(
            lambda session, stale, slot: refresh(session, stale, thresholds, slot.catalog), app.state.plans
        ),
        process="gateway",
        max_records=500,
        poll_timeout_ms=100,
        # A fetch waits at most 20 ms for data: Tansu answers a fetch only when its wait
        # runs out (Kafka answers as soon as data arrives), and the views must follow
        # the services within a second.
        consumer_options={"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000, "fetch_max_wait_ms": 20},
        # Measures freshness and tells the pages (the SSE stream) that the views changed.
        committed=app.state.views_changes.committed,
        stall_after=app.state.settings.consumer_stall_seconds,
    )
    app.state.event_consumer = consumer
    await consumer.run()
