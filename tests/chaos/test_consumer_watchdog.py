"""No silent stall: a consumer that should be receiving and is not is replaced by a new member of its group.

Real broker, real PostgreSQL.  The faults are injected into the live aiokafka consumer with its own public
API (`pause`: a member that fetches nothing while records wait, as after a lost coordinator) or by a poll that
never returns; the watchdog must notice, say so in its metrics, replace the consumer, and every record must
then be applied exactly once."""

from __future__ import annotations

import asyncio

import pytest

from minsheng.messaging import EventConsumer
from minsheng.messaging.consumer import CONSUMER_RESTARTS
from tests.support.consumer import (
    FAST_GROUP_JOIN,
    handlers_of,
    migrated,
    new_topic,
    produce,
    totals,
    value_event,
)

PROCESS = "watchdog-test"


@pytest.fixture
def database(make_database, tmp_path):
    db = migrated(make_database, tmp_path, "watchdog")
    yield db
    db.dispose()


def watched_consumer(database, broker, topic: str) -> EventConsumer:
    return EventConsumer(
        database,
        broker.bootstrap_servers,
        topics=[topic],
        group_id=f"group-{topic}",
        handlers=handlers_of(),
        process=PROCESS,
        consumer_options=FAST_GROUP_JOIN,
        stall_after=2.0,
        stall_grace=1.0,
        watch_interval=0.5,
    )


def restarts(reason: str) -> float:
    return CONSUMER_RESTARTS.labels(PROCESS, reason)._value.get()


async def _until(condition, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.1)


async def _records(broker, topic: str, indicator: str, count: int) -> None:
    await produce(
        broker.bootstrap_servers,
        topic,
        [(indicator.encode(), value_event(indicator, 1).to_json_bytes()) for _ in range(count)],
    )


def _stall_and_recover(database, broker, inject, reason: str) -> dict:
    """Runs a consumer, lets it apply 3 records, injects the fault, sends 5 more: all 8 applied once, after
    one replacement for `reason`; the stall was visible (`stalled_for`) while it lasted."""
    topic = new_topic()
    consumer = watched_consumer(database, broker, topic)
    before = restarts(reason)
    seen_stalled = []

    async def scenario() -> None:
        running = asyncio.create_task(consumer.run())
        try:
            await _records(broker, topic, "T001-1", 3)
            await _until(lambda: totals(database).get("T001-1") == (3.0, 3), 30, "the first 3 records applied")
            await inject(consumer)
            await _records(broker, topic, "T001-1", 5)

            def recovered() -> bool:
                seen_stalled.append(consumer.stalled_for())
                return totals(database).get("T001-1") == (8.0, 8)

            await _until(recovered, 45, "the 5 records sent during the stall applied")
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    asyncio.run(asyncio.wait_for(scenario(), 90))
    return {"restarts": restarts(reason) - before, "stalled": max(seen_stalled)}


def test_a_member_that_fetches_nothing_while_records_wait_is_replaced(database, broker):
    async def stop_fetching(consumer: EventConsumer) -> None:
        kafka = consumer._consumer
        kafka.pause(*kafka.assignment())

    outcome = _stall_and_recover(database, broker, stop_fetching, "no_progress")
    assert outcome["restarts"] == 1
    assert outcome["stalled"] >= 1.0  # the stall was visible before the replacement


def test_a_poll_that_never_returns_is_replaced(database, broker):
    async def hang_next_poll(consumer: EventConsumer) -> None:
        kafka = consumer._consumer
        hanging = asyncio.Event()

        async def never(*args, **kwargs):  # noqa: ANN002, ANN003, ARG001
            hanging.set()
            await asyncio.Event().wait()

        kafka.getmany = never
        await asyncio.wait_for(hanging.wait(), 10)  # the poll under way has returned; the next one hangs

    outcome = _stall_and_recover(database, broker, hang_next_poll, "poll_hung")
    assert outcome["restarts"] == 1
    assert outcome["stalled"] >= 1.0


def test_a_consumer_that_follows_is_never_replaced(database, broker):
    """Idle, then busy, then idle again: no stall is seen and nothing is restarted."""
    topic = new_topic()
    consumer = watched_consumer(database, broker, topic)
    before = {reason: restarts(reason) for reason in ("no_progress", "poll_hung", "coordinator_lost")}

    async def scenario() -> None:
        running = asyncio.create_task(consumer.run())
        try:
            for round_ in range(3):
                await _records(broker, topic, "T002-1", 20)
                await _until(
                    lambda r=round_: totals(database).get("T002-1") == (20.0 * (r + 1), 20 * (r + 1)),
                    30,
                    "records applied",
                )
                await asyncio.sleep(3 * consumer.watch_interval)  # idle for several of the watchdog's checks
                assert consumer.stalled_for() == 0
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    asyncio.run(asyncio.wait_for(scenario(), 90))
    assert {reason: restarts(reason) for reason in before} == before
