"""The consumer watchdog's clock (minsheng.messaging.consumer): a check the broker did not answer neither ends a
stall nor starts one.  It once ended it: during a stall after a broker restart, every failed check reset the
clock, and the stuck member was replaced a minute and a half late (test_chaos_events failed 1 run in 20)."""

from __future__ import annotations

import asyncio
import time

from minsheng.messaging.consumer import UNDECIDED, EventConsumer


def watchdog(answers: list[str | None]) -> EventConsumer:
    consumer = EventConsumer(
        None,  # type: ignore[arg-type] - the watchdog reads no database
        "127.0.0.1:1",
        topics=["minsheng.education.events"],
        group_id="clock",
        handlers=None,  # type: ignore[arg-type]
        process="clock-test",
        stall_after=0.3,
        watch_interval=0.01,
    )
    consumer._consumer = object()  # type: ignore[assignment] - a member to watch; `_stall` is scripted below
    script = iter(answers)

    async def stall(_member: object) -> str | None:
        return next(script, "no_progress")

    consumer._stall = stall  # type: ignore[method-assign]
    return consumer


def test_a_stall_interrupted_by_unanswered_checks_is_still_replaced_on_time():
    consumer = watchdog(["no_progress", UNDECIDED] * 200)

    async def watch() -> tuple[str, float]:
        began = time.monotonic()
        async with asyncio.timeout(3):
            reason = await consumer._watch()
        return reason, time.monotonic() - began

    reason, took = asyncio.run(watch())
    assert reason == "no_progress" and took < 1.0


def test_a_member_that_follows_again_ends_the_stall():
    consumer = watchdog(["no_progress", "no_progress", None] + [UNDECIDED] * 1000)

    async def watch() -> None:
        async with asyncio.timeout(1.0):
            await consumer._watch()

    try:
        asyncio.run(watch())
    except TimeoutError:
        pass
    assert consumer.stalled_for() == 0.0 and consumer.stall_reason is None
