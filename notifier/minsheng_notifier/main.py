"""The notifier: reminders (催办), 退回 and 督办单 notices, over 站内消息, e-mail, group robots and SMS.
Run: python -m minsheng.serve minsheng_notifier.main:app  (docs/decisions/0021-notifier.md)"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from minsheng.app import create_app
from minsheng.workers import consume_platform_events
from minsheng_notifier.facts.handlers import notifier_handlers
from minsheng_notifier.gateway import close_gateway_client
from minsheng_notifier.messages.router import router as messages_router
from minsheng_notifier.migration_plan import migration_plan
from minsheng_notifier.planner import expand_notices, plan_day
from minsheng_notifier.robots.router import router as robots_router
from minsheng_notifier.rules.router import router as rules_router
from minsheng_notifier.sender import now_of, run_sender
from minsheng_notifier.settings import NotifierSettings

log = logging.getLogger(__name__)
GROUP_ID = "minsheng-notifier"

settings = NotifierSettings()


async def consume_events(app: FastAPI) -> None:
    """What happened (reports in or returned, 督办单), each event applied once."""
    # A 退回 is told within seconds: the notices are expanded as soon as their transaction commits.
    await consume_platform_events(
        app,
        process="notifier",
        group_id=GROUP_ID,
        handlers=notifier_handlers(),
        committed=lambda events: app.state.notices_waiting.set(),
    )


async def plan_messages(app: FastAPI) -> None:
    """The day's digests and escalations every `plan_seconds`, the events' notices as soon as they come."""
    waiting: asyncio.Event = app.state.notices_waiting
    last_plan, warned = 0.0, False
    loop = asyncio.get_running_loop()
    while True:
        try:
            await expand_notices(app, now_of(app))
            if loop.time() - last_plan >= app.state.settings.plan_seconds:
                await plan_day(app, now_of(app))
                last_plan = loop.time()
            warned = False
        except Exception as exc:  # noqa: BLE001 - the gateway unreachable, the database down: next round
            (log.debug if warned else log.warning)(
                "planning failed (%s: %s); trying again", exc.__class__.__name__, exc
            )
            warned = True
        waiting.clear()
        try:
            async with asyncio.timeout(app.state.settings.send_seconds):
                await waiting.wait()
        except TimeoutError:
            pass


async def gateway_client_lifecycle(app: FastAPI) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await close_gateway_client(app)


def build_app(notifier_settings: NotifierSettings = settings, *, jobs: bool = True) -> FastAPI:
    """`jobs=False`: no background work (tests drive planning and sending themselves, at the time they choose)."""
    app = create_app(
        process="notifier",
        title="淄博市高品质民生三年行动 · 提醒服务",
        description="催办提醒、退回通知与督办通知：站内消息、电子邮件、工作群机器人与短信。",
        settings=notifier_settings,
        migration_plan=migration_plan,
        routers=[messages_router, rules_router, robots_router],
        background=[consume_events, plan_messages, run_sender, gateway_client_lifecycle] if jobs else [],
    )
    app.state.notices_waiting = asyncio.Event()
    return app


app = build_app()
