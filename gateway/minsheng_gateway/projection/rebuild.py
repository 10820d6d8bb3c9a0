"""`uv run minsheng-gateway-rebuild`: drop the gateway's read models and rebuild them from the topics.

1. The read models (and the record of processed events) are emptied and a new view generation is
   started, so the gateway's consumer group starts afresh too.
2. With `--republish`, every campaign service first writes a snapshot of its current state to its
   outbox (`POST /api/v1/events/republish`): the local broker keeps nothing on disk, so after a
   broker restart the topics alone are not the whole story.
3. Every campaign topic is read from the beginning and folded in large transactions (the events'
   ids are recorded as processed, exactly as the live consumer does), until the topics have been
   quiet for `--idle` seconds.
4. The new generation's consumer group is given the offsets reached, so the gateway, started
   afterwards, continues from there instead of reading everything again.

Stop the gateway while this runs; start it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import time

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from sqlmodel import delete

from minsheng.auth.models import Role
from minsheng.auth.principal import Principal
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.catalog.snapshot import CatalogCache
from minsheng.db import Database
from minsheng.db.migrations import upgrade_to_head
from minsheng.messaging import EventHandlers, ProcessedEvent
from minsheng.messaging.consumer import TypedEvent, parse_record
from minsheng.observability import configure_logging
from minsheng.progress.model import Thresholds
from minsheng_gateway.identity.tokens import ServiceTokenSigner
from minsheng_gateway.migration_plan import migration_plan
from minsheng_gateway.plans.scope import GatewayPlans, PlanSlot, plan_schemas
from minsheng_gateway.projection.consumer import TOPICS
from minsheng_gateway.projection.fold import view_handlers
from minsheng_gateway.projection.generation import current_generation, group_id
from minsheng_gateway.projection.models import PLAN_VIEW_MODELS, ViewGeneration
from minsheng_gateway.projection.progress import StaleProgress, refresh
from minsheng_gateway.settings import GatewaySettings

log = logging.getLogger("minsheng_gateway.rebuild")


PLAN_VIEWS = PLAN_VIEW_MODELS  # what a rebuild empties: every plan's views


def drop_read_models(database: Database) -> str:
    """Empty the views of every plan and start a new generation; returns the new generation.  The plans' catalogs
    stay (the catalog events replayed find them as they are, or correct them)."""
    with database.session() as session:
        for schema in plan_schemas(session):
            for model in PLAN_VIEWS:
                session.execute(sa.text(f"DELETE FROM {schema}.{model.__tablename__}"))
        for model in (*PLAN_VIEWS, ProcessedEvent, ViewGeneration):
            session.exec(delete(model))
        session.commit()
        return current_generation(session)


# The rebuild asks as the platform itself (account 0), with a token signed by the gateway's key.
REBUILD_PRINCIPAL = Principal(account_id=0, name="网关重建任务", role=Role.city_office)


async def request_republish(settings: GatewaySettings) -> dict[str, dict]:
    signer = ServiceTokenSigner.from_setting(settings.jwt_private_key, lifetime=settings.service_token_seconds)
    async with httpx.AsyncClient(timeout=60.0) as client:
        answers = {}
        for campaign in CAMPAIGN_CODES:
            token = signer.sign(REBUILD_PRINCIPAL, audience=campaign)
            response = await client.post(
                f"{settings.service_url(campaign)}/api/v1/events/republish",
                headers={"Authorization": f"Bearer {token}"},
            )
            response.raise_for_status()
            answers[campaign] = response.json()
        return answers


def rebuild_handlers(stale: dict[str | None, StaleProgress], plans: GatewayPlans) -> EventHandlers:
    """The live consumer's handlers, with the progress each batch made stale collected into `stale` (per plan)
    and recomputed once, in full, at the end of the rebuild rather than per batch."""

    def collect(session, batch: StaleProgress, slot: PlanSlot) -> None:  # noqa: ANN001, ARG001
        stale.setdefault(slot.code, StaleProgress()).series.update(batch.series)

    return view_handlers(collect, plans)


def fold_batch(database: Database, handlers: EventHandlers, events: list[TypedEvent]) -> int:
    """One transaction for a whole batch: processed ids and raw views.  Returns the events applied or
    skipped (new)."""
    with database.session() as session:
        outcome = handlers.apply(session, events)
        session.commit()
    return outcome.applied + outcome.skipped


def refresh_all(plans: GatewayPlans, stale: dict[str | None, StaleProgress], thresholds: Thresholds) -> int:
    count = 0
    for code, series in stale.items():
        slot = plans.slot(code)
        with slot.database.session() as session:
            count += refresh(session, series, thresholds, slot.catalog)
            session.commit()
    return count


async def campaign_partitions(bootstrap_servers: str) -> list[TopicPartition]:
    """The partitions of the campaign topics the broker has."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        topics = await admin.describe_topics()
    finally:
        await admin.close()
    return sorted(
        TopicPartition(topic["topic"], partition["partition"])
        for topic in topics
        if topic["topic"] in TOPICS and not topic["error_code"]
        for partition in topic["partitions"]
    )


