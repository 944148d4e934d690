"""Who may do what: an enterprise files and reads only its own reports; statistics staff review in
their own zone; stats-admin manages indicators, rules, targets, closing and assessments; leaders
read summaries; every change is audited."""

from __future__ import annotations

from sqlalchemy import select

from chassis.tables import audit_log
from tests.integration.stats.stats_support import (
    BIOTECH,
    BIOTOWN,
    CHIP_DESIGN,
    PACKAGING,
    XINGU,
    file_and_accept,
    monthly,
)


async def test_an_enterprise_files_only_for_its_own_uscc(stats, people):
    r = await stats.client.post("/reports", json=monthly(uscc=PACKAGING), headers=people.enterprise(CHIP_DESIGN))
    assert r.status_code == 403
    assert r.json()["errors"][0]["field"] == "uscc"


async def test_an_enterprise_cannot_read_or_refile_anothers_report(stats, people):
    filed = (await stats.client.post("/reports", json=monthly(), headers=people.enterprise())).json()
    url = f"/reports/{filed['id']}"
    assert (await stats.client.get(url, headers=people.enterprise(CHIP_DESIGN))).status_code == 200
    assert (await stats.client.get(url, headers=people.enterprise(PACKAGING))).status_code == 404
    resubmit = await stats.client.post(f"{url}/resubmit", json={"values": monthly()["values"]}, headers=people.enterprise(PACKAGING))
    assert resubmit.status_code == 404


async def test_an_enterprise_cannot_review_or_read_summaries(stats, people):
    filed = (await stats.client.post("/reports", json=monthly(), headers=people.enterprise())).json()
    assert (await stats.client.post(f"/reports/{filed['id']}/accept", headers=people.enterprise())).status_code == 403
    assert (await stats.client.get(f"/zones/{XINGU}/summary?period=2026-10", headers=people.enterprise())).status_code == 403
    assert (await stats.client.post("/periods/2026-10/close", headers=people.enterprise())).status_code == 403


async def test_statistics_staff_review_only_their_own_zone(stats, people):
    filed = (await stats.client.post("/reports", json=monthly(), headers=people.enterprise())).json()
    other_zone = await stats.client.post(f"/reports/{filed['id']}/accept", headers=people.officer(BIOTOWN))
    assert other_zone.status_code == 404  # another zone's report looks like none
    listed = await stats.client.get("/reports", headers=people.officer(BIOTOWN))
    assert listed.json()["total"] == 0
    asked = await stats.client.get("/reports", params={"zone_id": XINGU}, headers=people.officer(BIOTOWN))
    assert asked.status_code == 403
    # City-level statistics staff review across zones.
    city = await stats.client.post(f"/reports/{filed['id']}/accept", headers=people.staff(None, "stats"))
    assert city.status_code == 200


async def test_staff_without_the_statistics_role_cannot_review(stats, people):
    filed = (await stats.client.post("/reports", json=monthly(), headers=people.enterprise())).json()
    for headers in (people.leader(), people.staff(XINGU, "investment"), people.staff(XINGU)):
        r = await stats.client.post(f"/reports/{filed['id']}/accept", headers=headers)
        assert r.status_code == 403, headers
    assert (await stats.client.get("/reports", headers=people.staff(XINGU, "investment"))).status_code == 403


async def test_only_stats_admin_manages_the_indicator_system_targets_closing_and_assessments(stats, people):
    rule = {"indicator_code": "employees", "kind": "required"}
    target = {"zone_id": XINGU, "year": 2026, "indicator_code": "total_tax", "target_value": 8500}
    for headers in (people.officer(), people.leader(), people.enterprise()):
        assert (await stats.client.post("/rules", json=rule, headers=headers)).status_code == 403
        assert (await stats.client.post("/targets", json=target, headers=headers)).status_code == 403
        assert (await stats.client.post("/periods/2026-10/close", headers=headers)).status_code == 403
        assert (await stats.client.post("/assessments/2026", headers=headers)).status_code == 403
    # The indicator system and its rules are city-wide: a zone's stats-admin may not change them.
    assert (await stats.client.post("/rules", json=rule, headers=people.stats_admin(XINGU))).status_code == 403
    assert (await stats.client.post("/rules", json=rule, headers=people.stats_admin(None))).status_code == 201
    assert (await stats.client.post("/targets", json=target, headers=people.stats_admin())).status_code == 201
    # A zone's stats-admin sets targets and closes periods only in its zone, and cannot run the city's assessment.
    foreign = await stats.client.post("/targets", json={**target, "zone_id": BIOTOWN}, headers=people.stats_admin(XINGU))
    assert foreign.status_code == 403
    other = await stats.client.post("/periods/2026-10/close", json={"zone_id": BIOTOWN}, headers=people.stats_admin(XINGU))
    assert other.status_code == 403
    assert (await stats.client.post("/assessments/2026", headers=people.stats_admin(XINGU))).status_code == 403
    city = await stats.client.post("/periods/2026-10/close", headers=people.stats_admin(None))
    assert city.status_code == 400 and city.json()["errors"][0]["field"] == "zone_id"


async def test_leaders_read_summaries_of_their_zone_and_city_leaders_of_every_zone(stats, people):
    await file_and_accept(stats, people, monthly())
    assert (await stats.client.get(f"/zones/{XINGU}/summary?period=2026-10", headers=people.leader())).status_code == 200
    assert (await stats.client.get(f"/zones/{BIOTOWN}/summary?period=2026-10", headers=people.leader())).status_code == 403
    assert (await stats.client.get(f"/zones/{BIOTOWN}/summary?period=2026-10", headers=people.leader(None))).status_code == 200
    unknown = await stats.client.get("/zones/nowhere/summary?period=2026-10", headers=people.leader(None))
    assert unknown.status_code == 404
    assert (await stats.client.get(f"/zones/{XINGU}/summary?period=2026-10")).status_code == 401


async def test_changes_are_audited_with_who_and_what(stats, people):
    accepted = await file_and_accept(stats, people, monthly(uscc=BIOTECH, zone=BIOTOWN))
    await stats.client.post(
        "/targets", json={"zone_id": BIOTOWN, "year": 2026, "indicator_code": "total_tax", "target_value": 7000}, headers=people.stats_admin(BIOTOWN)
    )
    await stats.client.post(
        "/targets", json={"zone_id": BIOTOWN, "year": 2026, "indicator_code": "total_tax", "target_value": 7200}, headers=people.stats_admin(BIOTOWN)
    )
    async with stats.ctx.db.session() as s:
        rows = (await s.execute(select(audit_log).order_by(audit_log.c.id))).all()
    assert [(r.action, r.actor, r.zone_id) for r in rows] == [
        ("report.submit", f"ent-{BIOTECH}", BIOTOWN),
        ("report.accept", "tf-biotown.stats", BIOTOWN),
        ("target.set", "tf-biotown.stats-admin", BIOTOWN),
        ("target.set", "tf-biotown.stats-admin", BIOTOWN),
    ]
    assert rows[1].entity_id == accepted["id"]
    assert rows[3].before["target_value"] == 7000 and rows[3].after["target_value"] == 7200
    trail = await stats.client.get("/audit", params={"entity_type": "target"}, headers=people.staff(BIOTOWN, "auditor"))
    assert trail.json()["total"] == 2
