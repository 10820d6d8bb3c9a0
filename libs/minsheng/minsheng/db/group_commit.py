"""Group commit: the writes of many concurrent requests share one database transaction.

A report submission is a handful of small statements and a commit.  Done one request at a time,
each needs its own connection, its own round trips and its own WAL flush, and the process spends
its time handing requests between threads.  Instead, requests hand their write to a writer
(`GroupCommitWriter`, one per kind of write); the writer takes everything that queued up while it
was busy, writes it with a few set-based statements (`write_batch`), commits once, and answers every
waiting request.  Under light load a batch is a single item and nothing waits longer than before;
under heavy load batches grow and the cost per write falls.

The writer runs on the event loop: `write_batch` is plain synchronous SQLAlchemy code, run through
`AsyncSession.run_sync`, so its database round trips are awaited instead of blocking a thread (a
thread would fight the event loop for the GIL after every round trip, and lose).

Shards: while one batch waits for the database, the next can already be written, so the writer runs
`shards` loops, each with its own queue and transaction.  An item goes to the shard of its
`shard_key` (for reports: the indicator), so the writes of one key are never concurrent: they keep
their order and never wait for each other's row locks.

Failure isolation: `write_batch` returns, per item, its result or the `DomainError` that refused it
(a refused item writes nothing).  If the batch as a whole fails (a constraint raced by another
process, a lost connection), it is rolled back and every item is retried alone, so one item's
trouble never fails another's request; an item that fails alone gets `on_error`'s answer, or, when
the database is away, `DatabaseUnavailable` (503 with Retry-After).
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from prometheus_client import Counter, Histogram
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession  # its run_sync hands out a sqlmodel Session

from minsheng.db.engine import Database
from minsheng.errors import (
    DATABASE_UNAVAILABLE_MESSAGE,
    OVERLOADED_MESSAGE,
    DatabaseUnavailable,
    DomainError,
    Overloaded,
    database_unavailable,
)

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

GROUP_COMMIT_BATCH = Histogram(
    "minsheng_group_commit_batch_size",
    "Writes committed together in one transaction",
    ["process", "writer"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
GROUP_COMMIT_SECONDS = Histogram(
    "minsheng_group_commit_seconds",
    "Time to write and commit one batch",
    ["process", "writer"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

GROUP_COMMIT_REFUSED = Counter(
    "minsheng_group_commit_refused_total",
    "Writes refused at once (503) because too many were already waiting",
    ["process", "writer"],
)

# write_batch(session, items) -> one result or DomainError per item, in order; it does not commit.
BatchWrite = Callable[[Session, Sequence[Item]], list]
ErrorMapper = Callable[[Exception], DomainError | None]


@dataclass
class _Waiting:
    item: object
    future: asyncio.Future


class GroupCommitWriter(Generic[Item, Result]):
    """`await writer.write(item, shard_key)` returns the item's result or raises its DomainError.

    `run()` is the writer's job for the app's lifetime (a background job of `create_app`); requests
    that arrive before it starts simply wait for it.  `after_commit` callbacks run after each commit
    (e.g. to wake the outbox relay)."""

    def __init__(
        self,
        database: Database,
        write_batch: BatchWrite,
        *,
        name: str,
        process: str = "unknown",
        shards: int = 1,
        max_batch: int = 256,
        max_waiting: int = 2000,
        on_error: ErrorMapper | None = None,
    ):
        self.database = database
        self.write_batch = write_batch
        self.name = name
        self.process = process
        self.max_batch = max_batch
        self.max_waiting = max_waiting  # per shard; beyond it a write is refused at once (503)
        self.on_error = on_error or (lambda exc: None)
        self.after_commit: list[Callable[[], None]] = []
        self._queues: list[asyncio.Queue[_Waiting]] = [asyncio.Queue() for _ in range(max(1, shards))]
        self._batch_sizes = GROUP_COMMIT_BATCH.labels(process, name)
        self._batch_seconds = GROUP_COMMIT_SECONDS.labels(process, name)
        self._refused = GROUP_COMMIT_REFUSED.labels(process, name)  # exported at 0 from the start: rate() works
        self._loop: asyncio.AbstractEventLoop | None = None

    async def write(self, item: Item, shard_key: str = "") -> Result:
        # zlib.crc32, not hash(): the same key lands on the same shard in every process and run.
        waiting = self._queues[zlib.crc32(shard_key.encode()) % len(self._queues)]
        if waiting.qsize() >= self.max_waiting:
            self._refused.inc()
            raise Overloaded(OVERLOADED_MESSAGE)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if self._loop is None or self._loop is loop:
            waiting.put_nowait(_Waiting(item, future))
        else:  # called from another event loop (an in-process ASGI client): hand over thread-safely
            self._loop.call_soon_threadsafe(waiting.put_nowait, _Waiting(item, future))
        return await future

    async def run(self) -> None:
        """Write batches until cancelled."""
        self._loop = asyncio.get_running_loop()
        await asyncio.gather(*(self._run_shard(waiting) for waiting in self._queues))

    async def _run_shard(self, waiting: asyncio.Queue[_Waiting]) -> None:
        while True:
            batch = [await waiting.get()]
            while len(batch) < self.max_batch and not waiting.empty():
                batch.append(waiting.get_nowait())
            try:
                outcomes = await self._write(batch)
            except asyncio.CancelledError:
                _settle(batch, [asyncio.CancelledError()] * len(batch))
                raise
            except Exception as exc:  # noqa: BLE001 - the batch failed as a whole: try each item alone
                if len(batch) > 1:
                    log.warning(
                        "group commit %s: a batch of %d failed (%s); writing each alone",
                        self.name,
                        len(batch),
                        type(exc).__name__,
                    )
                outcomes = [await self._write_alone(item) for item in batch]
            _settle(batch, outcomes)

    async def _write(self, batch: list[_Waiting]) -> list:
        started = time.perf_counter()
        async with AsyncSession(
            self.database.async_engine, expire_on_commit=False, info=self.database.session_info
        ) as session:
            try:
                outcomes = await session.run_sync(self.write_batch, [waiting.item for waiting in batch])
                await session.commit()
            except BaseException:
                await asyncio.shield(session.rollback())
                raise
        self._batch_sizes.observe(len(batch))
        self._batch_seconds.observe(time.perf_counter() - started)
        for callback in self.after_commit:
            callback()
        return outcomes

    async def _write_alone(self, waiting: _Waiting) -> object:
        try:
            return (await self._write([waiting]))[0]
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - answered to the one request it belongs to
            mapped = self.on_error(exc)
            if mapped is None and database_unavailable(exc):
                # Each waiting request hears 503 + Retry-After; no traceback per item while the database is away.
                log.warning("group commit %s: database unavailable (%s)", self.name, type(exc).__name__)
                mapped = DatabaseUnavailable(DATABASE_UNAVAILABLE_MESSAGE)
            if mapped is None:
                log.exception("group commit %s: a write failed", self.name)
            return mapped if mapped is not None else exc


def _settle(batch: list[_Waiting], outcomes: list) -> None:
    here = asyncio.get_running_loop()
    for waiting, outcome in zip(batch, outcomes, strict=True):
        loop = waiting.future.get_loop()
        if loop is here:
            _answer(waiting.future, outcome)
        else:
            loop.call_soon_threadsafe(_answer, waiting.future, outcome)


def _answer(future: asyncio.Future, outcome: object) -> None:
    if future.done():  # the request was cancelled (client gone); the write stands
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


__all__ = ["GroupCommitWriter"]
