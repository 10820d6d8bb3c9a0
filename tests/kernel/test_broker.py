"""The local broker the project starts speaks Kafka: a keyed record produced with acks=all
comes back to a consumer group member with its key, in order."""

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def test_keyed_records_round_trip_through_the_local_broker(broker):
    topic = f"test-{uuid.uuid4().hex[:8]}"

    async def scenario():
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
        await producer.start()
        try:
            for n in range(3):
                await producer.send_and_wait(topic, f"value-{n}".encode(), key=b"T002-1")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=broker.bootstrap_servers,
            group_id=f"g-{topic}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            received = []
            while len(received) < 3:
                batch = await consumer.getmany(timeout_ms=5000)
                assert batch, "no records arrived within 5 s"
                for records in batch.values():
                    received += [(r.key, r.value) for r in records]
            await consumer.commit()
        finally:
            await consumer.stop()
        return received

    received = asyncio.run(asyncio.wait_for(scenario(), timeout=60))
    assert received == [(b"T002-1", f"value-{n}".encode()) for n in range(3)]
