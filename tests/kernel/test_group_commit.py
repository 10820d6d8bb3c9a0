"""Group commit (minsheng.db.group_commit): concurrent writes share a transaction, yet each request
gets its own answer — its result, its refusal, or the error of its own write — and nothing of a
refused or failed write is stored."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import select

from minsheng.db import Database
from minsheng.db.group_commit import GroupCommitWriter
from minsheng.db.migrations import MigrationPlan, upgrade_to_head
from minsheng.errors import Conflict, Overloaded, Unprocessable, install_error_handlers
from minsheng.messaging import MESSAGING_BRANCH, MESSAGING_TABLES, OutboxEvent, add_events
from tests.conftest import free_port
from tests.support.consumer import value_event


@pytest.fixture
def database(make_database, tmp_path):
    url = make_database("group_commit")
    upgrade_to_head(
        MigrationPlan(
            process="group-commit-test",
            kernel_branches=(MESSAGING_BRANCH,),
            own_versions=tmp_path / "versions",
            tables=MESSAGING_TABLES,
        ),
        url,
    )
    db = Database(url)
    yield db
    db.dispose()


def write_values(session, items):
    """A batch write like the reporting ones: refuse negative values, store the others as events."""
    outcomes, accepted = [], []
    for event in items:
        if event.data["value"] < 0:
            outcomes.append(Unprocessable("数值不能为负数", code="negative_value"))
        else:
            accepted.append(("test.group-commit", event.subject, event))
            outcomes.append(event.id)
    add_events(session, accepted)
    return outcomes


def duplicate_event(exc: Exception):
    return Conflict("重复提交", code="duplicate") if isinstance(exc, IntegrityError) else None


def stored_ids(database: Database) -> set[str]:
    with database.session() as session:
        return set(session.exec(select(OutboxEvent.event_id)))


async def write_all(writer: GroupCommitWriter, events) -> list:
    runner = asyncio.create_task(writer.run())
    try:
        return await asyncio.gather(*(writer.write(e, shard_key=e.subject) for e in events), return_exceptions=True)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await writer.database.dispose_async()


def batch_sizes(writer: GroupCommitWriter) -> tuple[float, float]:
    return writer._batch_sizes._sum.get(), sum(b.get() for b in writer._batch_sizes._buckets)


def test_concurrent_writes_share_transactions_and_each_gets_its_own_answer(database):
    events = [value_event(f"T00{i % 3}-1", -1 if i == 7 else i) for i in range(1, 41)]
    writer = GroupCommitWriter(database, write_values, name="values", process="test")
    items_before, batches_before = batch_sizes(writer)
    answers = asyncio.run(write_all(writer, events))

    refused = [a for a in answers if isinstance(a, Unprocessable)]
    assert len(refused) == 1 and refused[0].code == "negative_value"
    assert [a for a in answers if not isinstance(a, Exception)] == [e.id for e in events if e.data["value"] >= 0]
    assert stored_ids(database) == {e.id for e in events if e.data["value"] >= 0}  # the refused one: nothing
    items, batches = batch_sizes(writer)
    assert items - items_before == 40 and batches - batches_before < 40  # together, not a transaction each


def test_a_write_that_fails_fails_alone(database):
    first = value_event("T001-1", 1)
    asyncio.run(write_all(GroupCommitWriter(database, write_values, name="values"), [first]))
    # The same event again (a unique event id) makes the whole batch fail; the others are retried alone.
    others = [value_event("T001-1", n) for n in range(2, 8)]
    answers = asyncio.run(
        write_all(
            GroupCommitWriter(database, write_values, name="values", on_error=duplicate_event),
            [*others[:3], first, *others[3:]],
        )
    )

    assert isinstance(answers[3], Conflict) and answers[3].code == "duplicate"
    assert answers[:3] + answers[4:] == [e.id for e in others]
    assert stored_ids(database) == {first.id} | {e.id for e in others}


def test_writes_beyond_what_may_wait_are_refused_at_once(database):
    async def scenario():
        writer = GroupCommitWriter(database, write_values, name="values", max_waiting=3)
        # The writer is not running: what is written waits, up to max_waiting.
        waiting = [asyncio.create_task(writer.write(value_event("T001-1", n))) for n in range(3)]
        await asyncio.sleep(0)
        with pytest.raises(Overloaded) as refused:
            await writer.write(value_event("T001-1", 9))
        runner = asyncio.create_task(writer.run())
        done = await asyncio.gather(*waiting)
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await database.dispose_async()
        return refused.value, done

    refused, done = asyncio.run(scenario())
    assert refused.status_code == 503 and "稍后重试" in refused.detail
    assert len(done) == 3 and len(stored_ids(database)) == 3


def test_an_exhausted_connection_pool_answers_503_with_retry_after():
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/busy")
    def busy():
        raise PoolTimeout("QueuePool limit of size 10 overflow 20 reached")

    response = TestClient(app).get("/busy")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json()["code"] == "overloaded" and "没有保存任何数据" in response.json()["detail"]


def test_a_database_that_cannot_be_reached_answers_503_with_retry_after_never_500():
    # Nothing listens on this port: every connection attempt is refused, as while PostgreSQL restarts.
    unreachable = Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")

    def write_batch(session, items):
        session.connection()  # the writer's connection to the database: refused
        return list(items)

    writer = GroupCommitWriter(unreachable, write_batch, name="unreachable")
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/read")
    def read():
        unreachable.ping()

    @app.post("/write")
    async def write():
        running = asyncio.create_task(writer.run())
        try:
            return await writer.write("a report")  # the writer's own failure, handed to the request
        finally:
            running.cancel()

    @app.post("/duplicate")
    def duplicate():
        raise IntegrityError("INSERT INTO report ...", {}, psycopg.errors.UniqueViolation("duplicate key"))

    @app.post("/violates-a-check")
    def violates_a_check():
        raise IntegrityError("INSERT INTO report ...", {}, psycopg.errors.CheckViolation("value out of range"))

    client = TestClient(app, raise_server_exceptions=False)
    for method, path in (("GET", "/read"), ("POST", "/write")):
        response = client.request(method, path)
        assert response.status_code == 503, (path, response.text)
        assert response.headers["retry-after"] == "5"
        assert response.json() == {"detail": "数据库暂时不可用，请稍后重试", "code": "database_unavailable"}
    # Any other database error is not said to be an outage: a key taken by a concurrent write is a 409
    # (`concurrent_write`), anything else still a 500 (a fault to fix, logged).
    assert client.post("/duplicate").json()["code"] == "concurrent_write"
    assert client.post("/violates-a-check").status_code == 500
    unreachable.dispose()
