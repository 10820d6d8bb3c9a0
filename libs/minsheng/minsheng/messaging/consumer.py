"""Idempotent event consumers: each event is applied once, whatever the broker redelivers.

A consumer's `EventHandlers` hold one handler per event data model, as eShop subscribes one
`IIntegrationEventHandler<T>` per event.  For each poll:

1. Every record is parsed into a `TypedEvent` of a registered type.  A record that cannot be parsed,
   or whose type is unknown, is poison: it is logged, counted and skipped (its offset is committed)
   instead of blocking the partition forever.
2. In ONE database transaction (`EventHandlers.apply`): the events' ids are inserted into
   `processed_event` in one statement (an id already there was applied before: that event is
   skipped); each run of consecutive new events of one data model goes to its handler, in order, with
   the transaction's unit of work; events without a handler are skipped (counted); the unit of work is
   finished (e.g. recomputing what the events made stale); commit.
3. Only after that commit, the Kafka offsets are committed.

A crash between 2 and 3 redelivers the records; step 2 then finds their ids and does nothing.  If the
poll's transaction fails, its events are applied again one per transaction, so a failing event is
isolated: it is rolled back and retried (its partition waits, with backoff), the others go on.
Nothing is lost and order within a partition holds.

Handlers are synchronous (SQLModel sessions are), run in a worker thread and must not commit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from prometheus_client import Counter, Gauge
from pydantic import BaseModel, TypeAdapter, create_model, field_validator
from pydantic import Field as PydanticField
from sqlmodel import Field, Session, SQLModel

from minsheng.db import Database
from minsheng.messaging.backoff import Backoff
from minsheng.messaging.events import IntegrationEvent, UnknownEventType, registered_event_types, utc_now

log = logging.getLogger(__name__)

EVENTS_CONSUMED = Counter(
    "minsheng_events_consumed_total",
    "Integration event records received, by outcome (applied, skipped: no handler, duplicate, poison, failed)",
    ["process", "outcome"],
)
CONSUMER_LAG = Gauge(
    "minsheng_consumer_lag",
    "Records on the broker not yet consumed (high watermark minus position), per assigned partition",
    ["process", "topic", "partition"],
)
LAST_APPLIED = Gauge(
    "minsheng_consumer_last_applied_timestamp_seconds",
    "Unix time of the last commit of a transaction that applied events",
    ["process"],
)


class ProcessedEvent(SQLModel, table=True):
    """The ids of the events this process has applied: the consumer's memory of what it has seen."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=200)
    received_at: dt.datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))


CONSUMER_TABLES = frozenset({ProcessedEvent.__tablename__})


class TypedEvent(BaseModel):
    """A received event whose `data` is an instance of its type's model, validated in one pass.  The
    same envelope rules and data models as `IntegrationEvent`, so it accepts and refuses exactly what
    `IntegrationEvent.from_json_bytes` does."""

    model_config = IntegrationEvent.model_config

    @field_validator("time", check_fields=False)
    @classmethod
    def _in_utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)

    def typed_data(self) -> BaseModel:
        return self.data  # type: ignore[attr-defined] - each subclass declares `data` with its model


class TypedEventParser:
    """Parses received bodies into `TypedEvent`s of the types registered with `register_event`.

    Holds one validator over those types (a `TypedEvent` subclass per type, chosen by `type`): it goes
    stale when a type is registered after it was built, and is then rebuilt on the next parse.  A new
    parser starts empty."""

    def __init__(self) -> None:
        self._types = 0
        self._adapter: TypeAdapter | None = None

    def parse(self, raw: bytes | str) -> TypedEvent:
        """Raises `pydantic.ValidationError` (a `ValueError`) when the body is not a valid event,
        including when its type is unknown."""
        return self._validator().validate_json(raw)

    def _validator(self) -> TypeAdapter:
        types = registered_event_types()
        if not types:
            raise UnknownEventType("no event type is registered: nothing can be received")
        if self._adapter is None or self._types != len(types):
            envelope = {
                name: (field.annotation, field)
                for name, field in IntegrationEvent.model_fields.items()
                if name not in ("type", "data")
            }
            events = [
                create_model(
                    f"Typed{model.__name__}Event",
                    __base__=TypedEvent,
                    type=(Literal[event_type], ...),
                    data=(model, ...),
                    **envelope,
                )
                for event_type, model in types.items()
            ]
            union = Union[tuple(events)]  # noqa: UP007 - built at run time
            self._adapter = TypeAdapter(Annotated[union, PydanticField(discriminator="type")])
            self._types = len(types)
        return self._adapter


