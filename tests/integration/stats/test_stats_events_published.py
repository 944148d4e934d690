"""Events the service publishes on zone.stats, read back from the real broker and checked against
their JSON Schemas: the report lifecycle, period closing, and the yearly assessment."""

from __future__ import annotations

from services.stats.events import EVENTS
from tests.integration.stats.stats_support import (
    BIOTECH,
    BIOTOWN,
    PACKAGING,
    XINGU,
    file_and_accept,
    monthly,
    start_stats,
)
from tests.support.events import assert_matches_schema, read_all


def test_every_published_event_type_has_a_json_schema_with_described_fields():
    names = {e.name for e in EVENTS}
    assert names == {
        "zone.stats.report.submitted.v1",
        "zone.stats.report.accepted.v1",
        "zone.stats.report.returned.v1",
        "zone.stats.report.revised.v1",
        "zone.stats.period.closed.v1",
        "zone.stats.assessment.published.v1",
    }
    for event_type in EVENTS:
        schema = event_type.json_schema()
        assert schema["$schema"].startswith("https://json-schema.org/")
        assert "zone_id" in schema["required"]
        assert all(prop.get("description") for prop in schema["properties"].values()), event_type.name


async def test_the_report_lifecycle_and_period_closing_reach_the_broker_matching_their_schemas(service_factory, people, kafka):
    svc = await start_stats(service_factory, relay_enabled=True)
    filed = (await svc.client.post("/reports", json=monthly(), headers=people.enterprise())).json()
    await svc.client.post(f"/reports/{filed['id']}/return", json={"reasons": [{"indicator_code": "total_tax", "reason": "请核实"}]}, headers=people.officer())
    await svc.client.post(f"/reports/{filed['id']}/resubmit", json={"values": monthly(total_tax=480)["values"]}, headers=people.enterprise())
    await svc.client.post(f"/reports/{filed['id']}/accept", headers=people.officer())
    await svc.client.post("/periods/2026-10/close", headers=people.stats_admin())
    revised = await svc.client.post(f"/reports/{filed['id']}/revise", json={"values": {"total_tax": 470}, "reason": "更正"}, headers=people.officer())
    assert revised.status_code == 201, revised.text

    events = await read_all(kafka.bootstrap, svc.settings.topic("stats"), expect_at_least=6)
    assert [e.type for e in events] == [
        "zone.stats.report.submitted.v1",
        "zone.stats.report.returned.v1",
        "zone.stats.report.submitted.v1",
        "zone.stats.report.accepted.v1",
        "zone.stats.period.closed.v1",
        "zone.stats.report.revised.v1",
    ]
    for event in events:
        assert_matches_schema(event, EVENTS)
        assert event.zoneid == XINGU and event.data["zone_id"] == XINGU
    submitted, returned, resubmitted, accepted, closed, revision = events
    assert submitted.subject == filed["id"] and submitted.data["resubmission"] is False
    assert returned.data["reasons"] == [{"indicator_code": "total_tax", "reason": "请核实"}]
    assert (resubmitted.data["version"], resubmitted.data["resubmission"]) == (2, True)
    assert accepted.data["values"]["total_tax"] == 480
    assert closed.subject == f"{XINGU}:2026-10" and closed.data["reports_accepted"] == 1
    assert revision.data["changes"] == [{"indicator_code": "total_tax", "before": 480.0, "after": 470.0}]
    assert revision.data["period_closed"] is True and revision.data["reason"] == "更正"


async def test_the_assessment_ranks_every_zone_by_its_type_weights_and_publishes_one_event_per_zone(service_factory, people, kafka):
    svc = await start_stats(service_factory, relay_enabled=True)
    # cd-xingu meets its tax target; tf-biotown reaches half of it; the street and the town have no data.
    await file_and_accept(svc, people, monthly(period="2026-03", total_tax=800, main_business_revenue=9000))
    await file_and_accept(svc, people, monthly(period="2026-03", uscc=BIOTECH, zone=BIOTOWN, total_tax=400, main_business_revenue=9000))
    for zone, headers in ((XINGU, people.stats_admin(XINGU)), (BIOTOWN, people.stats_admin(BIOTOWN))):
        r = await svc.client.post("/targets", json={"zone_id": zone, "year": 2026, "indicator_code": "total_tax", "target_value": 800}, headers=headers)
        assert r.status_code == 201
    await svc.client.post(f"/zones/{XINGU}/values", json={"period": "2026-Q1", "values": {"building_occupancy_rate": 80}}, headers=people.officer())
    await svc.client.post(f"/zones/{BIOTOWN}/values", json={"period": "2026-Q1", "values": {"building_occupancy_rate": 60}}, headers=people.officer(BIOTOWN))

    r = await svc.client.post("/assessments/2026", headers=people.stats_admin(None))
    assert r.status_code == 201, r.text
    result = r.json()
    ranking = [(z["zone_id"], z["rank"], z["coefficient"]) for z in result["zones"]]
    # xingu: industry (output 100 vs the best zone, tax 100 vs target) 100, supporting 100 → 0.6×100 + 0.2×100 = 80;
    # biotown: industry (100, 50) 75, supporting 60/80 = 75 → 60; the two without data share third place.
    assert ranking == [(XINGU, 1, 1.2), (BIOTOWN, 2, 1.067), ("ar-town", 3, 0.933), ("jj-chunxi", 3, 0.933)]
    assert [z["score"] for z in result["zones"]] == [80.0, 60.0, 0.0, 0.0]
    xingu = result["zones"][0]
    assert xingu["zone_name"] == "成都芯谷" and xingu["weights"] == {"industry_development": 0.6, "supporting_functions": 0.2, "policy_delivery": 0.2}
    tax = next(i for i in xingu["indicators"] if i["code"] == "total_tax")
    assert (tax["basis"], tax["score"]) == ("target", 100.0)
    assert "0.8" in result["coefficient_rule"] and "1.2" in result["coefficient_rule"]
    biotown = result["zones"][1]
    assert biotown["dimensions"]["supporting_functions"] == 75.0  # 60 against the best zone's 80

    events = await read_all(kafka.bootstrap, svc.settings.topic("stats"), expect_at_least=8)
    published = [e for e in events if e.type == "zone.stats.assessment.published.v1"]
    assert len(published) == 4
    for event in published:
        assert_matches_schema(event, EVENTS)
        assert event.subject == f"{event.data['zone_id']}:2026"
        assert event.data["zones_ranked"] == 4
    by_zone = {e.data["zone_id"]: e.data for e in published}
    assert by_zone[XINGU]["rank"] == 1 and by_zone[XINGU]["coefficient"] == 1.2 and by_zone[XINGU]["zone_type"] == "产业新城"
    assert by_zone["jj-chunxi"]["zone_type"] == "特色街区"
    assert set(by_zone[XINGU]["dimensions"]) == {"industry_development", "supporting_functions", "policy_delivery"}

    read = await svc.client.get("/assessments/2026", headers=people.staff(BIOTOWN, "hr-admin"))
    assert read.status_code == 200 and [z["zone_id"] for z in read.json()["zones"]][:2] == [XINGU, BIOTOWN]
    assert (await svc.client.get("/assessments/2025", headers=people.leader())).status_code == 404
    assert (await svc.client.get("/assessments/2026", headers=people.enterprise(PACKAGING))).status_code == 403
