"""Idempotent consumers, against real PostgreSQL and the real local broker.

Each event changes the consumer's database once, however often the broker delivers it; the offset is
committed only after the database commit, so a failing handler leaves its event to be retried; poison
records are skipped instead of blocking their partition; handlers get the runs of their own events.
Last, the whole path: outbox → relay → broker → consumer, as the background jobs of two processes."""

from __future__ import annotations

import asyncio
import time
import uuid
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session

from minsheng.app import create_app
from minsheng.db import Database, SessionDep
from minsheng.db.migrations import MigrationPlan
from minsheng.messaging import (
    MESSAGING_BRANCH,
    MESSAGING_TABLES,
    EventConsumer,
    EventHandlers,
    IntegrationEvent,
    ProcessedEvent,
    add_event,
    event_source,
    register_event,
)
from minsheng.messaging.consumer import TypedEvent
from minsheng.settings import ProcessSettings
from tests.conftest import run_relay
from tests.support.consumer import (
    EVENT_TYPE,
    FAST_GROUP_JOIN,
    ValueReported,
    add_to_total,
    add_to_totals,
    handlers_of,
    migrated,
    new_topic,
    produce,
    totals,
    value_event,
    view_metadata,
)


def run(coroutine, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


@pytest.fixture
def database(make_database, tmp_path):
    db = migrated(make_database, tmp_path, "consumer")
    yield db
    db.dispose()


def processed_ids(database: Database) -> set[str]:
    with database.engine.connect() as connection:
        return set(connection.execute(select(ProcessedEvent.__table__.c.event_id)).scalars())


async def committed_offsets(bootstrap_servers: str, group_id: str, topic: str) -> dict[int, int]:
    """The group's committed offset per partition of `topic` (partitions with none left out), read
    by a member that does not join the group. (The admin client's OffsetFetch does not decode with Tansu.)"""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group_id, enable_auto_commit=False)
    await reader.start()
    try:
        await reader.topics()  # loads the metadata, so the topic's partitions are known
        offsets = {p: await reader.committed(TopicPartition(topic, p)) for p in reader.partitions_for_topic(topic)}
    finally:
        await reader.stop()
    return {p: offset for p, offset in offsets.items() if offset is not None}


async def poll_until(consumer: EventConsumer, done, timeout: float = 10.0) -> dict[str, int]:
    """Poll, adding up outcomes, until `done(totals)`; fail after `timeout`."""
    seen = {"applied": 0, "duplicates": 0, "poison": 0, "failed": 0}
    deadline = asyncio.get_running_loop().time() + timeout
    while not done(seen):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"consumer outcomes {seen} after {timeout:.0f} s")
        result = await consumer.poll_once(timeout_ms=200)
        for name in seen:
            seen[name] += getattr(result, name)
    return seen


def make_consumer(database, broker, topic, group_id, handler=add_to_totals) -> EventConsumer:
    return EventConsumer(
        database,
        broker.bootstrap_servers,
        topics=[topic],
        group_id=group_id,
        handlers=handlers_of(handler),
        process="consumer-test",
        consumer_options=FAST_GROUP_JOIN,
    )


def consumer_job(topic: str, group_id: str):  # noqa: ANN201
    """A `create_app(background=[...])` job running a consumer with the app's database and settings."""

    async def consume_events(app) -> None:  # noqa: ANN001 - a FastAPI app
        consumer = EventConsumer(
            app.state.database,
            lambda: app.state.settings.kafka_bootstrap_servers,
            topics=[topic],
            group_id=group_id,
            handlers=handlers_of(),
            process=getattr(app.state, "process", "unknown"),
            consumer_options=FAST_GROUP_JOIN,
        )
        app.state.event_consumer = consumer
        await consumer.run()

    return consume_events


