"""Events on the real broker: every HR event matches its published schema and is keyed by its
aggregate; headcount follows every change; no national ID number ever reaches an event, a log line
or the audit trail; and the zone coefficient arrives by the statistics service's event."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chassis.events import CloudEvent
from chassis.tables import audit_log, outbox_event
from services.hr.events import EVENTS
from services.hr.models import Staff, ZoneAssessment
from services.hr.seed import ZONES, demo_national_id
from tests.support.events import assert_matches_schema, publish
from tests.support.services import eventually

AGGREGATE_KEY = {
    "zone.hr.position.created.v1": "position_id",
    "zone.hr.position.changed.v1": "position_id",
    "zone.hr.staff.appointed.v1": "staff_id",
    "zone.hr.appointment.ended.v1": "appointment_id",
    "zone.hr.evaluation.finalized.v1": "cycle_id",
    "zone.hr.payroll.computed.v1": "payroll_id",
    "zone.hr.headcount.changed.v1": "zone_id",
}


async def read_messages(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0) -> list[Any]:
    """Every message on the topic (key, headers and value), waiting until ``expected`` arrived."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    messages: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and len(messages) < expected:
            batch = await consumer.getmany(timeout_ms=300)
            for part in batch.values():
                messages.extend(part)
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return messages


async def backlog_empty(world) -> bool:  # type: ignore[no-untyped-def]
    return await world.svc.ctx.relay.backlog() == 0


async def test_events_match_the_catalog_are_keyed_by_aggregate_and_never_carry_a_national_id(hr_factory, kafka, caplog):
    world = await hr_factory(seed_demo_data=True, consumers_enabled=False)
    # The chassis installs its own root handler when the app starts; listen on the root logger too.
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        hr = world
        department, position = await hr.department_with_position(allocation=3, posts=2)
        people = [await hr.person(n, identity) for n, identity in (("事件甲", "contract"), ("事件乙", "seconded"), ("事件丙", "civil_servant"))]
        first = await hr.appoint(people[0]["id"], position["id"])
        await hr.call("PATCH", f"/positions/{position['id']}", 200, json={"posts": 3, "title": "投资促进专员"})
        opening = await hr.call(
            "POST", "/openings", 201,
            json={"position_id": position["id"], "term_months": 24, "weights": {"written": 50, "interview": 50}},
        )
        candidate = await hr.call("POST", f"/openings/{opening['id']}/candidates", 201, json={"staff_id": people[1]["id"]})
        await hr.call("PUT", f"/openings/{opening['id']}/candidates/{candidate['id']}/scores", 200,
                      json={"scores": {"written": 80, "interview": 90}})
        await hr.call("POST", f"/openings/{opening['id']}/appoint", 201)
        await hr.call("POST", f"/openings/{opening['id']}/candidates/{candidate['id']}/accept", 201, json={"term_start": "2025-01-01"})
        cycle = await hr.call(
            "POST", "/evaluation-cycles", 201,
            json={"kind": "year", "year": 2025, "kpis": {"professional": [{"code": "output", "name": "产出", "weight": 100}]}},
        )
        await hr.call("PUT", f"/evaluation-cycles/{cycle['id']}/scores/{people[0]['id']}", 200, json={"scores": {"output": 85}})
        await hr.call("POST", f"/evaluation-cycles/{cycle['id']}/finalize", 200)
        await hr.call("POST", "/payroll/2025-01", 201)
        await hr.call("POST", f"/appointments/{first['id']}/end", 200, json={"reason": "term_end", "ended_on": "2025-12-31"})
        # Requests that fail on a national ID number must not log it either.
        duplicate = hr.national_ids[0]
        assert (await hr.client.post("/staff", json={"name": "重复", "national_id": duplicate, "identity": "seconded",
                                                     "sending_unit": "x"}, headers=hr.admin)).status_code == 409
        assert (await hr.client.post("/staff", json={"name": "无效", "national_id": "510109199001011232",
                                                     "identity": "seconded", "sending_unit": "x"}, headers=hr.admin)).status_code == 422

        await eventually(lambda: backlog_empty(world), timeout_s=30, message="outbox not drained")
        async with world.svc.ctx.db.session() as s:
            outbox_rows = (await s.execute(select(outbox_event))).all()
            audit_rows = (await s.execute(select(audit_log))).all()
        messages = await read_messages(kafka.bootstrap, world.svc.settings.topic("hr"), len(outbox_rows))
    finally:
        logging.getLogger().removeHandler(caplog.handler)

    assert len(messages) == len(outbox_rows)
    events = [CloudEvent.from_kafka(m.headers, m.value) for m in messages]
    assert {e.type for e in events} == set(AGGREGATE_KEY)
    for message, event in zip(messages, events, strict=True):
        assert_matches_schema(event, EVENTS)
        aggregate_id = event.data[AGGREGATE_KEY[event.type]]
        assert message.key.decode() == event.subject == aggregate_id, event.type
        assert event.zoneid == event.data["zone_id"]

    # Headcount follows each change; the last figures of zone-a are the final state.
    headcount = [e for e in events if e.type == "zone.hr.headcount.changed.v1" and e.zoneid == "zone-a"]
    last = headcount[-1].data
    assert (last["total_quota"], last["total_filled"], last["total_vacancies"]) == (8, 1, 7)
    assert last["departments"] == [
        {"department_id": department["id"], "code": "investment", "name": "招商部", "allocation": 3, "posts": 3,
         "filled": 1, "vacancies": 2},
    ]
    seeded_zones = {e.zoneid for e in events if e.type == "zone.hr.headcount.changed.v1"}
    assert {"cd-xingu", "tf-biotown", "zone-a"} <= seeded_zones

    # Every national ID number this service ever saw: the seeded ones and those created here.
    numbers = [demo_national_id(p.id_body) for z in ZONES for p in z.people] + hr.national_ids + ["510109199001011232"]
    assert len(numbers) >= 18
    log_lines = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert len(caplog.records) > 0
    event_texts = [m.value.decode() + repr(m.headers) for m in messages]
    trail = [json.dumps(dict(r._mapping), default=str, ensure_ascii=False) for r in audit_rows]
    for number in numbers:
        for where, texts in (("event", event_texts), ("log", log_lines), ("audit", trail)):
            leaked = [t for t in texts if number in t or number.lower() in t]
            assert not leaked, f"national ID found in {where}: {leaked[0][:200]}"


