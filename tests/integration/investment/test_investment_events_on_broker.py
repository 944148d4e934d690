"""Every event the investment service publishes reaches the broker keyed by project id, as a
binary-mode CloudEvent carrying the zone, with data that matches its published JSON Schema."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer

from chassis.events import CloudEvent
from services.investment.definition import DEFINITION
from services.investment.events import EVENTS
from tests.support.events import assert_matches_schema
from tests.support.services import eventually


async def read_keyed(bootstrap: str, topic: str, expect: int, timeout_s: float = 20.0) -> list[tuple[str, CloudEvent]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    out: list[tuple[str, CloudEvent]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for messages in batch.values():
                out.extend((m.key.decode(), CloudEvent.from_kafka(m.headers, m.value)) for m in messages)
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return out


async def test_every_event_type_reaches_the_broker_keyed_by_project_and_matching_its_schema(service_factory, issuer, kafka):
    svc = await service_factory(DEFINITION, consumers_enabled=False)
    staff = issuer.staff("zone-a", roles=("investment",))
    c = svc.client

    await c.post("/catalog", json={"sector_code": "ic_packaging", "sector_name": "封装测试", "min_tax_per_mu_wan": 50},
                 headers=staff)
    r = await c.post("/projects", json={"name": "封装测试基地项目", "investor": "长芯封测", "sector_code": "ic_packaging",
                                        "land_area_mu": 100}, headers=staff)
    project = r.json()["id"]
    assert (await c.patch(f"/projects/{project}", json={"agreed_investment_wan": 50000, "funding_source": "foreign",
                                                         "expected_annual_tax_wan": 6000}, headers=staff)).status_code == 200
    for stage in ("contacting", "negotiating", "signed"):
        assert (await c.post(f"/projects/{project}/transitions", json={"to_stage": stage}, headers=staff)).status_code == 200
    assert (await c.post(f"/projects/{project}/admission-check", headers=staff)).json()["passed"] is True
    assert (await c.post(f"/projects/{project}/funds", json={"period": "2026-01", "amount_wan": 300, "source": "foreign"},
                         headers=staff)).status_code == 201
    issue = (await c.post(f"/projects/{project}/issues", json={"title": "用地指标", "department": "自然资源局",
                                                               "due_date": "2099-12-31"}, headers=staff)).json()["id"]
    await c.post(f"/issues/{issue}/escalate", json={"escalated_to": "分管领导", "reason": "需区级协调"}, headers=staff)
    await c.post(f"/issues/{issue}/resolve", json={"resolution": "已调剂指标"}, headers=staff)
    other = (await c.post("/projects", json={"name": "终止项目", "investor": "某公司"}, headers=staff)).json()["id"]
    await c.post(f"/projects/{other}/transitions", json={"to_stage": "dropped", "reason": "投资方撤回"}, headers=staff)

    await eventually(lambda: _backlog_empty(svc), timeout_s=30, message="outbox not drained")
    expected = 14
    messages = await read_keyed(kafka.bootstrap, svc.settings.topic("investment"), expected)
    assert len(messages) == expected, [m[1].type for m in messages]
    assert {e.type for _, e in messages} == {t.name for t in EVENTS}
    for key, event in messages:
        assert_matches_schema(event, EVENTS)
        assert key == event.data["project_id"]
        assert event.zoneid == "zone-a" == event.data["zone_id"]
        assert event.traceparent is not None
    by_type = {e.type: e.data for _, e in messages}
    assert by_type["zone.investment.project.signed.v1"]["agreed_investment_wan"] == 50000.0
    assert by_type["zone.investment.project.signed.v1"]["funding_source"] == "foreign"
    assert by_type["zone.investment.project.dropped.v1"]["reason"] == "投资方撤回"
    changed = [e.data for _, e in messages if e.type == "zone.investment.project.stage_changed.v1"]
    assert [(d["from_stage"], d["to_stage"]) for d in changed] == [
        ("lead", "contacting"), ("contacting", "negotiating"), ("negotiating", "signed"), ("lead", "dropped"),
    ]
    assert all(d["days_in_previous_stage"] == 0 for d in changed)
    order = [e.type.split(".", 2)[2] for k, e in messages if k == project]
    assert order[:3] == ["project.created.v1", "project.updated.v1", "project.stage_changed.v1"]


async def _backlog_empty(svc) -> bool:  # type: ignore[no-untyped-def]
    return await svc.ctx.relay.backlog() == 0


def test_every_event_type_has_a_schema_with_the_contract_fields():
    required = {
        "zone.investment.project.created.v1": {"project_id", "zone_id", "name", "stage", "investor", "uscc", "chain_code",
                                               "chain_role", "agreed_investment_wan", "key_project"},
        "zone.investment.project.updated.v1": {"project_id", "zone_id", "name", "stage", "investor", "uscc", "chain_code",
                                               "chain_role", "agreed_investment_wan", "key_project"},
        "zone.investment.project.signed.v1": {"project_id", "zone_id", "name", "investor", "agreed_investment_wan",
                                              "funding_source", "signed_on", "chain_code", "key_project"},
        "zone.investment.project.stage_changed.v1": {"project_id", "zone_id", "from_stage", "to_stage", "changed_at",
                                                     "days_in_previous_stage"},
        "zone.investment.project.admission_checked.v1": {"project_id", "zone_id", "uscc", "sector_code", "passed",
                                                         "criteria", "checked_at"},
        "zone.investment.funds.recorded.v1": {"project_id", "zone_id", "period", "amount_wan", "source"},
        "zone.investment.project.dropped.v1": {"project_id", "zone_id", "reason"},
        "zone.investment.issue.raised.v1": {"issue_id", "project_id", "zone_id", "department", "due_date"},
        "zone.investment.issue.resolved.v1": {"issue_id", "project_id", "zone_id", "resolved_at"},
        "zone.investment.issue.escalated.v1": {"issue_id", "project_id", "zone_id", "escalated_to", "escalation_level"},
    }
    assert {t.name for t in EVENTS} == set(required)
    for event_type in EVENTS:
        schema = event_type.json_schema()
        assert required[event_type.name] <= set(schema["required"]), event_type.name
        assert all(p.get("description") for p in schema["properties"].values()), event_type.name
        assert event_type.aggregate == "project"
    criterion = EVENTS["zone.investment.project.admission_checked.v1"].json_schema()["$defs"]["AdmissionCriterion"]
    assert {"criterion", "required", "actual", "passed", "reason"} <= set(criterion["required"])
