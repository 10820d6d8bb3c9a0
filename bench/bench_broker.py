"""The local broker's cost as its topic grows (a reference, no target): what (b) is measured on.

Tansu (the Kafka-protocol broker of local runs and tests, `minsheng.broker`, memory storage) alone: a
producer sends 1 KB records at a steady rate into one topic, keyed like the outboxes' events; one
consumer-group member reads them as the gateway does (`getmany`, 20 ms fetch wait, offsets committed
after each poll).  Every 10 s: the broker process's CPU and the records' end-to-end latency (record
timestamp → consumer).  On 2026-11-27, 600 records/s: the broker's CPU grew with the topic's length,
0.27 cores at 6,000 records to a whole core at 24,000, and the records' p99 from 16 to 442 ms by
54,000 — with or without the offset commits.  Apache Kafka, which production runs, reads a fetch's
position from its segment index, whatever the log's length; benchmark (b)'s later seconds measure
this broker as much as the platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

from bench.infra import BenchResult, Outcome, print_table, start_broker

TICK = os.sysconf("SC_CLK_TCK")
RECORD = b"{" + b'"x":"' + b"y" * 1000 + b'"}'


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115 - one read
    return (int(fields[11]) + int(fields[12])) / TICK


async def _measure(bootstrap: str, pid: int, rate: int, duration: float, step: float) -> list[dict]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    await producer.send_and_wait("bench-broker", RECORD)
    consumer = AIOKafkaConsumer(
        "bench-broker",
        bootstrap_servers=bootstrap,
        group_id="bench-broker",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    latencies: list[float] = []
    done = asyncio.Event()

    async def consume() -> None:
        while not done.is_set():  # stopped between polls: a commit cut short would fail at shutdown
            batch = await consumer.getmany(timeout_ms=100, max_records=500)
            now = time.time()
            offsets = {}
            for partition, records in batch.items():
                latencies.extend(now - record.timestamp / 1000 for record in records)
                if records:
                    offsets[partition] = records[-1].offset + 1
            if offsets:
                await consumer.commit(offsets)

    reader = asyncio.create_task(consume())
    rows: list[dict] = []
    try:
        started = window_started = time.monotonic()
        cpu_before, sent = _cpu_seconds(pid), 0
        while (elapsed := time.monotonic() - started) < duration:
            while sent < int(elapsed * rate):
                await producer.send("bench-broker", RECORD, key=str(sent % 50).encode())
                sent += 1
            await asyncio.sleep(0.005)
            if time.monotonic() - window_started >= step:
                cpu_now, now = _cpu_seconds(pid), time.monotonic()
                ordered, latencies[:] = sorted(latencies), []
                rows.append(
                    {
                        "at_s": round(now - started),
                        "records": sent,
                        "broker_cores": round((cpu_now - cpu_before) / (now - window_started), 2),
                        "p50_ms": round(ordered[len(ordered) // 2] * 1000) if ordered else None,
                        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000) if ordered else None,
                    }
                )
                cpu_before, window_started = cpu_now, now
    finally:
        done.set()
        await reader
        await producer.stop()
        await consumer.stop()
    return rows


def run(quick: bool, client: str = "raw") -> BenchResult:  # noqa: ARG001 - the common signature
    rate, duration, step = (600, 20.0, 5.0) if quick else (600, 60.0, 10.0)
    print(
        f"broker: Tansu alone, {rate} records/s of 1 KB into one topic for {duration:.0f} s, one consumer", flush=True
    )
    with contextlib.ExitStack() as stack:
        broker = start_broker(stack)
        rows = asyncio.run(_measure(broker.bootstrap_servers, broker.process.pid, rate, duration, step))
    print_table(
        ["at s", "records in topic", "broker cores", "end-to-end p50 ms", "p99 ms"],
        [[r["at_s"], f"{r['records']:,}", r["broker_cores"], r["p50_ms"], r["p99_ms"]] for r in rows],
    )
    print()
    result = BenchResult("broker", data={"rate": rate, "windows": rows})
    first, last = rows[0], rows[-1]
    result.outcomes.append(
        Outcome(
            "broker: Tansu CPU as its topic grows",
            f"{first['broker_cores']} cores at {first['records']:,} records → {last['broker_cores']} at "
            f"{last['records']:,} ({rate}/s); p99 {first['p99_ms']} → {last['p99_ms']} ms",
            "—",
            None,
            reference=True,
        )
    )
    return result
