"""The webhooks worker: the platform's events to other systems' HTTPS endpoints, signed (Standard Webhooks).
Run: python -m minsheng.serve minsheng_webhooks.main:app  (docs/decisions/0023-webhooks.md)"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from minsheng.app import create_app
from minsheng.workers import consume_platform_events
from minsheng_webhooks.deliveries.handlers import webhooks_handlers
from minsheng_webhooks.deliveries.router import router as deliveries_router
from minsheng_webhooks.endpoints.router import router as endpoints_router
from minsheng_webhooks.migration_plan import migration_plan
from minsheng_webhooks.sender import run_sender
from minsheng_webhooks.settings import WebhooksSettings

GROUP_ID = "minsheng-webhooks"

settings = WebhooksSettings()


async def consume_events(app: FastAPI) -> None:
    """Every event the platform publishes, recorded as deliveries once; sent as soon as they are recorded."""
    await consume_platform_events(
        app,
        process="webhooks",
        group_id=GROUP_ID,
        handlers=webhooks_handlers(),
        committed=lambda events: app.state.deliveries_waiting.set(),
    )


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
