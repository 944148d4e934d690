"""The pipeline summary's arithmetic on a known set of projects, and its zone scoping."""

from __future__ import annotations

from datetime import timedelta

from services.investment.access import today as shanghai_today


def ago(days: int) -> str:
    return (shanghai_today() - timedelta(days=days)).isoformat()


async def build(inv):  # type: ignore[no-untyped-def]
    """zone-a: a lead, a contact, a signed project and one dropped while negotiating; zone-b: a lead."""
    chain = await inv.chain()
    await inv.set_status(chain, "ic.wafer", "missing")
    await inv.set_status(chain, "ic.packaging", "weak")
    await inv.set_status(chain, "ic.design", "present")
    node = lambda code: inv.node(chain, code)["id"]  # noqa: E731

    await inv.project(name="P1", lead_on=ago(30), agreed_investment_wan=1000, node_id=node("ic.wafer"))
    p2 = await inv.project(name="P2", lead_on=ago(30), agreed_investment_wan=2000, node_id=node("ic.packaging"))
    await inv.step(p2["id"], "contacting", effective_on=ago(20))
    p3 = await inv.project(name="P3", lead_on=ago(60), agreed_investment_wan="5000.25", node_id=node("ic.design"),
                           key_project=True)
    for stage, days in (("contacting", 50), ("negotiating", 30), ("signed", 10)):
        assert (await inv.step(p3["id"], stage, effective_on=ago(days))).status_code == 200
    p4 = await inv.project(name="P4", lead_on=ago(40), agreed_investment_wan=3000)
    for stage, days in (("contacting", 36), ("negotiating", 30)):
        await inv.step(p4["id"], stage, effective_on=ago(days))
    await inv.step(p4["id"], "dropped", reason="投资方撤回", effective_on=ago(5))
    await inv.project(zone="zone-b", name="P5", agreed_investment_wan=7000)


async def test_counts_investment_conversion_and_median_days_per_stage_for_a_zone(inv):
    await build(inv)
    r = await inv.client.get("/pipeline/summary", headers=inv.staff(roles=("leader",)))
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["zone_id"] == "zone-a"
    assert (s["total_projects"], s["total_agreed_investment_wan"]) == (4, 11000.25)
    assert (s["active_projects"], s["active_agreed_investment_wan"]) == (3, 8000.25)
    stages = {x["stage"]: x for x in s["stages"]}
    assert [x["stage"] for x in s["stages"]] == [
        "lead", "contacting", "negotiating", "signed", "registered", "land_secured", "under_construction",
        "in_operation", "dropped",
    ]
    assert {k: v["count"] for k, v in stages.items() if v["count"]} == {"lead": 1, "contacting": 1, "signed": 1, "dropped": 1}
    assert stages["signed"]["agreed_investment_wan"] == 5000.25 and stages["signed"]["label"] == "签约"
    assert stages["dropped"]["agreed_investment_wan"] == 3000.0
    assert [stages[k]["reached"] for k in ("lead", "contacting", "negotiating", "signed", "registered")] == [4, 3, 2, 1, 0]
    assert (stages["lead"]["median_days"], stages["lead"]["finished_stays"]) == (10.0, 3)  # 10, 10, 4
    assert stages["contacting"]["median_days"] == 13.0  # 20, 6
    assert stages["negotiating"]["median_days"] == 22.5  # 20, 25
    assert stages["signed"]["median_days"] is None
    conversions = {(c["from_stage"], c["to_stage"]): c for c in s["conversions"]}
    assert conversions[("lead", "contacting")]["rate"] == 0.75
    assert conversions[("contacting", "negotiating")]["rate"] == 0.6667
    assert conversions[("negotiating", "signed")] == {
        "from_stage": "negotiating", "to_stage": "signed", "reached_from": 2, "reached_to": 1, "rate": 0.5,
    }
    assert conversions[("signed", "registered")]["rate"] == 0.0
    assert conversions[("registered", "land_secured")]["rate"] is None
    assert s["by_chain"] == [
        {"key": "ic", "label": "产业链 ic", "count": 3, "agreed_investment_wan": 8000.25,
         "by_stage": {"lead": 1, "contacting": 1, "signed": 1}},
        {"key": None, "label": "未归属产业链", "count": 1, "agreed_investment_wan": 3000.0, "by_stage": {"dropped": 1}},
    ]
    assert [(g["key"], g["count"], g["agreed_investment_wan"]) for g in s["by_chain_role"]] == [
        ("强链", 1, 2000.0), ("扩链", 1, 5000.25), ("补链", 1, 1000.0), (None, 1, 3000.0),
    ]


async def test_city_level_users_see_every_zone_or_one_and_filters_narrow_the_summary(inv):
    await build(inv)
    everything = (await inv.client.get("/pipeline/summary", headers=inv.leader())).json()
    assert everything["zone_id"] is None and everything["total_projects"] == 5
    assert everything["stages"][0]["count"] == 2  # P1 and P5 are leads
    zone_b = (await inv.client.get("/pipeline/summary?zone_id=zone-b", headers=inv.leader())).json()
    assert (zone_b["zone_id"], zone_b["total_projects"], zone_b["total_agreed_investment_wan"]) == ("zone-b", 1, 7000.0)
    ic = (await inv.client.get("/pipeline/summary?chain_code=ic", headers=inv.leader())).json()
    assert ic["total_projects"] == 3 and ic["filters"] == {"chain_code": "ic"}
    fill = (await inv.client.get("/pipeline/summary?chain_role=补链", headers=inv.leader())).json()
    assert fill["total_projects"] == 1
    key = (await inv.client.get("/pipeline/summary?key_project=true", headers=inv.leader())).json()
    assert key["total_projects"] == 1 and key["stages"][3]["count"] == 1
    assert (await inv.client.get("/pipeline/summary?zone_id=zone-b", headers=inv.staff(roles=("leader",)))).status_code == 403


async def test_an_empty_zone_has_zero_counts_and_no_rates(inv):
    s = (await inv.client.get("/pipeline/summary", headers=inv.staff())).json()
    assert s["total_projects"] == 0 and s["total_agreed_investment_wan"] == 0.0
    assert all(x["count"] == 0 and x["median_days"] is None for x in s["stages"])
    assert all(c["rate"] is None for c in s["conversions"])
    assert s["by_chain"] == [] and s["by_chain_role"] == []
