"""Group commit: the writes of many concurrent requests share one database transaction.

A report submission is a handful of small statements and a commit.  Done one request at a time,
each needs its own connection, its own round trips and its own WAL flush, and the process spends
its time handing requests between threads.  Instead, requests hand their write to a writer
(`GroupCommitWriter`, one per kind of write); the writer takes everything that queued up while it was
busy, writes it with a few set-based statements (`write_batch`), commits once, and answers every
waiting request.  Under light load a batch is a single item and nothing waits longer than before;
under heavy load batches grow and the cost per write falls.

Shards: while one batch waits for its commit, the requests of the next one would wait idle, so the
writer runs `shards` threads, each with its own queue and transaction.  An item goes to the shard of
its `shard_key` (for reports: the indicator), so the writes of one key are never concurrent: they
keep their order and never wait for each other's row locks.

Failure isolation: `write_batch` returns, per item, its result or the `DomainError` that refused it
(a refused item writes nothing).  If the batch as a whole fails (a constraint raced by another
process, a lost connection), it is rolled back and every item is retried alone, so one item's
trouble never fails another's request; an item that fails alone gets `on_error`'s answer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from prometheus_client import Histogram
from sqlmodel import Session

from minsheng.db.engine import Database
from minsheng.errors import DomainError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

GROUP_COMMIT_BATCH = Histogram("minsheng_group_commit_batch_size", "Writes committed together in one transaction",
                               ["process", "writer"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))

# write_batch(session, items) -> one result or DomainError per item, in order; it does not commit.
BatchWrite = Callable[[Session, Sequence[Item]], list]
ErrorMapper = Callable[[Exception], DomainError | None]


@dataclass
class _Waiting:
    item: object
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


_STOP = object()


class GroupCommitWriter(Generic[Item, Result]):
    """Writer threads; `await writer.write(item, shard_key)` from the event loop returns the item's
    result or raises its DomainError.  `after_commit` callbacks run in a writer thread after each
    commit (e.g. to wake the outbox relay)."""

    def __init__(self, database: Database, write_batch: BatchWrite, *, name: str, process: str = "unknown",
                 shards: int = 2, max_batch: int = 256, on_error: ErrorMapper | None = None):
        self.database = database
        self.write_batch = write_batch
        self.name = name
        self.process = process
        self.max_batch = max_batch
        self.on_error = on_error or (lambda exc: None)
        self.after_commit: list[Callable[[], None]] = []
        self._queues: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(max(1, shards))]
        self._threads = [threading.Thread(target=self._run, args=(q,), name=f"group-commit-{name}-{i}", daemon=True)
                         for i, q in enumerate(self._queues)]
        self._started = False
        self._batch_sizes = GROUP_COMMIT_BATCH.labels(process, name)

    def start(self) -> GroupCommitWriter:
        if not self._started:
            self._started = True
            for thread in self._threads:
                thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._started:
            for q in self._queues:
                q.put(_STOP)
            for thread in self._threads:
                thread.join(timeout)
            self._started = False

    async def write(self, item: Item, shard_key: str = "") -> Result:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        # zlib.crc32, not hash(): the same key lands on the same shard in every process and run.
        self._queues[zlib.crc32(shard_key.encode()) % len(self._queues)].put(_Waiting(item, future, loop))
        return await future

    # ---- the writer thread ----------------------------------------------------------------------

    def _take_batch(self, waiting: queue.SimpleQueue) -> list[_Waiting] | None:
        first = waiting.get()
        if first is _STOP:
            return None
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                more = waiting.get_nowait()
            except queue.Empty:
                break
            if more is _STOP:
                waiting.put(_STOP)
                break
            batch.append(more)
        return batch

    def _run(self, waiting: queue.SimpleQueue) -> None:
        while (batch := self._take_batch(waiting)) is not None:
            try:
                outcomes = self._write(batch)
            except Exception as exc:  # noqa: BLE001 - the batch failed as a whole: try each item alone
                if len(batch) > 1:
                    log.warning("group commit %s: a batch of %d failed (%s); writing each alone", self.name,
                                len(batch), type(exc).__name__)
                outcomes = [self._write_alone(waiting) for waiting in batch]
            self._answer(batch, outcomes)

    def _write(self, batch: list[_Waiting]) -> list:
        with self.database.session() as session:
            try:
                outcomes = self.write_batch(session, [waiting.item for waiting in batch])
                session.commit()
            except BaseException:
                session.rollback()
                raise
        self._batch_sizes.observe(len(batch))
        for callback in self.after_commit:
            callback()
        return outcomes

    def _write_alone(self, waiting: _Waiting) -> object:
        try:
            return self._write([waiting])[0]
        except Exception as exc:  # noqa: BLE001 - answered to the one request it belongs to
            mapped = self.on_error(exc)
            if mapped is None:
                log.exception("group commit %s: a write failed", self.name)
            return mapped if mapped is not None else exc

    @staticmethod
    def _answer(batch: list[_Waiting], outcomes: list) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, object]]] = {}
        for waiting, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(waiting.loop, []).append((waiting.future, outcome))
        for loop, answers in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, answers)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass


def _settle(answers: list[tuple[asyncio.Future, object]]) -> None:
    for future, outcome in answers:
        if future.done():  # the request was cancelled (client gone); the write stands
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


__all__ = ["GroupCommitWriter"]