def test_each_event_is_applied_once_even_when_delivered_twice(database, broker):
    topic, group = new_topic(), f"g-{uuid.uuid4().hex[:8]}"
    first, second = value_event("T001-1", 5), value_event("T001-1", 7)
    key = b"T001-1"
    records = [
        (key, first.to_json_bytes()),
        (key, first.to_json_bytes()),
        (key, second.to_json_bytes()),
        (key, first.to_json_bytes()),
    ]

    async def scenario():
        await produce(broker.bootstrap_servers, topic, records)
        consumer = make_consumer(database, broker, topic, group)
        await consumer.start()
        try:
            outcomes = await poll_until(consumer, lambda seen: sum(seen.values()) >= 4)
        finally:
            await consumer.stop()
        committed = await committed_offsets(broker.bootstrap_servers, group, topic)
        # Offsets lost (another group, or a broker that forgot them): everything comes again, nothing changes.
        replay = make_consumer(database, broker, topic, f"{group}-replay")
        await replay.start()
        try:
            replayed = await poll_until(replay, lambda seen: sum(seen.values()) >= 4)
        finally:
            await replay.stop()
        return outcomes, committed, replayed

    outcomes, committed, replayed = run(scenario())
    assert outcomes == {"applied": 2, "duplicates": 2, "poison": 0, "failed": 0}
    assert replayed == {"applied": 0, "duplicates": 4, "poison": 0, "failed": 0}
    assert totals(database) == {"T001-1": (12.0, 2)}
    assert processed_ids(database) == {first.id, second.id}
    assert sum(committed.values()) == 4  # all four records are behind the group's committed offset


def test_a_failing_handler_leaves_its_event_unprocessed_and_uncommitted_until_it_succeeds(database, broker):
    topic, group = new_topic(), f"g-{uuid.uuid4().hex[:8]}"
    a, x, b = value_event("T001-1", 1), value_event("T001-1", 2), value_event("T001-1", 3)
    failing = {x.id}
    calls: list[str] = []

    def flaky_handler(session: Session, events: list[TypedEvent], work: None) -> None:  # noqa: ARG001
        for event in events:
            calls.append(event.id)
            add_to_total(session, event)  # written, then the handler fails: the write must roll back
            if event.id in failing:
                raise RuntimeError("view update failed")

    async def scenario():
        await produce(broker.bootstrap_servers, topic, [(b"T001-1", e.to_json_bytes()) for e in (a, x, b)])
        consumer = make_consumer(database, broker, topic, group, flaky_handler)
        await consumer.start()
        try:
            first = await poll_until(consumer, lambda seen: seen["failed"] >= 1)
            again = await poll_until(consumer, lambda seen: seen["failed"] >= 1)  # x is delivered again
            committed_while_failing = await committed_offsets(broker.bootstrap_servers, group, topic)
            state_while_failing = totals(database), processed_ids(database)
        finally:
            await consumer.stop()  # the process dies with x still failing

        failing.clear()  # fixed and restarted: the group resumes at x
        restarted = make_consumer(database, broker, topic, group, flaky_handler)
        await restarted.start()
        try:
            after = await poll_until(restarted, lambda seen: seen["applied"] >= 2)
        finally:
            await restarted.stop()
        return (
            first,
            again,
            committed_while_failing,
            state_while_failing,
            after,
            await committed_offsets(broker.bootstrap_servers, group, topic),
        )

    first, again, committed_while_failing, state_while_failing, after, committed_after = run(scenario())
    assert (first["applied"], first["failed"]) == (1, 1)
    assert (again["applied"], again["failed"]) == (0, 1)
    assert list(committed_while_failing.values()) == [1]  # past a, not past x
    assert state_while_failing == ({"T001-1": (1.0, 1)}, {a.id})  # x's write rolled back, b waits behind x
    assert after == {"applied": 2, "duplicates": 0, "poison": 0, "failed": 0}  # a is not delivered again
    assert calls.count(b.id) == 1 and calls[-2:] == [x.id, b.id]  # b waited behind x until x succeeded
    assert totals(database) == {"T001-1": (6.0, 3)}
    assert processed_ids(database) == {a.id, x.id, b.id}
    assert list(committed_after.values()) == [3]


def test_poison_records_are_skipped_and_committed_instead_of_blocking(database, broker):
    topic, group = new_topic(), f"g-{uuid.uuid4().hex[:8]}"
    good = value_event("T001-1", 4)
    unknown = good.to_json_bytes().replace(EVENT_TYPE.encode(), b"minsheng.test.consumer.unheard_of.v1")
    bad_data = good.to_json_bytes().replace(b'"value":4.0', b'"value":"four"')
    assert bad_data != good.to_json_bytes()
    key = b"T001-1"

    async def scenario():
        await produce(
            broker.bootstrap_servers,
            topic,
            [(key, b"\x00not json"), (key, unknown), (key, bad_data), (key, None), (key, good.to_json_bytes())],
        )
        consumer = make_consumer(database, broker, topic, group)
        await consumer.start()
        try:
            outcomes = await poll_until(consumer, lambda seen: sum(seen.values()) >= 5)
        finally:
            await consumer.stop()
        return outcomes, await committed_offsets(broker.bootstrap_servers, group, topic)

    outcomes, committed = run(scenario())
    assert outcomes == {"applied": 1, "duplicates": 0, "poison": 4, "failed": 0}
    assert list(committed.values()) == [5]
    assert totals(database) == {"T001-1": (4.0, 1)}


