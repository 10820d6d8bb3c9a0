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

No silent stall: beside the poll loop a watchdog asks the broker, every couple of seconds, whether
this member should be receiving and is not: records wait beyond its positions and nothing came for a
while, its group coordinator is lost, or a poll hangs outside the database work.  A stall that lasts
`stall_after` seconds replaces the Kafka consumer with a new one in the same group (logged, counted
in `minsheng_consumer_restarts_total{reason}`); `stalled_for()` lets the process turn unready.  A
broker that cannot be reached at all is an outage, not a stall: the connect loop handles it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
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
    "Records on the broker not yet consumed (end offset minus position, asked every 2 s), per assigned partition",
    ["process", "topic", "partition"],
)
CONSUMER_RESTARTS = Counter(
    "minsheng_consumer_restarts_total",
    "Kafka consumers replaced by a new member of the same group because the old one had stalled, by reason "
    "(no_progress: records waited and none came; coordinator_lost; poll_hung)",
    ["process", "reason"],
)
CONSUMER_STALLED = Gauge(
    "minsheng_consumer_stalled_seconds",
    "How long the consumer has been stalled (records wait on a reachable broker and nothing arrives, or its "
    "group coordinator is lost); 0 while it follows",
    ["process"],
)
STALL_REASONS = ("no_progress", "coordinator_lost", "poll_hung")
UNDECIDED = "undecided"  # the watchdog's check got no answer from the broker: no conclusion either way
COMMIT_TIMEOUT_SECONDS = 5.0
# Bounds are `asyncio.timeout`, never `asyncio.wait_for`: on Python 3.11 wait_for can swallow a cancellation
# that arrives just as its awaitable finishes, and a job that misses its cancellation never stops.
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
    `stall_after`: seconds a stall may last before the consumer is replaced; `stall_grace`: how long
    records may wait unfetched (or a poll run) before it counts as a stall; `watch_interval`: how
    often the watchdog asks the broker.
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
        stall_after: float = 20.0,
        stall_grace: float = 5.0,
        watch_interval: float = 2.0,
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
        self.stall_after = stall_after
        self.stall_grace = stall_grace
        self.watch_interval = watch_interval
        for reason in STALL_REASONS:
            CONSUMER_RESTARTS.labels(process, reason)
        CONSUMER_STALLED.labels(process).set(0)
        self._last_received = time.monotonic()  # records came (or partitions were assigned)
        self._poll_began: float | None = None  # a poll is under way outside the database work
        self._applying = False  # a transaction of the poll's events is under way
        self._retrying = False  # the last poll had a failing record: its partition waits on purpose
        self._stalled_since: float | None = None
        self._stall_reason: str | None = None
        self._replaced_at = float("-inf")  # when a stalled Kafka consumer was last replaced
        self._ends_seen: dict[TopicPartition, int] = {}  # the highest end offset seen per partition
        self._joined: tuple[int, str | None] | None = None  # (generation, member id) of the last join
        self._rewinding: set[asyncio.Task] = set()

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
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap(), **options)
        consumer.subscribe(self.topics, listener=_FollowAssignment(self, consumer))
        try:
            async with asyncio.timeout(60.0):
                await consumer.start()
        except BaseException:
            await self._stop_consumer(consumer)
            raise
        self._consumer = consumer
        self._last_received = time.monotonic()
        log.info("%s consumer joined group %s on %s", self.process, self.group_id, ", ".join(self.topics))

    def _forget_lag(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in set(partitions) & self._lag_reported:
            CONSUMER_LAG.remove(self.process, tp.topic, str(tp.partition))
            self._lag_reported.discard(tp)

    async def stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        self._forget_lag(self._lag_reported)
        if consumer is not None:
            await self._stop_consumer(consumer)

    @staticmethod
    async def _stop_consumer(consumer: AIOKafkaConsumer) -> None:
        try:
            async with asyncio.timeout(10.0):
                await consumer.stop()
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
        self._poll_began = time.monotonic()
        try:
            return await self._poll(consumer, timeout_ms)
        finally:
            self._poll_began = None

    async def _poll(self, consumer: AIOKafkaConsumer, timeout_ms: int | None) -> PollResult:
        batch = await consumer.getmany(
            timeout_ms=self.poll_timeout_ms if timeout_ms is None else timeout_ms, max_records=self.max_records
        )
        result = PollResult()
        parsed = {
            tp: [(record, parse_record(record, self.handlers.parser)) for record in records]
            for tp, records in batch.items()
            if records
        }
        if not parsed:
            return result
        self._last_received = time.monotonic()
        events = [event for records in parsed.values() for _, event in records if event is not None]
        try:
            outcome = await self._in_database(self._apply, events) if events else Applied()
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
                    self._count(result, await self._in_database(self._apply, [event]))
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

    def _report_lag(self, consumer: AIOKafkaConsumer, ends: Mapping[TopicPartition, int]) -> None:
        """The lag of each assigned partition: its end offset on the broker (asked by the watchdog, so the
        gauge tells the truth even while the poll loop waits on the database) minus this member's position.
        Partitions no longer assigned (another group member took them) are no longer reported here."""
        self._forget_lag(self._lag_reported - set(ends))
        for tp, end in ends.items():
            position = known_position(consumer, tp)
            if position is None:  # no position yet: reported once it has one
                continue
            CONSUMER_LAG.labels(self.process, tp.topic, str(tp.partition)).set(max(end - position, 0))
            self._lag_reported.add(tp)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            # Bounded: aiokafka retries a retriable refusal (a broker that forgot the topic) for good, and the
            # commit only spares re-reading: what was applied is known by its ids.
            async with asyncio.timeout(COMMIT_TIMEOUT_SECONDS):
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

    async def _in_database(self, apply: Callable[[Sequence[TypedEvent]], Applied], events) -> Applied:
        """A transaction in a worker thread; the watchdog does not count its time as a hung poll (a slow
        database is lag, which the lag alert covers, not a stall a new consumer would cure)."""
        began, self._poll_began = self._poll_began, None
        self._applying = True
        try:
            return await asyncio.to_thread(apply, events)
        finally:
            self._applying = False
            self._poll_began = time.monotonic() if began is not None else None

    def stalled_for(self) -> float:
        """Seconds this consumer has been stalled (0 while it follows the broker or cannot reach it)."""
        return 0.0 if self._stalled_since is None else time.monotonic() - self._stalled_since

    @property
    def stall_reason(self) -> str | None:
        return self._stall_reason

    async def _stall(self, consumer: AIOKafkaConsumer) -> str | None:
        """Why this member is stalled right now; None when it follows; UNDECIDED when the broker did not answer
        the check (unreachable, or partitions moving)."""
        now = time.monotonic()
        if self._poll_began is not None and now - self._poll_began > self.stall_grace:
            return "poll_hung"
        assigned = list(consumer.assignment())
        try:
            # A metadata or offsets round trip: the broker answers, so this is not an outage.
            async with asyncio.timeout(self.watch_interval * 2):
                if assigned:
                    ends = await consumer.end_offsets(assigned)
                else:
                    await consumer.topics()
                    ends = {}
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - broker unreachable or partitions moving: no conclusion this time
            return UNDECIDED
        self._report_lag(consumer, ends)
        self._reread_lost_logs(consumer, ends)
        if self._applying:  # a slow database is lag (the lag alerts), not a stall a new member would cure
            return None
        if coordinator_lost(consumer):
            return "coordinator_lost"
        waiting = any(end > (known_position(consumer, tp) or 0) for tp, end in ends.items())
        if waiting and not self._retrying and now - self._last_received > self.stall_grace:
            self._read_from_the_beginning_without_position(consumer, ends)
            return "no_progress"
        return None

    def _read_from_the_beginning_without_position(
        self, consumer: AIOKafkaConsumer, ends: Mapping[TopicPartition, int]
    ) -> None:
        """A partition with records but still no position: the broker does not give the group's committed
        offset (one that lost its log answers that it does not know the topic, and aiokafka asks again for
        good).  The committed offset only spares re-reading, so this member reads it from the beginning."""
        stuck = sorted(tp for tp, end in ends.items() if end > 0 and known_position(consumer, tp) is None)
        if stuck:
            log.warning(
                "%s consumer: no position on %s (the broker does not give the group's offsets); reading them "
                "from the beginning",
                self.process,
                ", ".join(f"{tp.topic}[{tp.partition}]" for tp in stuck),
            )
            self._rewind(consumer, stuck)

    def _rewind(self, consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition]) -> None:
        """Read `partitions` from the beginning (what was applied comes again and is skipped).  aiokafka's seek
        is a coroutine that waits for the broker; it runs on its own, so that neither a rebalance callback
        nor the watchdog waits on it."""

        async def seek() -> None:
            try:
                async with asyncio.timeout(30.0):
                    await consumer.seek_to_beginning(*partitions)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - revoked or the broker gone: the next check sees it again
                log.info("%s consumer: could not rewind %d partitions (%s)", self.process, len(partitions), exc)
            finally:
                self._rewinding.discard(task)

        task = asyncio.get_running_loop().create_task(seek(), name=f"{self.process}-rewind")
        self._rewinding.add(task)  # a reference, so the task is not collected while it runs

    def _check_group_generation(self, consumer: AIOKafkaConsumer, assigned: list[TopicPartition]) -> None:
        """A group's generation only grows while the broker keeps its state: one that came back at or below
        the last this process joined means the broker lost the group, its offsets and most likely its log (a
        Tansu restart), and an offset committed meanwhile from a stale position would skip what the new log
        holds.  The assigned partitions are read from the beginning; duplicates are skipped (decision 0015)."""
        generation = group_generation(consumer)
        if generation is None:
            return
        joined = (generation, getattr(consumer._coordinator, "member_id", None))  # noqa: SLF001 - see above
        if joined == self._joined:  # the same join told twice
            return
        previous = self._joined[0] if self._joined else None
        self._joined = joined
        if previous is not None and generation <= previous and assigned:
            log.warning(
                "%s consumer: group %s is at generation %d after %d (the broker lost its state); reading the "
                "%d assigned partitions from the beginning",
                self.process,
                self.group_id,
                generation,
                previous,
                len(assigned),
            )
            self._rewind(consumer, assigned)

    def _reread_lost_logs(self, consumer: AIOKafkaConsumer, ends: Mapping[TopicPartition, int]) -> None:
        """A partition whose end offset went back lost its log (a broker that keeps nothing on disk restarted,
        a topic made again): this member's position there may point past records it never read, and the
        group's offsets went with the log.  It reads that partition from the beginning; what it had applied
        comes again and is skipped as duplicates (decision 0015)."""
        lost = [tp for tp, end in ends.items() if end < self._ends_seen.get(tp, 0)]
        for tp, end in ends.items():
            self._ends_seen[tp] = end if tp in lost else max(end, self._ends_seen.get(tp, 0))
        if lost:
            log.warning(
                "%s consumer: the broker lost the log of %s; reading them from the beginning",
                self.process,
                ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(lost)),
            )
            self._rewind(consumer, lost)

    async def _watch(self) -> str:
        """Returns the reason once a stall has lasted `stall_after` seconds."""
        while True:
            await asyncio.sleep(self.watch_interval)
            consumer = self._consumer
            if consumer is None:  # (re)connecting: the connect loop reports that
                continue
            reason = await self._stall(consumer)
            now = time.monotonic()
            if reason == UNDECIDED:
                # Neither ends a stall nor starts one: a check that failed now and then during a stall once
                # reset its clock each time, and the member stuck after a broker restart was replaced late.
                CONSUMER_STALLED.labels(self.process).set(self.stalled_for())
                continue
            if reason is None:
                if self._stalled_since is not None:
                    log.info("%s consumer follows the broker again", self.process)
                self._stalled_since, self._stall_reason = None, None
            else:
                if self._stalled_since is None:
                    self._stalled_since = now
                    log.warning("%s consumer may be stalled (%s)", self.process, reason)
                self._stall_reason = reason
            CONSUMER_STALLED.labels(self.process).set(self.stalled_for())
            if reason is not None and self._consumer is consumer and self._restart_due(now):
                return reason

    def _restart_due(self, now: float) -> bool:
        # Kept across replacements: `_stalled_since` tells how long the views have not followed, so a new
        # member gets `stall_after` seconds of its own before it is replaced in turn.
        due = max(self._stalled_since or now, self._replaced_at) + self.stall_after
        return now >= due

    async def _consume(self) -> None:
        """Poll until cancelled: reconnects with backoff, retries failed records with backoff, never raises."""
        connect = Backoff(0.5, 5.0)
        warned = False
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
            self._retrying = bool(result.failed)
            if result.failed:
                await asyncio.sleep(self._retry.next())
            elif result.records:
                self._retry.reset()

    async def run(self) -> None:
        """Consume until cancelled, never raising; a stalled Kafka consumer is replaced by a new member of
        the same group (what was applied but not committed comes again and is skipped as duplicates)."""
        try:
            while True:
                consuming = asyncio.create_task(self._consume(), name=f"{self.process}-consume")
                watching = asyncio.create_task(self._watch(), name=f"{self.process}-consumer-watchdog")
                try:
                    done, _ = await asyncio.wait({consuming, watching}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in (consuming, watching):
                        task.cancel()
                    await asyncio.gather(consuming, watching, return_exceptions=True)
                if consuming in done:
                    consuming.result()  # it only ends by raising: let that surface
                reason = watching.result()
                log.warning(
                    "%s consumer stalled for %.0f s (%s): replacing it with a new member of group %s",
                    self.process,
                    self.stalled_for(),
                    reason,
                    self.group_id,
                )
                CONSUMER_RESTARTS.labels(self.process, reason).inc()
                self._replaced_at = time.monotonic()
                await self.stop()
        finally:
            CONSUMER_STALLED.labels(self.process).set(0)
            await self.stop()


class _FollowAssignment(ConsumerRebalanceListener):
    """What an assignment changes: a partition's lag is this member's to report only while it is assigned
    here (dropped the moment a rebalance revokes it; the next owner reports it); an assignment restarts the
    stall clock; and a group that starts its generations again lost its state with the broker."""

    def __init__(self, owner: EventConsumer, consumer: AIOKafkaConsumer):
        self.owner = owner
        self.consumer = consumer

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.owner._forget_lag(revoked)  # noqa: SLF001 - the listener is the consumer's own

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        # New partitions get the grace to find their positions before the watchdog counts them as waiting.
        self.owner._last_received = time.monotonic()  # noqa: SLF001
        self.owner._check_group_generation(self.consumer, list(assigned))  # noqa: SLF001


def group_generation(consumer: AIOKafkaConsumer) -> int | None:
    """The generation of the group this member joined (aiokafka keeps it on its coordinator object)."""
    generation = getattr(getattr(consumer, "_coordinator", None), "generation", None)
    return generation if isinstance(generation, int) and generation >= 0 else None


def known_position(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    """The consumer's position on `tp` without waiting: `AIOKafkaConsumer.position` waits (for good, while
    the group coordinator is lost) until a partition has a position, and the poll loop must never block."""
    try:
        state = consumer._subscription.subscription.assignment.state_value(tp)  # noqa: SLF001 - see above
    except AttributeError:  # no subscription or assignment (any more)
        return None
    if state is None or not state.has_valid_position:
        return None
    return state.position


def coordinator_lost(consumer: AIOKafkaConsumer) -> bool:
    """aiokafka marks the group coordinator dead (`coordinator_id` None) and looks it up again; a lookup
    that never succeeds leaves the member fetching nothing, silently."""
    coordinator = getattr(consumer, "_coordinator", None)
    return coordinator is not None and getattr(coordinator, "coordinator_id", 0) is None


__all__ = [
    "CONSUMER_TABLES",
    "STALL_REASONS",
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
