"""Several replicas of a service each run an outbox relay on one PostgreSQL database: every event is
published, and one aggregate's events reach the topic in the order they were committed.

The backlog is many batches long, which is when two relays used to have two batches in flight at
once (each claimed its own rows with SKIP LOCKED) and a later batch could be acknowledged first.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import insert

from chassis.kafka import Publisher
from chassis.outbox import OutboxRelay
from chassis.tables import outbox_event
from tests.support.sample_service.definition import DEFINITION

AGGREGATES = 8
EVENTS_PER_AGGREGATE = 60  # 480 events in batches of 10: 48 batches
BATCH = 10


async def test_relays_on_several_replicas_publish_every_event_once_in_commit_order_per_aggregate(
    service_factory, databases, kafka
):
    if not databases.is_postgres:
        pytest.skip("several relays on one database is a PostgreSQL deployment (SQLite runs one process)")
    # Three replicas on one database; their own relays off while the backlog is written.
    first = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False, relay_batch_size=BATCH)
    replicas = [first] + [
        await service_factory(
            DEFINITION, database_url=first.settings.database_url, topic_prefix=first.settings.topic_prefix,
            relay_enabled=False, consumers_enabled=False, relay_batch_size=BATCH,
        )
        for _ in range(2)
    ]
    topic = first.settings.topic("sample")
    now = datetime.now(UTC)
    rows = [
        {
            "event_id": str(uuid.uuid4()), "topic": topic, "key": f"note-{a}", "type": "zone.sample.note.created.v1",
            "source": "/zone-platform/sample", "subject": f"note-{a}", "zone_id": "zone-a", "time": now,
            "data": json.dumps({"note_id": f"note-{a}", "zone_id": "zone-a", "title": f"{n}"}), "created_at": now,
        }
        for n in range(EVENTS_PER_AGGREGATE)
        for a in range(AGGREGATES)
    ]
    async with first.ctx.db.session() as session:
        await session.execute(insert(outbox_event), rows)
        await session.commit()

    relays = [OutboxRelay(r.ctx.db, Publisher(r.settings), r.settings) for r in replicas]
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    seen: dict[str, list[int]] = defaultdict(list)
    ids: set[str] = set()
    try:
        deadline = time.monotonic() + 90
        while len(ids) < len(rows) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for message in batch:
                    headers = {k: v.decode() for k, v in message.headers}
                    if headers["ce_id"] in ids:
                        continue  # at least once: a redelivered event is not an ordering fault
                    ids.add(headers["ce_id"])
                    assert message.key is not None
                    seen[message.key.decode()].append(int(json.loads(message.value)["title"]))
    finally:
        await consumer.stop()
        for relay in relays:
            relay.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for relay in relays:
            await relay.publisher.close()

    assert len(ids) == len(rows), f"published {len(ids)} of {len(rows)}"
    for key, order in seen.items():
        assert order == sorted(order), f"{key} arrived out of order: {order}"
    assert await first.ctx.relay.backlog() == 0
    assert sum(1 for relay in relays if relay.published_total) >= 1
