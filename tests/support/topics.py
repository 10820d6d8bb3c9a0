"""Reading a topic back in a test: what a producer (a service's or the gateway's relay) published."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer


async def read_topic(bootstrap_servers: str, topic: str, expected: int, timeout: float = 10.0) -> list:
    """Every record of `topic` (a group-less reader from the beginning), waiting for `expected` of them
    and then a little longer to catch any record too many."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records += batch
        for batch in (await consumer.getmany(timeout_ms=300)).values():
            records += batch
    finally:
        await consumer.stop()
    return records
