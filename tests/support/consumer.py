"""A value event and the consumer tests' "view" of it (a running total per indicator, in the consumer's
transaction) on a database with the messaging tables: for the consumer's tests, its watchdog's and the group
commit's."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert, select, update
from sqlmodel import Session

from minsheng.db import Database
from minsheng.db.migrations import MigrationPlan, upgrade_to_head
from minsheng.messaging import (
    MESSAGING_BRANCH,
    MESSAGING_TABLES,
    EventHandlers,
    IntegrationEvent,
    event_source,
    register_event,
)
from minsheng.messaging.consumer import TypedEvent

EVENT_TYPE = "minsheng.test.consumer.value_reported.v1"
FAST_GROUP_JOIN = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300}  # Tansu waits half of it on join


class ValueReported(BaseModel):
    indicator: str
    value: float


register_event(EVENT_TYPE, ValueReported)

# The consumer's "view": a running total per indicator, updated in the consumer's transaction.
view_metadata = MetaData()
indicator_total = Table(
    "test_indicator_total",
    view_metadata,
    Column("indicator", String(20), primary_key=True),
    Column("total", Float, nullable=False),
    Column("events", Integer, nullable=False),
)


def add_to_total(session: Session, event: TypedEvent) -> None:
    data = event.typed_data()
    connection = session.connection()
    changed = connection.execute(
        update(indicator_total)
        .where(indicator_total.c.indicator == data.indicator)
        .values(total=indicator_total.c.total + data.value, events=indicator_total.c.events + 1)
    ).rowcount
    if not changed:
        connection.execute(insert(indicator_total).values(indicator=data.indicator, total=data.value, events=1))


def add_to_totals(session: Session, events: list[TypedEvent], work: None) -> None:  # noqa: ARG001
    for event in events:
        add_to_total(session, event)


def handlers_of(handler=add_to_totals, **options) -> EventHandlers:  # noqa: ANN003
    handlers = EventHandlers(**options)
    handlers.register(ValueReported, handler)
    return handlers


def migrated(make_database, tmp_path, label: str) -> Database:
    url = make_database(label)
    upgrade_to_head(
        MigrationPlan(
            process="consumer-test",
            kernel_branches=(MESSAGING_BRANCH,),
            own_versions=tmp_path / "versions",
            tables=MESSAGING_TABLES,
        ),
        url,
    )
    database = Database(url)
    view_metadata.create_all(database.engine)
    return database


def new_topic() -> str:
    return f"test.consumer.{uuid.uuid4().hex[:10]}"


def value_event(indicator: str, value: float) -> IntegrationEvent:
    return IntegrationEvent(
        source=event_source("education"),
        type=EVENT_TYPE,
        subject=indicator,
        data={"indicator": indicator, "value": value},
    )


def totals(database: Database) -> dict[str, tuple[float, int]]:
    with database.engine.connect() as connection:
        return {row.indicator: (row.total, row.events) for row in connection.execute(select(indicator_total))}


async def produce(bootstrap_servers: str, topic: str, records: list[tuple[bytes, bytes | None]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
