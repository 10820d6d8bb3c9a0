"""The transactional outbox and its relay, against real PostgreSQL and the real local broker.

Only committed events are published; they arrive in order per key as valid CloudEvents; while the
broker is unreachable they wait in the outbox with the failure recorded, and go out once a broker
answers."""

from __future__ import annotations

import asyncio
import json
import uuid
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from pydantic import BaseModel
from sqlmodel import select

from minsheng.broker import LocalBroker
from minsheng.db import Database
from minsheng.db.migrations import MigrationPlan, upgrade_to_head
from minsheng.messaging import (
    MESSAGING_BRANCH,
    MESSAGING_TABLES,
    IntegrationEvent,
    OutboxEvent,
    add_event,
    event_source,
    outbox_stats,
    publish_pending_events,
    register_event,
)
from tests.conftest import free_port, run_relay
from tests.support.topics import read_topic

EVENT_TYPE = "minsheng.test.outbox.value_reported.v1"


class ValueReported(BaseModel):
    indicator: str
    value: float


register_event(EVENT_TYPE, ValueReported)


def run(coroutine, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


@pytest.fixture
def database(make_database, tmp_path):
    url = make_database("outbox")
    upgrade_to_head(
        MigrationPlan(
            process="outbox-test",
            kernel_branches=(MESSAGING_BRANCH,),
            own_versions=tmp_path / "versions",
            tables=MESSAGING_TABLES,
        ),
        url,
    )
    db = Database(url)
    yield db
    db.dispose()


def new_topic() -> str:
    return f"test.outbox.{uuid.uuid4().hex[:10]}"


def value_event(indicator: str, value: float) -> IntegrationEvent:
    return IntegrationEvent(
        source=event_source("education"),
        type=EVENT_TYPE,
        subject=indicator,
        data={"indicator": indicator, "value": value},
    )


def commit_events(database: Database, topic: str, events: list[IntegrationEvent]) -> None:
    with database.session() as session:
        for event in events:
            add_event(session, topic=topic, key=event.subject, event=event)
        session.commit()


def outbox_rows(database: Database) -> list[OutboxEvent]:
    with database.session() as session:
        return list(session.exec(select(OutboxEvent).order_by(OutboxEvent.id)))


async def eventually(predicate, timeout: float, message: str):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := predicate()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{message} (waited {timeout:.0f} s)")
        await asyncio.sleep(0.05)
    return value


def by_key(records) -> dict[str, list[float]]:
    grouped: dict[str, list[float]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = IntegrationEvent.from_json_bytes(record.value)
        grouped.setdefault(record.key.decode(), []).append(event.data["value"])
    return grouped


def test_only_committed_events_are_published_in_order_as_cloudevents(database, broker):
    topic = new_topic()
    committed = [value_event("T001-1", n) for n in (1, 2, 3)] + [value_event("T002-1", n) for n in (10, 20)]
    commit_events(database, topic, committed[:2])
    with database.session() as session:  # a business transaction that fails: its event must vanish with it
        add_event(session, topic=topic, key="T001-1", event=value_event("T001-1", -1))
        session.rollback()
    with pytest.raises(RuntimeError), database.session() as session:
        add_event(session, topic=topic, key="T001-1", event=value_event("T001-1", -2))
        session.flush()
        raise RuntimeError("the request failed after writing")
    commit_events(database, topic, committed[2:])
    assert len(outbox_rows(database)) == 5
    assert outbox_stats(database)[0] == 5

    async def scenario():
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
        await producer.start()
        try:
            first = await publish_pending_events(database, producer, batch_size=3)
            second = await publish_pending_events(database, producer, batch_size=3)
            third = await publish_pending_events(database, producer, batch_size=3)
        finally:
            await producer.stop()
        return (first, second, third), await read_topic(broker.bootstrap_servers, topic, expected=5)

    (first, second, third), records = run(scenario())
    assert (first.claimed, first.published, second.published, third.claimed) == (3, 3, 2, 0)
    assert first.error is second.error is None
    assert len(records) == 5
    assert by_key(records) == {"T001-1": [1, 2, 3], "T002-1": [10, 20]}
    received = {IntegrationEvent.from_json_bytes(r.value).id: r for r in records}
    assert set(received) == {e.id for e in committed}
    for event in committed:
        record = received[event.id]
        assert record.key == event.subject.encode()
        assert dict(record.headers)["content-type"] == b"application/cloudevents+json; charset=UTF-8"
        assert IntegrationEvent.from_json_bytes(record.value) == event
    rows = outbox_rows(database)
    assert all(row.published_at is not None and row.attempts == 0 for row in rows)
    assert outbox_stats(database) == (0, 0.0)


class FlakyProducer:
    """Acknowledges like a broker, except for the events it is told to fail; remembers what it sent."""

    def __init__(self, fail_ids=(), delay: float = 0.0):
        self.fail_ids = set(fail_ids)
        self.delay = delay
        self.sent: list[tuple[str, float]] = []

    async def send_and_wait(self, topic, value=None, key=None, partition=None, timestamp_ms=None, headers=None):
        await asyncio.sleep(self.delay)
        event = IntegrationEvent.from_json_bytes(value)
        if event.id in self.fail_ids:
            raise ConnectionError("broker went away")
        self.sent.append((key.decode(), event.data["value"]))

    async def send(self, topic, value=None, key=None, partition=None, timestamp_ms=None, headers=None):
        """Pipelined like aiokafka: a failed batch fails what is queued behind it on the same partition;
        the key recovers when the failed event is sent again."""
        await asyncio.sleep(self.delay)
        event = IntegrationEvent.from_json_bytes(value)
        future = asyncio.get_running_loop().create_future()
        broken = getattr(self, "broken_keys", set())
        self.broken_keys = broken
        failed_before = getattr(self, "failed_before", set())
        self.failed_before = failed_before
        if event.id in failed_before:
            broken.discard(key)
        if event.id in self.fail_ids or key in broken:
            broken.add(key)
            failed_before.add(event.id)
            future.set_exception(ConnectionError("broker went away"))
        else:
            self.sent.append((key.decode(), event.data["value"]))
            future.set_result(None)
        return future


def test_a_failure_stops_its_key_records_the_error_and_is_retried_after_backoff(database):
    topic = new_topic()
    a1, a2, a3 = (value_event("T001-1", n) for n in (1, 2, 3))
    b1 = value_event("T002-1", 10)
    commit_events(database, topic, [a1, a2, b1, a3])
    producer = FlakyProducer(fail_ids={a2.id})

    async def scenario():
        first = await publish_pending_events(database, producer, batch_size=10)
        waiting = await publish_pending_events(database, producer, batch_size=10)  # a2 waits for its retry time
        await asyncio.sleep(0.6)
        producer.fail_ids.clear()
        retried = await publish_pending_events(database, producer, batch_size=10)
        return first, waiting, retried

    first, waiting, retried = run(scenario())
    assert (first.claimed, first.published, first.failed) == (4, 2, 1)
    assert "ConnectionError: broker went away" in first.error
    assert waiting.claimed == 0
    assert (retried.published, retried.failed) == (2, 0)
    # a3 never overtook a2; b1 (another key) did not wait for T001-1
    assert producer.sent == [("T001-1", 1), ("T002-1", 10), ("T001-1", 2), ("T001-1", 3)] or producer.sent == [
        ("T002-1", 10),
        ("T001-1", 1),
        ("T001-1", 2),
        ("T001-1", 3),
    ]
    failed_row = next(row for row in outbox_rows(database) if row.event_id == a2.id)
    assert failed_row.attempts == 1
    assert "broker went away" in failed_row.last_error
    assert failed_row.published_at is not None


def test_two_relays_on_one_database_never_publish_side_by_side(database):
    """The second relay finds the queue taken (advisory lock) instead of publishing a later slice of it."""
    topic = new_topic()
    commit_events(database, topic, [value_event("T001-1", n) for n in range(6)])
    slow, other = FlakyProducer(delay=0.2), FlakyProducer()

    async def scenario():
        first = asyncio.create_task(publish_pending_events(database, slow, batch_size=3))
        await asyncio.sleep(0.1)
        concurrent = await publish_pending_events(database, other, batch_size=3)
        return await first, concurrent, await publish_pending_events(database, other, batch_size=3)

    first, concurrent, after = run(scenario())
    assert (first.published, concurrent.claimed, after.published) == (3, 0, 3)
    assert [v for _, v in slow.sent + other.sent] == [0, 1, 2, 3, 4, 5]


def test_unreachable_broker_keeps_events_pending_until_a_broker_answers(database):
    topic = new_topic()
    events = [value_event("T001-1", n) for n in (1, 2, 3)]
    commit_events(database, topic, events)
    settings = SimpleNamespace(kafka_bootstrap_servers=f"127.0.0.1:{free_port()}")  # nothing listens there
    app = SimpleNamespace(state=SimpleNamespace(database=database, settings=settings, process="outbox-test"))

    def backlog():
        return REGISTRY.get_sample_value("minsheng_outbox_backlog", {"process": "outbox-test"})

    async def scenario(second_broker: LocalBroker):
        relay = asyncio.create_task(run_relay(app))
        try:
            head = await eventually(
                lambda: (r := outbox_rows(database)[0]).attempts >= 2 and r,
                timeout=10,
                message="the relay never recorded its failed attempts",
            )
            assert all(row.published_at is None for row in outbox_rows(database))
            assert "broker unavailable" in head.last_error and "KafkaConnectionError" in head.last_error
            assert head.next_attempt_at is not None
            await eventually(lambda: backlog() == 3, timeout=5, message="backlog gauge never showed 3")
            assert (
                REGISTRY.get_sample_value("minsheng_outbox_oldest_pending_age_seconds", {"process": "outbox-test"}) > 0
            )
            assert not relay.done()  # the relay survives the outage

            settings.kafka_bootstrap_servers = second_broker.bootstrap_servers
            await eventually(
                lambda: all(row.published_at for row in outbox_rows(database)),
                timeout=15,
                message="events were not published once a broker answered",
            )
            await eventually(lambda: backlog() == 0, timeout=5, message="backlog gauge never went back to 0")
        finally:
            relay.cancel()
            outcome = (await asyncio.gather(relay, return_exceptions=True))[0]
        assert isinstance(outcome, asyncio.CancelledError)  # it stopped because it was told to, not by a crash
        return await read_topic(second_broker.bootstrap_servers, topic, expected=3)

    with LocalBroker(free_port()) as second_broker:
        records = run(scenario(second_broker), timeout=45)
    assert by_key(records) == {"T001-1": [1, 2, 3]}
    assert [IntegrationEvent.from_json_bytes(r.value).id for r in records] == [e.id for e in events]


def test_add_event_only_adds_to_the_callers_session(database):
    event = value_event("T001-1", 1)
    with database.session() as session:
        row = add_event(session, topic="t", key="T001-1", event=event)
        assert row in session.new and row.id is None  # nothing flushed, nothing committed
        assert json.loads(row.payload)["id"] == event.id
        assert row.type == EVENT_TYPE and row.event_id == event.id
    assert outbox_rows(database) == []
    with pytest.raises(ValueError), database.session() as session:
        add_event(session, topic="t", key="", event=event)


def test_a_broker_restarted_empty_gets_the_topic_before_the_relay_publishes_into_it(database):
    """The broker restarts empty while the relay keeps its producer (which learnt the topic from the broker
    before, as the services' relays do: the gateway's subscription made the topics).  The relay publishes again
    into the new broker; a reader that subscribes afterwards (its metadata request would make a missing topic,
    and Tansu then resets the partitions' high watermark while their records stay) reads every event."""
    topic = new_topic()
    before, after = [value_event("T001-1", n) for n in (1, 2, 3)], [value_event("T001-1", n) for n in (4, 5, 6)]
    settings = SimpleNamespace(kafka_bootstrap_servers="")
    app = SimpleNamespace(state=SimpleNamespace(database=database, settings=settings, process="outbox-restart-test"))

    def published() -> float:
        return REGISTRY.get_sample_value("minsheng_outbox_published_total", {"process": "outbox-restart-test"}) or 0

    async def make_topic(bootstrap_servers: str) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)  # a metadata request for the topic makes it
        await producer.start()
        try:
            await producer.client._wait_on_metadata(topic)  # noqa: SLF001
        finally:
            await producer.stop()

    async def scenario(port: int) -> list:
        broker = LocalBroker(port).start()
        settings.kafka_bootstrap_servers = broker.bootstrap_servers
        relay = None
        try:
            await make_topic(broker.bootstrap_servers)
            commit_events(database, topic, before)
            relay = asyncio.create_task(run_relay(app))
            await eventually(lambda: published() >= 3, timeout=15, message="the first events were not published")
            broker.process.kill()  # SIGKILL: Tansu keeps nothing
            broker.process.wait()
            commit_events(database, topic, after)  # the producer sends them while the broker is away…
            await asyncio.sleep(0.5)
            broker = LocalBroker(port).start()  # …and again to the new one once it answers
            # 3 new events, which show the relay the log was lost, then all 6 again.
            await eventually(lambda: published() >= 12, timeout=30, message="the outbox was not published again")
            return await read_topic(broker.bootstrap_servers, topic, expected=9)
        finally:
            if relay is not None:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)
            broker.stop()

    records = run(scenario(free_port()), timeout=90)
    assert {IntegrationEvent.from_json_bytes(r.value).id for r in records} == {e.id for e in before + after}