async def fold_topics(
    database: Database,
    bootstrap_servers: str,
    generation: str,
    thresholds: Thresholds,
    *,
    idle: float,
    batch_size: int = 5000,
) -> tuple[int, int, float]:
    """Read every topic from the beginning; returns (records read, events applied, seconds).

    Batches are folded one after the other, each in its own transaction, while the next one is
    fetched and parsed: the database works while this process parses."""
    partitions = await campaign_partitions(bootstrap_servers)
    if not partitions:
        log.warning("no campaign topic exists on the broker yet: nothing to rebuild from")
        return 0, 0, 1e-9
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        group_id=group_id(generation),
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    read = applied = 0
    started = time.perf_counter()
    positions: dict[TopicPartition, int] = {}
    stale: dict[str | None, StaleProgress] = {}
    plans = GatewayPlans(database, CatalogCache())  # this process's own: the rebuilt database's catalogs
    handlers = rebuild_handlers(stale, plans)
    folding: asyncio.Future | None = None  # the previous batch, still being folded
    busy_until = started  # when the last batch arrived or was folded: the final quiet wait starts there

    def fold_timed(events: list[TypedEvent]) -> tuple[int, float]:
        return fold_batch(database, handlers, events), time.perf_counter()

    async def folded() -> None:
        nonlocal applied, folding, busy_until
        if folding is not None:
            batch_applied, finished = await folding
            folding = None
            applied += batch_applied
            busy_until = max(busy_until, finished)

    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while folding is not None or time.perf_counter() - busy_until < idle:
            batches = await consumer.getmany(timeout_ms=500, max_records=batch_size)
            events = []
            for tp, records in batches.items():
                positions[tp] = records[-1].offset + 1
                parsed = (parse_record(record, handlers.parser) for record in records)
                events.extend(event for event in parsed if event is not None)  # poison is logged and skipped
            if not events:
                await folded()
                continue
            read += len(events)
            busy_until = time.perf_counter()
            await folded()
            folding = asyncio.ensure_future(asyncio.to_thread(fold_timed, events))
        quiet = time.perf_counter() - busy_until  # the final wait (at least `idle`) is not folding time
        await asyncio.to_thread(refresh_all, plans, stale, thresholds)
        elapsed = time.perf_counter() - started - quiet
        if positions:
            try:  # hand the reached offsets to the new generation's group
                await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in positions.items()})
            except Exception as exc:  # noqa: BLE001 - the gateway would then re-read and skip duplicates
                log.warning("could not commit the rebuild's offsets (%s); the gateway will skip duplicates", exc)
    finally:
        if folding is not None:
            await asyncio.gather(folding, return_exceptions=True)  # never leave a transaction half-way
        await consumer.stop()
        plans.dispose()
    return read, applied, max(elapsed, 1e-9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="minsheng-gateway-rebuild", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--republish",
        action="store_true",
        help="ask every service to republish its current state first (after a broker restart)",
    )
    parser.add_argument("--idle", type=float, default=3.0, help="stop after the topics were quiet this long (s)")
    parser.add_argument("--database-url", help="default: GATEWAY_DATABASE_URL")
    args = parser.parse_args(argv)
    settings = GatewaySettings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    configure_logging(settings.log_level)
    # Folding allocates millions of short-lived objects, and the default thresholds would have the
    # collector walk the long-lived heap (modules, SQLAlchemy's metadata) over and over: about a
    # quarter of the parsing time.  The start-up heap is set aside; collections become rarer.
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    upgrade_to_head(migration_plan, settings.database_url)
    database = Database(settings.database_url)
    GatewayPlans(database, CatalogCache()).upgrade_all()
    generation = drop_read_models(database)
    log.info("read models dropped; new view generation %s", generation)
    if args.republish:
        answers = asyncio.run(request_republish(settings))
        log.info("services republished their state: %s", answers)
    read, applied, seconds = asyncio.run(
        fold_topics(
            database, settings.kafka_bootstrap_servers, generation, Thresholds.from_settings(settings), idle=args.idle
        )
    )
    print(f"rebuilt: {read} events read, {applied} applied in {seconds:.2f} s ({read / seconds:,.0f} events/s)")
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
