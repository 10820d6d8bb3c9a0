"""Idempotent event consumers: each event is applied once, whatever the broker redelivers.

For every record, in order within its partition:

1. Parse the CloudEvent and validate its `data` against the registered type.  A record that cannot
   be parsed, or whose type is unknown, is poison: it is logged, counted and skipped (its offset is
   committed) instead of blocking the partition forever.
2. In ONE database transaction: insert the event's id into `processed_event` (`ON CONFLICT DO
   NOTHING`; if the id is already there the event was applied before and is skipped), call the
   handler `handle(session, event)` with the same session, commit.
3. Only after that commit, commit the Kafka offset.

A crash between 2 and 3 redelivers the record; step 2 then finds the id and does nothing.  A handler
or database error rolls the transaction back and the record is retried (the partition waits, with
backoff), so nothing is lost and order within a partition holds.

The handler is synchronous (SQLModel sessions are), runs in a worker thread, must not commit, and
should ignore event types it does not care about.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from prometheus_client import Counter
from pydantic import BaseModel, Field as PydanticField, TypeAdapter, create_model, field_validator
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

from minsheng.db import Database
from minsheng.messaging.backoff import Backoff
from minsheng.messaging.events import IntegrationEvent, UnknownEventType, registered_event_types, utc_now

log = logging.getLogger(__name__)

EVENTS_CONSUMED = Counter("minsheng_events_consumed_total",
                          "Integration event records received, by outcome (applied, duplicate, poison, failed)",
                          ["process", "outcome"])

Handler = Callable[[Session, IntegrationEvent], None]


class ProcessedEvent(SQLModel, table=True):
    """The ids of the events this process has applied: the consumer's memory of what it has seen."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=200)
    received_at: dt.datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))


CONSUMER_TABLES = frozenset({ProcessedEvent.__tablename__})


def mark_processed(session: Session, event: IntegrationEvent) -> bool:
    """Insert the event's id into `processed_event` in the session's transaction.
    True if it is new, False if it was already there (a redelivery)."""
    dialect = session.get_bind().dialect.name
    values = {"event_id": event.id, "type": event.type, "received_at": utc_now()}
    if dialect == "postgresql":
        statement = postgresql.insert(ProcessedEvent.__table__).values(values)
    elif dialect == "sqlite":
        statement = sqlite.insert(ProcessedEvent.__table__).values(values)
    else:  # pragma: no cover - the platform runs PostgreSQL or SQLite
        raise NotImplementedError(f"no INSERT … ON CONFLICT for {dialect}")
    # RETURNING rather than rowcount: psycopg 3 under SQLAlchemy 2.1 reports -1 for this statement.
    statement = statement.on_conflict_do_nothing(index_elements=["event_id"]).returning(
        ProcessedEvent.__table__.c.event_id)
    return session.connection().execute(statement).first() is not None


def apply_event(database: Database, event: IntegrationEvent, handler: Handler) -> bool:
    """Apply `event` exactly once: record its id and run `handler` in one transaction.
    True if applied now, False if it had been applied before. Handler errors propagate (rolled back)."""
    with database.session() as session:
        if not mark_processed(session, event):
            session.rollback()
            return False
        handler(session, event)
        session.commit()
    return True


@dataclass
class PollResult:
    applied: int = 0
    duplicates: int = 0
    poison: int = 0
    failed: int = 0  # records whose handling failed and will be retried (their partition was rewound)

    @property
    def records(self) -> int:
        return self.applied + self.duplicates + self.poison + self.failed


class TypedEvent(BaseModel):
    """A received event whose `data` is an instance of its type's model rather than a dict: what a bulk
    handler reads.  Validated in one pass (`IntegrationEvent` validates `data` into its model, dumps it
    back to a dict, and `typed_data()` validates it again).  The same envelope rules and the same data
    models, so it accepts and refuses exactly what `IntegrationEvent.from_json_bytes` does."""

    model_config = IntegrationEvent.model_config

    @field_validator("time", check_fields=False)
    @classmethod
    def _in_utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)

    def typed_data(self) -> BaseModel:
        return self.data  # type: ignore[attr-defined] - each subclass declares `data` with its model