def test_outbox_to_view_through_the_background_jobs_of_two_processes(make_database, tmp_path, broker):
    """A service commits events with its change; the gateway's view has them within a second or two."""
    service_db = migrated(make_database, tmp_path, "service")
    gateway_db = migrated(make_database, tmp_path, "gateway")
    topic, group = new_topic(), f"gateway-{uuid.uuid4().hex[:8]}"

    def app(database, process):
        settings = SimpleNamespace(kafka_bootstrap_servers=broker.bootstrap_servers)
        return SimpleNamespace(state=SimpleNamespace(database=database, settings=settings, process=process))

    service, gateway = app(service_db, "education-test"), app(gateway_db, "gateway-test")
    job = consumer_job(topic, group)
    events = [value_event(indicator, n) for n in (1, 2, 3) for indicator in ("T001-1", "T002-1")]

    async def scenario():
        tasks = [asyncio.create_task(run_relay(service)), asyncio.create_task(job(gateway))]
        try:
            started = time.monotonic()
            with service_db.session() as session:
                for event in events:
                    add_event(session, topic=topic, key=event.subject, event=event)
                session.commit()
            while totals(gateway_db) != {"T001-1": (6.0, 3), "T002-1": (6.0, 3)}:
                assert time.monotonic() - started < 15, f"view is {totals(gateway_db)}"
                assert not any(task.done() for task in tasks), "a background job died"
                await asyncio.sleep(0.05)
            return time.monotonic() - started
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes), outcomes

    try:
        elapsed = run(scenario(), timeout=30)
        assert processed_ids(gateway_db) == {e.id for e in events}
        assert gateway.state.event_consumer.group_id == group
        print(f"outbox → view in {elapsed:.2f} s (including the consumer joining its group)")
    finally:
        service_db.dispose()
        gateway_db.dispose()


def test_each_handler_gets_the_runs_of_its_own_events_in_order_and_other_types_are_skipped(database):
    """One transaction: the new events' ids recorded at once, each run of consecutive events of one
    data model to its handler, events of a type without a handler recorded and counted as skipped."""
    runs: list[tuple[str, list[float]]] = []
    other_type = "minsheng.test.consumer.value_corrected.v1"
    unhandled_type = "minsheng.test.consumer.value_noted.v1"

    class ValueCorrected(BaseModel):
        indicator: str
        value: float

    class ValueNoted(BaseModel):
        indicator: str

    register_event(other_type, ValueCorrected)
    register_event(unhandled_type, ValueNoted)

    def record(name: str):  # noqa: ANN202
        return lambda session, events, work: runs.append((name, [e.typed_data().value for e in events]))

    handlers = EventHandlers()
    handlers.register(ValueReported, record("reported"))
    handlers.register(ValueCorrected, record("corrected"))

    def event(event_type: str, **data) -> TypedEvent:  # noqa: ANN003
        raw = IntegrationEvent(source=event_source("education"), type=event_type, data=data).to_json_bytes()
        return handlers.parser.parse(raw)

    first = event(EVENT_TYPE, indicator="T001-1", value=1)
    events = [
        first,
        event(EVENT_TYPE, indicator="T001-1", value=2),
        event(unhandled_type, indicator="T001-1"),
        event(EVENT_TYPE, indicator="T001-1", value=3),
        event(other_type, indicator="T001-1", value=4),
        event(EVENT_TYPE, indicator="T001-1", value=5),
        first,
    ]
    with database.session() as session:
        outcome = handlers.apply(session, events)
        session.commit()
    assert (outcome.applied, outcome.skipped, outcome.duplicates) == (5, 1, 1)
    # The skipped event does not split a run: only another handler's events do.
    assert runs == [("reported", [1, 2, 3]), ("corrected", [4]), ("reported", [5])]
    assert processed_ids(database) == {e.id for e in events}
    with database.session() as session:
        again = handlers.apply(session, events[:3])
    assert (again.applied, again.skipped, again.duplicates) == (0, 0, 3)
    assert len(runs) == 3


