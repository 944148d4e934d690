"""Event latency (commit → handled by a consumer) at a steady rate, and the relay's drain rate of
a large backlog, against a ceiling: one aiokafka producer pushing the same messages in the same run.

Targets (issue 9): p99 ≤ 250 ms at 200 events/s; drain ≥ 5,000 events/s.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from sqlalchemy import insert

from bench.common import Report, drop_postgres_database, fresh_postgres_database
from chassis.broker import EmbeddedBroker, free_port
from chassis.consumer import ConsumerSpec, EventConsumer
from chassis.db import Database
from chassis.events import CloudEvent
from chassis.kafka import Publisher, ensure_topics
from chassis.migrations import upgrade
from chassis.outbox import OutboxRelay, record_event
from chassis.tables import outbox_event
from tests.support.sample_service.definition import DEFINITION, NOTE_CREATED, NoteCreated


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


async def main(rate: int = 200, seconds: float = 10.0, backlog: int = 50_000) -> Report:
    report = Report("event-latency")
    tmp = Path(tempfile.mkdtemp(prefix="bench-events-"))
    broker = EmbeddedBroker(port=free_port(), log_path=tmp / "broker.log").start()
    pg_url = await fresh_postgres_database("events")
    url = pg_url or f"sqlite+aiosqlite:///{tmp / 'events.db'}"
    report.add("database", 0, "postgresql" if pg_url else "sqlite")
    await upgrade(DEFINITION.migrations_dir, url, DEFINITION.metadata)
    settings = DEFINITION.settings_class(
        database_url=url,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        topic_prefix=f"b{uuid.uuid4().hex[:6]}.",
        topic_partitions=3,
        relay_poll_interval_s=0.05,
        relay_batch_size=2000,
    )
    await ensure_topics(settings, [settings.topic("sample")])
    db = Database(url)
    publisher = Publisher(settings)
    relay = OutboxRelay(db, publisher, settings)
    db.session_info.update(topic_prefix=settings.topic_prefix, on_outbox_commit=relay.notify)

    latencies: list[float] = []

    async def on_created(_session, event: CloudEvent) -> None:  # type: ignore[no-untyped-def]
        latencies.append((datetime.now(UTC) - event.time).total_seconds())

    consumer = EventConsumer(
        ConsumerSpec(name="bench", services=["sample"], handlers={NOTE_CREATED.name: on_created}),
        db=db, settings=settings, publisher=publisher,
    )
    relay_task = asyncio.create_task(relay.run())
    consumer_task = asyncio.create_task(consumer.run())
    try:
        # Let the consumer join its group before measuring.
        warm = 0
        while not latencies and warm < 300:
            async with db.session() as s:
                await record_event(s, NOTE_CREATED, NoteCreated(note_id="warm", zone_id="z", title="w"), subject="warm", zone_id="z")
                await s.commit()
            await asyncio.sleep(0.1)
            warm += 1
        await asyncio.sleep(1.0)
        latencies.clear()

        total = int(rate * seconds)
        interval = 1.0 / rate
        start = time.perf_counter()
        for i in range(total):
            target = start + i * interval
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            async with db.session() as s:
                await record_event(
                    s, NOTE_CREATED, NoteCreated(note_id=f"n{i}", zone_id="z", title="t"), subject=f"n{i}", zone_id="z"
                )
                await s.commit()
        achieved = total / (time.perf_counter() - start)
        deadline = time.monotonic() + 60
        while len(latencies) < total and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        report.add("events offered", achieved, "events/s", target=f"{rate}/s")
        report.add("events handled", len(latencies), "events", ceiling=total)
        report.add("latency p50", statistics.median(latencies) * 1000, "ms")
        report.add("latency p99", percentile(latencies, 0.99) * 1000, "ms", ceiling=250, target="≤ 250 ms")

        # Drain: stop the relay, write a backlog in bulk, then time the relay emptying it.
        relay.stop()
        relay_task.cancel()
        consumer.stop()
        consumer_task.cancel()
        await asyncio.gather(relay_task, consumer_task, return_exceptions=True)
        now = datetime.now(UTC)
        payload = json.dumps({"note_id": "x", "zone_id": "z", "title": "t"})
        async with db.session() as s:
            for chunk in range(0, backlog, 5000):
                await s.execute(
                    insert(outbox_event),
                    [
                        {
                            "event_id": str(uuid.uuid4()), "topic": settings.topic("sample"), "key": f"k{i % 97}",
                            "type": NOTE_CREATED.name, "source": "/zone-platform/sample", "subject": f"k{i % 97}",
                            "zone_id": "z", "time": now, "data": payload, "created_at": now,
                        }
                        for i in range(chunk, min(backlog, chunk + 5000))
                    ],
                )
            await s.commit()
        relay2 = OutboxRelay(db, Publisher(settings), settings)
        start = time.perf_counter()
        drained = 0
        while drained < backlog:
            n = await relay2.publish_batch()
            if n == 0:
                break
            drained += n
        drain_s = time.perf_counter() - start
        await relay2.publisher.close()

        # Ceiling: one producer pushing the same number of messages of the same shape, no database.
        event = CloudEvent(type=NOTE_CREATED.name, source="/zone-platform/sample", subject="k", data={"note_id": "x"})
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all", linger_ms=2, max_batch_size=256 * 1024)
        await producer.start()
        start = time.perf_counter()
        futures = [
            await producer.send(settings.topic("sample"), event.kafka_value(), key=f"k{i % 97}".encode(), headers=event.kafka_headers())
            for i in range(backlog)
        ]
        await asyncio.gather(*futures)
        ceiling_s = time.perf_counter() - start
        await producer.stop()
        report.add(
            "relay drain", drained / drain_s, "events/s", ceiling=backlog / ceiling_s, target="≥ 5,000 events/s",
            note=f"{drained} events in {drain_s:.1f}s; ceiling = bare producer, same messages",
        )
    finally:
        await publisher.close()
        await db.dispose()
        broker.stop()
        if pg_url:
            await drop_postgres_database(pg_url)
    return report


if __name__ == "__main__":
    result = asyncio.run(main())
    print(result.write(), file=sys.stderr)