_typed_events: tuple[int, TypeAdapter] | None = None


def _typed_event_adapter() -> TypeAdapter:
    """One `TypedEvent` subclass per registered type, chosen by `type`; rebuilt when types are registered."""
    global _typed_events
    types = registered_event_types()
    if not types:
        raise UnknownEventType("no event type is registered: nothing can be received")
    if _typed_events is None or _typed_events[0] != len(types):
        envelope = {name: (field.annotation, field) for name, field in IntegrationEvent.model_fields.items()
                    if name not in ("type", "data")}
        events = [create_model(f"Typed{model.__name__}Event", __base__=TypedEvent, type=(Literal[event_type], ...),
                               data=(model, ...), **envelope) for event_type, model in types.items()]
        union = Union[tuple(events)]  # noqa: UP007 - built at run time
        _typed_events = (len(types), TypeAdapter(Annotated[union, PydanticField(discriminator="type")]))
    return _typed_events[1]


def parse_typed_event(raw: bytes | str) -> TypedEvent:
    """Like `IntegrationEvent.from_json_bytes`, into a `TypedEvent`. Raises `pydantic.ValidationError`
    (a `ValueError`) when the body is not a valid event, including when its type is unknown."""
    return _typed_event_adapter().validate_json(raw)


ReceivedEvent = IntegrationEvent | TypedEvent  # both have id, type, time and typed_data()
Parser = Callable[[bytes], ReceivedEvent]


def parse_record(record: ConsumerRecord, parse: Parser = IntegrationEvent.from_json_bytes) -> ReceivedEvent | None:
    """The record's CloudEvent (an `IntegrationEvent` unless `parse` says otherwise), or None (logged)
    when the record is poison."""
    if record.value is None:
        log.warning("skipping %s[%d]@%d: record has no value", record.topic, record.partition, record.offset)
        return None
    try:
        return parse(record.value)
    except ValueError as exc:  # pydantic's ValidationError, including an unknown type
        summary = str(exc).replace("\n", " ")[:500]
        log.warning("skipping %s[%d]@%d: not a valid integration event: %s", record.topic, record.partition,
                    record.offset, summary)
        return None


