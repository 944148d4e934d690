"""Putting events on, and reading them off, the real broker in tests.

- :func:`publish` sends a CloudEvent (binary mode) to a topic, as another service's relay would;
  use it to feed a consumer the events of a service that is not running in the test.
- :func:`read_all` reads every message currently on a topic, as CloudEvents.
- :func:`assert_matches_schema` checks an event's data against its catalog's JSON Schema.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jsonschema
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from chassis.events import CloudEvent, EventCatalog
from tests.support.pii_plugin import note_sent_by_test


async def publish(bootstrap: str, topic: str, event: CloudEvent, key: str | None = None) -> None:
    note_sent_by_test(event.id)  # the personal-data scan counts only what the platform emits
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, event.kafka_value(), key=(key or event.subject or event.id).encode(), headers=event.kafka_headers()
        )
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str, *, expect_at_least: int = 1, timeout_s: float = 20.0) -> list[CloudEvent]:
    """Every event on ``topic`` from the beginning; waits until at least ``expect_at_least`` arrived."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    events: list[CloudEvent] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for messages in batch.values():
                events.extend(CloudEvent.from_kafka(m.headers, m.value) for m in messages)
            if len(events) >= expect_at_least and not batch:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return events


def assert_matches_schema(event: CloudEvent, catalog: EventCatalog) -> None:
    assert event.type in catalog, f"{event.type} is not in the {catalog.service} catalog"
    schema: dict[str, Any] = catalog[event.type].json_schema()
    jsonschema.validate(event.data, schema)
    assert event.source == catalog.source
    assert event.specversion == "1.0"