def parse_record(record: ConsumerRecord, parser: TypedEventParser) -> TypedEvent | None:
    """The record's event, or None (logged) when the record is poison."""
    if record.value is None:
        log.warning("skipping %s[%d]@%d: record has no value", record.topic, record.partition, record.offset)
        return None
    try:
        return parser.parse(record.value)
    except ValueError as exc:  # pydantic's ValidationError, including an unknown type
        summary = str(exc).replace("\n", " ")[:500]
        log.warning(
            "skipping %s[%d]@%d: not a valid integration event: %s",
            record.topic,
            record.partition,
            record.offset,
            summary,
        )
        return None


# One statement whatever the batch's size, a live poll's few ids or a rebuild's thousands: they travel as
# one JSON document (encoded in C; a driver's text array would format each id in Python).
_MARK_PROCESSED = (
    "INSERT INTO processed_event (event_id, type, received_at) "
    "SELECT event_id, type, %s FROM json_to_recordset(%s::json) AS batch (event_id varchar, type varchar) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


def mark_processed(session: Session, events: Sequence[TypedEvent]) -> list[TypedEvent]:
    """Record the events' ids in `processed_event`, in the session's transaction; the events not seen
    before (each once), in their order."""
    unique = list({event.id: event for event in events}.values())
    if not unique:
        return []
    batch = json.dumps([{"event_id": e.id, "type": e.type} for e in unique])
    result = session.connection().exec_driver_sql(_MARK_PROCESSED, (utc_now(), batch))
    new_ids = set(result.scalars())
    return [event for event in unique if event.id in new_ids]


Work = TypeVar("Work")
Handler = Callable[[Session, list[TypedEvent], Work], None]


@dataclass
class Applied:
    """What a transaction did with its events: applied by a handler, skipped (new, but no handler for
    their type), or duplicates (applied before)."""

    applied: int = 0
    skipped: int = 0
    duplicates: int = 0
    events: list[TypedEvent] = field(default_factory=list)  # the applied ones, in order


class EventHandlers(Generic[Work]):
    """One handler per event data model, and the unit of work they share in a transaction.

    `register(Model, handler)`: `handler(session, events, work)` receives each run of consecutive new
    events whose data is a `Model` (every event type registered with that model), in order, events
    without a handler left out; batching is its business.  `start()` makes a transaction's unit of
    work (what the handlers note for the end, e.g. which read models went stale), `finish(session,
    work)` completes it before the commit."""

    def __init__(
        self,
        start: Callable[[], Work] = lambda: None,
        finish: Callable[[Session, Work], None] = lambda session, work: None,
    ):
        self.start = start
        self.finish = finish
        self.parser = TypedEventParser()
        self._handlers: dict[type[BaseModel], Handler] = {}

    def register(self, model: type[BaseModel], handler: Handler) -> None:
        if model in self._handlers:
            raise ValueError(f"{model.__qualname__} already has a handler")
        self._handlers[model] = handler

    def apply(self, session: Session, events: Sequence[TypedEvent]) -> Applied:
        """Apply `events` exactly once in the session's transaction (the caller commits)."""
        fresh = mark_processed(session, events)
        outcome = Applied(duplicates=len(events) - len(fresh))
        work = self.start()
        run: list[TypedEvent] = []
        handler = None
        for event in fresh:
            mine = self._handlers.get(type(event.typed_data()))
            if mine is None:
                outcome.skipped += 1  # and the run goes on: its handler sees its events in order all the same
                continue
            if mine is not handler and run:
                handler(session, run, work)
                outcome.applied += len(run)
                outcome.events.extend(run)
                run = []
            handler = mine
            run.append(event)
        if run:
            handler(session, run, work)
            outcome.applied += len(run)
            outcome.events.extend(run)
        self.finish(session, work)
        return outcome


@dataclass
class PollResult:
    applied: int = 0
    skipped: int = 0  # new events of types this consumer has no handler for
    duplicates: int = 0
    poison: int = 0
    failed: int = 0  # records whose handling failed and will be retried (their partition was rewound)

    @property
    def records(self) -> int:
        return self.applied + self.skipped + self.duplicates + self.poison + self.failed


class EventConsumer:
    """A consumer-group member applying the events of `topics` with `handlers`, each exactly once.

    `bootstrap_servers` may be a callable, read at every (re)connection.  `consumer_options` go to
    `AIOKafkaConsumer` (e.g. `session_timeout_ms`).  `committed(events)` is called with the events a
    transaction applied, right after its commit (e.g. to measure how fresh the views are).
    """

    def __init__(
        self,
        database: Database,
        bootstrap_servers: str | Callable[[], str],
        *,
        topics: Sequence[str],
        group_id: str,
        handlers: EventHandlers,
        process: str = "unknown",
        max_records: int = 100,
        poll_timeout_ms: int = 500,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        consumer_options: Mapping[str, Any] | None = None,
        committed: Callable[[list[TypedEvent]], None] | None = None,
    ):
        if not topics:
            raise ValueError("an EventConsumer needs at least one topic")
        self.database = database
        self._bootstrap = bootstrap_servers if callable(bootstrap_servers) else (lambda: bootstrap_servers)
        self.topics = tuple(topics)
        self.group_id = group_id
        self.handlers = handlers
        self.process = process
        self.max_records = max_records
        self.poll_timeout_ms = poll_timeout_ms
        self.consumer_options = dict(consumer_options or {})
        self._retry = Backoff(retry_initial, retry_max)
        self._consumer: AIOKafkaConsumer | None = None
        self._committed = committed
        for outcome in ("applied", "skipped", "duplicate", "poison", "failed"):
            EVENTS_CONSUMED.labels(process, outcome)  # exported at 0 from the start: rate() works
        self._lag_reported: set[TopicPartition] = set()
        self._lag_due = 0.0

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
        for tp in self._lag_reported:
            CONSUMER_LAG.remove(self.process, tp.topic, str(tp.partition))
        self._lag_reported = set()
        if consumer is not None:
            await self._stop_consumer(consumer)

    @staticmethod
    async def _stop_consumer(consumer: AIOKafkaConsumer) -> None:
        try:
            await asyncio.wait_for(consumer.stop(), timeout=10.0)
        except Exception:  # noqa: BLE001 - leaving the group politely is best effort
            log.debug("consumer did not stop cleanly", exc_info=True)

    def _apply(self, events: Sequence[TypedEvent]) -> Applied:
        """One transaction (in a worker thread)."""
        with self.database.session() as session:
            outcome = self.handlers.apply(session, events)
            session.commit()
        if outcome.applied:
            LAST_APPLIED.labels(self.process).set(time.time())
            if self._committed is not None:
                self._committed(outcome.events)
        return outcome

    def _count(self, result: PollResult, outcome: Applied) -> None:
        result.applied += outcome.applied
        result.skipped += outcome.skipped
        result.duplicates += outcome.duplicates
        EVENTS_CONSUMED.labels(self.process, "applied").inc(outcome.applied)
        EVENTS_CONSUMED.labels(self.process, "skipped").inc(outcome.skipped)
        EVENTS_CONSUMED.labels(self.process, "duplicate").inc(outcome.duplicates)

    def _poison(self, result: PollResult, count: int = 1) -> None:
        result.poison += count
        EVENTS_CONSUMED.labels(self.process, "poison").inc(count)

    async def poll_once(self, timeout_ms: int | None = None) -> PollResult:
        """Fetch one batch, apply it, commit the offsets of what was applied or skipped.

        A record whose handling fails rewinds its partition to that record (later records of the
        partition wait); other partitions go on.  Raises if the consumer is not started."""
        if self._consumer is None:
            raise RuntimeError("EventConsumer.poll_once before start()")
        consumer = self._consumer
        batch = await consumer.getmany(
            timeout_ms=self.poll_timeout_ms if timeout_ms is None else timeout_ms, max_records=self.max_records
        )
        await self._report_lag(consumer)
        result = PollResult()
        parsed = {
            tp: [(record, parse_record(record, self.handlers.parser)) for record in records]
            for tp, records in batch.items()
            if records
        }
        if not parsed:
            return result
        events = [event for records in parsed.values() for _, event in records if event is not None]
        try:
            outcome = await asyncio.to_thread(self._apply, events) if events else Applied()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - fall back to one event per transaction
            log.warning(
                "%s: a batch of %d events failed (%s: %s); applying them one by one",
                self.process,
                len(events),
                type(exc).__name__,
                exc,
            )
        else:
            self._count(result, outcome)
            self._poison(result, sum(len(records) for records in parsed.values()) - len(events))
            await self._commit(consumer, {tp: records[-1][0].offset + 1 for tp, records in parsed.items()})
            return result
        await self._commit(consumer, await self._apply_one_by_one(consumer, parsed, result))
        return result

    async def _apply_one_by_one(
        self,
        consumer: AIOKafkaConsumer,
        parsed: dict[TopicPartition, list[tuple[ConsumerRecord, TypedEvent | None]]],
        result: PollResult,
    ) -> dict[TopicPartition, int]:
        """Each event in its own transaction; a failing one rewinds its partition. The offsets reached."""
        offsets: dict[TopicPartition, int] = {}
        for tp, records in parsed.items():
            for record, event in records:
                if event is None:
                    self._poison(result)
                    offsets[tp] = record.offset + 1
                    continue
                try:
                    self._count(result, await asyncio.to_thread(self._apply, [event]))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - handler or database: retry this record later
                    result.failed += 1
                    EVENTS_CONSUMED.labels(self.process, "failed").inc()
                    log.error(
                        "%s: event at %s[%d]@%d could not be applied (%s: %s); it will be retried",
                        self.process,
                        record.topic,
                        record.partition,
                        record.offset,
                        type(exc).__name__,
                        exc,
                        exc_info=not isinstance(exc, (OSError,)),
                    )
                    try:
                        consumer.seek(tp, record.offset)
                    except Exception:  # noqa: BLE001 - the partition was revoked meanwhile; its new owner retries
                        log.debug("could not rewind %s", tp, exc_info=True)
                    break
                offsets[tp] = record.offset + 1
        return offsets

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        """The lag of each assigned partition, at most once a second: the broker's high watermark (as
        of the last fetch) minus this consumer's position.  Partitions no longer assigned (another
        group member took them) are no longer reported here."""
        if time.monotonic() < self._lag_due:
            return
        self._lag_due = time.monotonic() + 1.0
        assigned = set(consumer.assignment())
        for tp in self._lag_reported - assigned:
            CONSUMER_LAG.remove(self.process, tp.topic, str(tp.partition))
        self._lag_reported = set()
        for tp in assigned:
            highwater = consumer.highwater(tp)
            if highwater is None:  # nothing fetched from it yet
                continue
            try:
                position = await consumer.position(tp)
            except Exception:  # noqa: BLE001 - revoked meanwhile: its new owner reports it
                continue
            CONSUMER_LAG.labels(self.process, tp.topic, str(tp.partition)).set(max(highwater - position, 0))
            self._lag_reported.add(tp)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a rebalance: the records come again and are deduplicated
            log.warning(
                "%s: could not commit offsets (%s: %s); the records will be redelivered and skipped",
                self.process,
                type(exc).__name__,
                exc,
            )

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
                            self.process,
                            type(exc).__name__,
                            exc,
                            delay,
                        )
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


__all__ = [
    "CONSUMER_TABLES",
    "Applied",
    "EventConsumer",
    "EventHandlers",
    "Handler",
    "PollResult",
    "ProcessedEvent",
    "TypedEvent",
    "TypedEventParser",
    "mark_processed",
    "parse_record",
]