class EventConsumer:
    """A consumer-group member applying the events of `topics` with `handler`, each exactly once.

    `bootstrap_servers` may be a callable, read at every (re)connection.  `consumer_options` go to
    `AIOKafkaConsumer` (e.g. `session_timeout_ms`).
    """

    def __init__(
        self,
        database: Database,
        bootstrap_servers: str | Callable[[], str],
        *,
        topics: Sequence[str],
        group_id: str,
        handler: Handler,
        process: str = "unknown",
        max_records: int = 100,
        poll_timeout_ms: int = 500,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        consumer_options: Mapping[str, Any] | None = None,
        after_batch: Callable[[Session], None] | None = None,
        batch_handler: Callable[[Session, list[IntegrationEvent]], tuple[int, int]] | None = None,
        parse: Parser = IntegrationEvent.from_json_bytes,
    ):
        if not topics:
            raise ValueError("an EventConsumer needs at least one topic")
        self.database = database
        self._bootstrap = bootstrap_servers if callable(bootstrap_servers) else (lambda: bootstrap_servers)
        self.topics = tuple(topics)
        self.group_id = group_id
        self.handler = handler
        self.process = process
        self.max_records = max_records
        self.poll_timeout_ms = poll_timeout_ms
        self.consumer_options = dict(consumer_options or {})
        self._retry = Backoff(retry_initial, retry_max)
        self._consumer: AIOKafkaConsumer | None = None
        # With `after_batch`, a whole poll is applied in one transaction and `after_batch(session)` runs
        # once before its commit (e.g. recomputing what the events made stale): far fewer commits and
        # recomputations under load.  A batch that fails is applied again record by record.
        self.after_batch = after_batch
        # `batch_handler(session, events) -> (applied, duplicates)` replaces the per-event loop in batch
        # mode; it must record the events as processed itself (e.g. in one statement).
        self.batch_handler = batch_handler
        # What handlers receive: `IntegrationEvent`s, or e.g. `parse_typed_event`'s cheaper `TypedEvent`s
        # for handlers that read only `id`, `type`, `time` and `typed_data()`.
        self.parse = parse

    @property
    def started(self) -> bool:
        return self._consumer is not None

    async def start(self) -> None:
        """Join the group. Raises when the broker cannot be reached."""
        options: dict[str, Any] = {
            "client_id": f"minsheng-{self.process}-consumer",
            "group_id": self.group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "metadata_max_age_ms": 30_000,  # notice topics created after start within 30 s
        }
        options.update(self.consumer_options)
        consumer = AIOKafkaConsumer(*self.topics, bootstrap_servers=self._bootstrap(), **options)
        try:
            await asyncio.wait_for(consumer.start(), timeout=60.0)
        except BaseException:
            await self._stop_consumer(consumer)
            raise
        self._consumer = consumer
        log.info("%s consumer joined group %s on %s", self.process, self.group_id, ", ".join(self.topics))

    async def stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await self._stop_consumer(consumer)

    @staticmethod
    async def _stop_consumer(consumer: AIOKafkaConsumer) -> None:
        try:
            await asyncio.wait_for(consumer.stop(), timeout=10.0)
        except Exception:  # noqa: BLE001 - leaving the group politely is best effort
            log.debug("consumer did not stop cleanly", exc_info=True)

    async def _handle(self, record: ConsumerRecord, result: PollResult) -> None:
        event = parse_record(record, self.parse)
        if event is None:
            result.poison += 1
            EVENTS_CONSUMED.labels(self.process, "poison").inc()
            return
        handler = self.handler
        if self.after_batch is not None:
            def handler(session: Session, item: IntegrationEvent) -> None:
                self.handler(session, item)
                self.after_batch(session)
        applied = await asyncio.to_thread(apply_event, self.database, event, handler)
        if applied:
            result.applied += 1
            EVENTS_CONSUMED.labels(self.process, "applied").inc()
        else:
            result.duplicates += 1
            EVENTS_CONSUMED.labels(self.process, "duplicate").inc()
            log.debug("event %s (%s) was applied before; skipped", event.id, event.type)

    async def poll_once(self, timeout_ms: int | None = None) -> PollResult:
        """Fetch one batch, apply it, commit the offsets of what was applied or skipped.

        A record whose handling fails rewinds its partition to that record (later records of the
        partition wait); other partitions go on.  Raises if the consumer is not started."""
        if self._consumer is None:
            raise RuntimeError("EventConsumer.poll_once before start()")
        consumer = self._consumer
        batch = await consumer.getmany(timeout_ms=self.poll_timeout_ms if timeout_ms is None else timeout_ms,
                                       max_records=self.max_records)
        result = PollResult()
        offsets: dict[TopicPartition, int] = {}
        if self.after_batch is not None and batch:
            if await self._apply_batch(batch, result):
                offsets = {tp: records[-1].offset + 1 for tp, records in batch.items() if records}
                await self._commit(consumer, offsets)
                return result
        for tp, records in batch.items():
            for record in records:
                try:
                    await self._handle(record, result)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - handler or database: retry this record later
                    result.failed += 1
                    EVENTS_CONSUMED.labels(self.process, "failed").inc()
                    log.error("%s: event at %s[%d]@%d could not be applied (%s: %s); it will be retried",
                              self.process, record.topic, record.partition, record.offset, type(exc).__name__, exc,
                              exc_info=not isinstance(exc, (OSError,)))
                    try:
                        consumer.seek(tp, record.offset)
                    except Exception:  # noqa: BLE001 - the partition was revoked meanwhile; its new owner retries
                        log.debug("could not rewind %s", tp, exc_info=True)
                    break
                offsets[tp] = record.offset + 1
        await self._commit(consumer, offsets)
        return result

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a rebalance: the records come again and are deduplicated
            log.warning("%s: could not commit offsets (%s: %s); the records will be redelivered and skipped",
                        self.process, type(exc).__name__, exc)

    async def _apply_batch(self, batch: dict[TopicPartition, list[ConsumerRecord]], result: PollResult) -> bool:
        """The whole poll in one transaction. False (nothing applied) if it failed: the caller then
        applies the records one by one, so one bad record is isolated and retried alone."""
        events = []
        poison = 0
        for records in batch.values():
            for record in records:
                event = parse_record(record, self.parse)
                if event is None:
                    poison += 1
                else:
                    events.append(event)

        def apply_all() -> tuple[int, int]:
            applied = duplicates = 0
            with self.database.session() as session:
                if self.batch_handler is not None:
                    applied, duplicates = self.batch_handler(session, events)
                else:
                    for event in events:
                        if mark_processed(session, event):
                            self.handler(session, event)
                            applied += 1
                        else:
                            duplicates += 1
                self.after_batch(session)
                session.commit()
            return applied, duplicates

        try:
            applied, duplicates = await asyncio.to_thread(apply_all)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - fall back to record-by-record handling
            log.warning("%s: a batch of %d events failed (%s: %s); applying them one by one", self.process,
                        len(events), type(exc).__name__, exc)
            return False
        result.applied += applied
        result.duplicates += duplicates
        result.poison += poison
        EVENTS_CONSUMED.labels(self.process, "applied").inc(applied)
        EVENTS_CONSUMED.labels(self.process, "duplicate").inc(duplicates)
        EVENTS_CONSUMED.labels(self.process, "poison").inc(poison)
        return True

    async def run(self) -> None:
        """Consume until cancelled: reconnects with backoff, retries failed records with backoff, never raises."""
        connect = Backoff(0.5, 5.0)
        warned = False
        try:
            while True:
                if self._consumer is None:
                    try:
                        await self.start()
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - broker unreachable: try again later
                        delay = connect.next()
                        (log.debug if warned else log.warning)(
                            "%s consumer cannot reach the broker (%s: %s); retrying in %.1f s",
                            self.process, type(exc).__name__, exc, delay)
                        warned = True
                        await asyncio.sleep(delay)
                        continue
                    connect.reset()
                    warned = False
                try:
                    result = await self.poll_once()
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - never take the process down: rejoin
                    delay = connect.next()
                    log.exception("%s consumer failed; rejoining in %.1f s", self.process, delay)
                    await self.stop()
                    await asyncio.sleep(delay)
                    continue
                if result.failed:
                    await asyncio.sleep(self._retry.next())
                elif result.records:
                    self._retry.reset()
        finally:
            await self.stop()


def consumer_job(*, topics: Sequence[str], group_id: str, handler: Handler,
                 **options: Any) -> Callable[[Any], Awaitable[None]]:
    """A `create_app(background=[...])` job running an `EventConsumer` with the app's database and
    `settings.kafka_bootstrap_servers`; the consumer is at `app.state.event_consumers[group_id]`."""

    async def consume_events(app) -> None:  # noqa: ANN001 - a FastAPI app
        consumer = EventConsumer(app.state.database, lambda: app.state.settings.kafka_bootstrap_servers,
                                 topics=topics, group_id=group_id, handler=handler,
                                 process=getattr(app.state, "process", "unknown"), **options)
        if not hasattr(app.state, "event_consumers"):
            app.state.event_consumers = {}
        app.state.event_consumers[group_id] = consumer
        await consumer.run()

    consume_events.__name__ = f"consume_events_{group_id}"
    return consume_events


__all__ = [
    "CONSUMER_TABLES",
    "EventConsumer",
    "Handler",
    "PollResult",
    "ProcessedEvent",
    "ReceivedEvent",
    "TypedEvent",
    "apply_event",
    "consumer_job",
    "mark_processed",
    "parse_record",
    "parse_typed_event",
]