async def test_a_uniqueness_violation_cannot_echo_the_number_into_a_log(hr):
    await hr.person("原有")
    number = hr.national_ids[0]
    async with hr.svc.ctx.db.session() as s:
        original = (await s.execute(select(Staff))).scalar_one()
        clone = Staff(**{**original.model_dump(), "id": "another-id", "account": None})
        s.add(clone)
        with pytest.raises(IntegrityError) as exc:
            await s.flush()
        await s.rollback()
    assert number not in str(exc.value.orig)


async def test_the_zone_coefficient_arrives_by_the_statistics_event_and_is_recorded(hr_factory, kafka):
    world = await hr_factory(relay_enabled=False)
    hr = world
    _, position = await hr.department_with_position(allocation=3, posts=1)
    person = await hr.person("系数测试")
    await hr.appoint(person["id"], position["id"])
    cycle = await hr.call(
        "POST", "/evaluation-cycles", 201,
        json={"kind": "quarter", "year": 2025, "quarter": 3,
              "kpis": {"professional": [{"code": "output", "name": "产出", "weight": 100}]}},
    )
    await hr.call("PUT", f"/evaluation-cycles/{cycle['id']}/scores/{person['id']}", 200, json={"scores": {"output": 95}})

    assessment = CloudEvent(
        type="zone.stats.assessment.published.v1",
        source="/zone-platform/stats",
        subject="zone-a:2025",
        zoneid="zone-a",
        time=datetime.now(UTC),
        data={"zone_id": "zone-a", "year": 2025, "zone_type": "产业新城", "score": 91.5, "rank": 2, "zones_ranked": 12,
              "coefficient": 1.1, "dimensions": {"industry_development": 92, "supporting_functions": 88, "policy_delivery": 95}},
    )
    await publish(kafka.bootstrap, world.svc.settings.topic("stats"), assessment)

    async def projected() -> ZoneAssessment | None:
        async with world.svc.ctx.db.session() as s:
            return await s.get(ZoneAssessment, ("zone-a", 2025))

    row = await eventually(projected, timeout_s=30, message="assessment never projected")
    assert float(row.coefficient) == 1.1 and row.rank == 2

    final = await hr.call("POST", f"/evaluation-cycles/{cycle['id']}/finalize", 200)
    assert final["cycle"]["zone_coefficient"] == 1.1
    assert final["cycle"]["zone_coefficient_source"] == "assessment:zone-a:2025"
    [result] = final["results"]
    # 4.00 / 4 × 1.1 (zone) × 1.0 (department) × 1.2 (优秀) = 1.32
    assert (result["zone_coefficient"], result["performance_pay_wan"]) == (1.1, 1.32)
