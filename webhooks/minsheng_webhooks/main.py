"""The webhooks worker: the platform's events to other systems' HTTPS endpoints, signed (Standard Webhooks).
Run: python -m minsheng.serve minsheng_webhooks.main:app  (docs/decisions/0023-webhooks.md)"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from minsheng.app import create_app
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.messaging import EventConsumer, topic_for
from minsheng.supervision_events import SUPERVISION_TOPIC
from minsheng_webhooks.deliveries.handlers import webhooks_handlers
from minsheng_webhooks.deliveries.router import router as deliveries_router
from minsheng_webhooks.endpoints.router import router as endpoints_router
from minsheng_webhooks.migration_plan import migration_plan
from minsheng_webhooks.sender import run_sender
from minsheng_webhooks.settings import WebhooksSettings

TOPICS = (*(topic_for(c) for c in CAMPAIGN_CODES), SUPERVISION_TOPIC)
GROUP_ID = "minsheng-webhooks"

settings = WebhooksSettings()


async def consume_events(app: FastAPI) -> None:
    """Every event the platform publishes, recorded as deliveries once (the kernel's consumer)."""
    consumer = EventConsumer(
        app.state.database,
        lambda: app.state.settings.kafka_bootstrap_servers,
        topics=TOPICS,
        group_id=GROUP_ID,
        handlers=webhooks_handlers(),
        process="webhooks",
        consumer_options={"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000, "fetch_max_wait_ms": 20},
        committed=lambda events: app.state.deliveries_waiting.set(),  # sent as soon as they are recorded
        stall_after=app.state.settings.consumer_stall_seconds,
    )
    app.state.event_consumer = consumer
    await consumer.run()


def build_app(webhooks_settings: WebhooksSettings = settings, *, jobs: bool = True) -> FastAPI:
    """`jobs=False`: no background work (tests feed events and send at the moments they choose)."""
    app = create_app(
        process="webhooks",
        title="淄博市高品质民生三年行动 · 对接系统推送",
        description=(
            "把平台事件按 Standard Webhooks 规范签名推送到其他系统的 HTTPS 接收地址：订阅、投递记录、重新投递。"
        ),
        settings=webhooks_settings,
        migration_plan=migration_plan,
        routers=[endpoints_router, deliveries_router],
        background=[consume_events, run_sender] if jobs else [],
    )
    app.state.deliveries_waiting = asyncio.Event()
    return app


app = build_app()