def test_relay_and_consumer_as_create_app_background_jobs(make_database, tmp_path, broker):
    """The wiring a process uses: an endpoint writes its event with its change, `run_relay` and a
    `consumer_job` run in the app's lifespan and stop with it. Here one process does both."""
    topic, group = new_topic(), f"both-{uuid.uuid4().hex[:8]}"
    router = APIRouter()

    @router.post("/values/{indicator}")
    def report(indicator: str, value: float, session: SessionDep) -> dict:
        event = value_event(indicator, value)
        add_event(session, topic=topic, key=indicator, event=event)
        session.commit()
        return {"event": event.id}

    url = make_database("both")
    app = create_app(
        process="both-test",
        title="t",
        description="d",
        settings=ProcessSettings(port=0, database_url=url, kafka_bootstrap_servers=broker.bootstrap_servers),
        migration_plan=MigrationPlan(
            process="both-test",
            kernel_branches=(MESSAGING_BRANCH,),
            own_versions=tmp_path / "versions",
            tables=MESSAGING_TABLES,
        ),
        routers=[router],
        startup=[lambda app: view_metadata.create_all(app.state.database.engine)],
        background=[run_relay, consumer_job(topic, group)],
    )
    with TestClient(app) as client:
        ids = [client.post("/values/T009-1", params={"value": v}).json()["event"] for v in (1, 2, 4)]
        database = app.state.database
        deadline = time.monotonic() + 15
        while totals(database) != {"T009-1": (7.0, 3)}:
            assert time.monotonic() < deadline, f"view is {totals(database)}"
            time.sleep(0.05)
        assert processed_ids(database) == set(ids)
        metrics = client.get("/metrics").text
        assert 'minsheng_outbox_published_total{process="both-test"} 3.0' in metrics
        assert 'minsheng_events_consumed_total{outcome="applied",process="both-test"} 3.0' in metrics
    assert app.state.outbox_relay.connected is False  # stopped with the app


def test_batch_mode_applies_a_poll_in_one_transaction_and_isolates_a_failing_event(database, broker):
    """A poll is one transaction (its unit of work finished once); when one event fails, the others
    are still applied one by one and only the failing one waits for its retry."""
    topic, group = new_topic(), f"g-{uuid.uuid4().hex[:8]}"
    good = [value_event("T002-1", 1.0) for _ in range(5)]
    bad = value_event("BROKEN", 1.0)
    finished = []
    healed = {"now": False}

    def handler(session: Session, events: list[TypedEvent], work: None) -> None:  # noqa: ARG001
        for event in events:
            if event.typed_data().indicator == "BROKEN" and not healed["now"]:
                raise RuntimeError("the view cannot take this event yet")
            add_to_total(session, event)

    async def scenario():
        await produce(broker.bootstrap_servers, topic, [(b"T002-1", e.to_json_bytes()) for e in good])
        handlers = handlers_of(handler, finish=lambda session, work: finished.append(1))
        consumer = EventConsumer(
            database,
            broker.bootstrap_servers,
            topics=[topic],
            group_id=group,
            handlers=handlers,
            consumer_options=FAST_GROUP_JOIN,
        )
        await consumer.start()
        try:
            await poll_until(consumer, lambda seen: seen["applied"] >= 5)
            assert totals(database) == {"T002-1": (5.0, 5)}
            batches_for_five = len(finished)
            assert batches_for_five < 5  # fewer commits than events
            await produce(
                broker.bootstrap_servers,
                topic,
                [(b"T002-1", bad.to_json_bytes()), (b"T002-1", value_event("T002-1", 2.0).to_json_bytes())],
            )
            await poll_until(consumer, lambda seen: seen["failed"] >= 1)
            assert totals(database)["T002-1"] == (5.0, 5)  # the event behind the failing one waits, in order
            healed["now"] = True
            await poll_until(consumer, lambda seen: seen["applied"] >= 2)
            assert totals(database) == {"T002-1": (7.0, 6), "BROKEN": (1.0, 1)}
        finally:
            await consumer.stop()

    run(scenario(), timeout=60)
