"""The outbox, the relay and the consumer, over a real database and a real Kafka-protocol broker."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select

from chassis.broker import EmbeddedBroker, free_port
from chassis.tables import dead_letter, inbox_event, outbox_event
from tests.support.sample_service.definition import DEFINITION, NoteProjection
from tests.support.services import eventually
from tests.support.validators import VALID_USCC

WRITER = {"roles": ("notes",)}


def note(title: str = "招商线索", **extra: object) -> dict[str, object]:
    return {"zone_id": "zone-a", "title": title, "owner_uscc": VALID_USCC, **extra}


async def projection(svc, note_id: str) -> NoteProjection | None:  # type: ignore[no-untyped-def]
    async with svc.ctx.db.session() as s:
        return await s.get(NoteProjection, note_id)


async def test_an_event_written_with_a_state_change_is_applied_once_even_when_redelivered(service_factory, issuer):
    svc = await service_factory(DEFINITION)
    r = await svc.client.post("/notes", json=note(), headers=issuer.staff(**WRITER))
    assert r.status_code == 201, r.text
    note_id = r.json()["id"]

    applied = await eventually(lambda: projection(svc, note_id), message="projection never appeared")
    assert applied.times_applied == 1

    # Redeliver: replay the whole outbox onto the topic again; the inbox absorbs it.
    replayed = await svc.ctx.relay.replay(since=datetime.now(UTC) - timedelta(hours=1))
    assert replayed == 1
    consumer = svc.ctx.consumers[0]
    await eventually(lambda: _inbox_has_seen_twice(consumer), message="redelivery not consumed")
    assert (await projection(svc, note_id)).times_applied == 1


async def _inbox_has_seen_twice(consumer) -> bool:  # type: ignore[no-untyped-def]
    from chassis.telemetry import EVENTS_CONSUMED

    value = EVENTS_CONSUMED.labels(consumer.group, "zone.sample.note.created.v1", "duplicate")._value.get()
    return value >= 1


async def test_the_event_on_the_broker_is_a_binary_mode_cloudevent_keyed_by_aggregate(service_factory, issuer, kafka):
    svc = await service_factory(DEFINITION, consumers_enabled=False)
    r = await svc.client.post("/notes", json=note(), headers=issuer.staff(**WRITER))
    note_id = r.json()["id"]
    consumer = AIOKafkaConsumer(
        svc.settings.topic("sample"), bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), 20)
    finally:
        await consumer.stop()
    headers = {k: v.decode() for k, v in msg.headers}
    assert msg.key == note_id.encode()
    assert headers["ce_type"] == "zone.sample.note.created.v1"
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_source"] == "/zone-platform/sample"
    assert headers["ce_subject"] == note_id
    assert headers["ce_zoneid"] == "zone-a"
    assert headers["content-type"] == "application/json"
    assert headers["traceparent"].startswith("00-")
    assert {"ce_id", "ce_time"} <= headers.keys()
    assert json.loads(msg.value) == {"note_id": note_id, "zone_id": "zone-a", "title": "招商线索"}


async def test_requests_commit_while_the_broker_is_unreachable_and_every_event_arrives_once_after(
    service_factory, issuer, tmp_path
):
    # A broker of this test's own, so freezing it disturbs no other test.
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path / "broker.log").start()
    try:
        svc = await service_factory(
            DEFINITION, kafka_bootstrap_servers=broker.bootstrap_servers, relay_send_timeout_s=2.0
        )
        first = await svc.client.post("/notes", json=note("before"), headers=issuer.staff(**WRITER))
        await eventually(lambda: projection(svc, first.json()["id"]))

        broker.pause()
        ids = []
        for i in range(10):
            r = await asyncio.wait_for(
                svc.client.post("/notes", json=note(f"during outage {i}"), headers=issuer.staff(**WRITER)), 5
            )
            assert r.status_code == 201
            ids.append(r.json()["id"])
        assert await svc.ctx.relay.backlog() >= 1
        await asyncio.sleep(1.0)
        broker.resume()

        for note_id in ids:
            row = await eventually(lambda nid=note_id: projection(svc, nid), timeout_s=60)
            assert row.times_applied == 1
        await eventually(lambda: _backlog_empty(svc), timeout_s=30)
    finally:
        broker.stop()


async def _backlog_empty(svc) -> bool:  # type: ignore[no-untyped-def]
    return await svc.ctx.relay.backlog() == 0


async def test_a_restarted_embedded_broker_is_refilled_by_replaying_the_outbox(service_factory, issuer, tmp_path):
    port = free_port()
    broker = EmbeddedBroker(port=port, log_path=tmp_path / "broker.log").start()
    try:
        producer = await service_factory(DEFINITION, kafka_bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False)
        ids = []
        for i in range(5):
            r = await producer.client.post("/notes", json=note(f"n{i}"), headers=issuer.staff(**WRITER))
            ids.append(r.json()["id"])
        await eventually(lambda: _backlog_empty(producer))

        broker.stop()  # memory-only: every message is gone
        broker = EmbeddedBroker(port=port, log_path=tmp_path / "broker2.log").start()

        consumer = await service_factory(
            DEFINITION,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            relay_enabled=False,
            topic_prefix=producer.settings.topic_prefix,
        )
        replay = await producer.client.post(
            "/admin/outbox/replay",
            json={"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
            headers=issuer.admin(),
        )
        assert replay.status_code == 200, replay.text
        assert replay.json() == {"replayed": 5}
        for note_id in ids:
            row = await eventually(lambda nid=note_id: projection(consumer, nid), timeout_s=60)
            assert row.times_applied == 1
    finally:
        broker.stop()


async def test_a_handler_that_keeps_failing_dead_letters_the_event_and_the_consumer_moves_on(
    service_factory, issuer, kafka
):
    svc = await service_factory(DEFINITION, consumer_max_retries=2)
    poisoned = await svc.client.post("/notes", json=note("poison", poison=True), headers=issuer.staff(**WRITER))
    healthy = await svc.client.post("/notes", json=note("healthy"), headers=issuer.staff(**WRITER))

    await eventually(lambda: projection(svc, healthy.json()["id"]), message="consumer did not move on")

    async def dead_letters():  # type: ignore[no-untyped-def]
        async with svc.ctx.db.session() as s:
            return (await s.execute(select(dead_letter))).all()

    rows = await eventually(dead_letters)
    assert len(rows) == 1
    assert rows[0].event_id  # the poisoned note's event
    assert rows[0].attempts == 3  # the first try and two retries
    assert "cannot handle note" in rows[0].error

    # The dead-letter topic carries the message with the error in its headers.
    consumer = AIOKafkaConsumer(
        svc.ctx.consumers[0].dead_letter_topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), 20)
    finally:
        await consumer.stop()
    headers = {k: v.decode() for k, v in msg.headers}
    assert "cannot handle note" in headers["dlq_error"]
    assert headers["ce_type"] == "zone.sample.note.poisoned.v1"
    assert json.loads(msg.value)["note_id"] == poisoned.json()["id"]

    listed = await svc.client.get("/admin/dead-letters", headers=issuer.admin())
    assert listed.json()["total"] == 1


async def test_the_outbox_row_commits_or_rolls_back_with_the_state_change(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    await svc.client.post("/notes", json=note(), headers=issuer.staff(**WRITER))
    bad = await svc.client.post("/notes", json=note(zone_id="zone-b"), headers=issuer.staff(**WRITER))
    assert bad.status_code == 403
    async with svc.ctx.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(outbox_event))).scalar_one() == 1
        assert (await s.execute(select(func.count()).select_from(inbox_event))).scalar_one() == 0
