"""The directory of zones: stored, validated, and published on topic zone.platform for every service's projection."""

from __future__ import annotations

from sqlalchemy import func, select

from chassis.tables import outbox_event
from gateway.events import EVENTS
from gateway.models import Account, Zone
from tests.support.events import assert_matches_schema, read_all

BIOTOWN = {
    "zone_id": "tf-biotown", "name": "天府国际生物城", "type": "产业新城", "district": "高新区",
    "partners": [{"district": "高新区", "share_percent": 70}, {"district": "双流区", "share_percent": 30}],
}


async def count(gw, table) -> int:  # type: ignore[no-untyped-def]
    async with gw.state.ctx.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_co_built_zone_and_its_changes_are_published_with_the_contracted_data(gateway_factory, kafka):
    gw = await gateway_factory(relay_enabled=True)
    admin = await gw.admin()
    created = await gw.client.post("/admin/zones", json=BIOTOWN, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["co_built"] is True
    changed = await gw.client.put("/admin/zones/tf-biotown", headers=admin, json={
        **{k: v for k, v in BIOTOWN.items() if k != "zone_id"},
        "partners": [{"district": "高新区", "share_percent": 60}, {"district": "双流区", "share_percent": 40}],
    })
    assert changed.status_code == 200
    events = await read_all(kafka.bootstrap, gw.settings.topic("platform"), expect_at_least=2)
    assert [e.type for e in events] == ["zone.platform.zone.created.v1", "zone.platform.zone.changed.v1"]
    for event in events:
        assert_matches_schema(event, EVENTS)
        assert event.subject == "tf-biotown" and event.zoneid == "tf-biotown"
    assert events[0].data == {
        "zone_id": "tf-biotown", "name": "天府国际生物城", "type": "产业新城", "district": "高新区",
        "partners": [{"district": "高新区", "share_percent": 70.0}, {"district": "双流区", "share_percent": 30.0}],
        "active": True,
    }
    assert events[1].data["partners"][0]["share_percent"] == 60.0


async def test_shares_that_do_not_add_up_to_100_are_refused_and_nothing_is_written(gateway_factory):
    gw = await gateway_factory()
    body = {**BIOTOWN, "partners": [{"district": "高新区", "share_percent": 70}, {"district": "双流区", "share_percent": 20}]}
    r = await gw.client.post("/admin/zones", json=body, headers=await gw.admin())
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert errors["partners"]["code"] == "shares_not_100" and "90%" in errors["partners"]["message"]
    too_precise = {**BIOTOWN, "partners": [{"district": "高新区", "share_percent": 69.999}, {"district": "双流区", "share_percent": 30.001}]}
    r = await gw.client.post("/admin/zones", json=too_precise, headers=await gw.admin())
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("partners.0.share_percent")
    assert await count(gw, Zone.__table__) == 0
    assert await count(gw, outbox_event) == 0


async def test_the_same_shares_refused_on_a_change_leave_the_zone_as_it_was(gateway_factory):
    gw = await gateway_factory()
    await gw.create_zone("tf-biotown", **{k: v for k, v in BIOTOWN.items() if k != "zone_id"})
    bad = {**{k: v for k, v in BIOTOWN.items() if k != "zone_id"},
           "partners": [{"district": "高新区", "share_percent": 80}, {"district": "双流区", "share_percent": 30}]}
    r = await gw.client.put("/admin/zones/tf-biotown", json=bad, headers=await gw.admin())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "partners"
    zone = (await gw.client.get("/api/zones/tf-biotown")).json()
    assert [p["share_percent"] for p in zone["partners"]] == [70.0, 30.0]
    assert await count(gw, outbox_event) == 1  # only the creation


async def test_an_unchanged_update_publishes_nothing_and_a_deactivation_does(gateway_factory):
    gw = await gateway_factory()
    await gw.create_zone("jj-chunxi", name="春熙路时尚活力区", type="特色街区", district="锦江区")
    same = {"name": "春熙路时尚活力区", "type": "特色街区", "district": "锦江区"}
    assert (await gw.client.put("/admin/zones/jj-chunxi", json=same, headers=await gw.admin())).status_code == 200
    assert await count(gw, outbox_event) == 1
    off = await gw.client.put("/admin/zones/jj-chunxi", json={**same, "active": False}, headers=await gw.admin())
    assert off.json()["active"] is False
    assert await count(gw, outbox_event) == 2
    missing = await gw.client.put("/admin/zones/nowhere", json=same, headers=await gw.admin())
    assert missing.status_code == 404


async def test_the_directory_is_public_filterable_and_paginated(gateway_factory):
    gw = await gateway_factory()
    await gw.create_zone("cd-xingu", name="成都芯谷")
    await gw.create_zone("ar-town", name="安仁文博小镇", type="特色小镇", district="大邑县")
    everything = await gw.client.get("/api/zones")
    assert everything.status_code == 200 and everything.json()["total"] == 2
    towns = await gw.client.get("/api/zones", params={"type": "特色小镇"})
    assert [z["zone_id"] for z in towns.json()["items"]] == ["ar-town"]
    assert (await gw.client.get("/api/zones", params={"type": "开发区"})).status_code == 422
    duplicate = await gw.client.post("/admin/zones", headers=await gw.admin(),
                                     json={"zone_id": "cd-xingu", "name": "x", "type": "产业新城", "district": "x"})
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "zone_id"


async def test_demo_mode_seeds_the_demo_zones_accounts_and_client_and_writes_them_down(gateway_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("ZONE_VAR_DIR", str(tmp_path))
    gw = await gateway_factory(seed_demo_data=True, demo_password="Demo@2025")
    zones = (await gw.client.get("/api/zones")).json()["items"]
    assert {z["zone_id"]: z["type"] for z in zones} == {
        "cd-xingu": "产业新城", "tf-biotown": "产业新城", "jj-chunxi": "特色街区", "ar-town": "特色小镇",
    }
    biotown = next(z for z in zones if z["zone_id"] == "tf-biotown")
    assert biotown["partners"] == [{"district": "高新区", "share_percent": 70.0}, {"district": "双流区", "share_percent": 30.0}]
    async with gw.state.ctx.db.session() as s:
        usernames = set((await s.execute(select(Account.username))).scalars().all())
    assert {"xingu.investment", "xingu.approvals", "xingu.hr", "xingu.stats", "xingu.leader", "xingu.planning",
            "biotown.approvals", "city.leader", "city.stats", "auditor", "admin", "credit-platform"} <= usernames
    # The planning department's liaison: the HR department code as its dept claim, which is what lets it
    # report on (acknowledge) the coordination issues addressed to planning; no role beyond that.
    planning = (await gw.client.get("/auth/me", headers=await gw.headers("xingu.planning", "Demo@2025"))).json()
    assert (planning["kind"], planning["zone"], planning["dept"], planning["roles"]) == ("staff", "cd-xingu", "planning", [])
    assert {"xingu.jicheng", "tianfu.shengwu", "rongxin.fengce", "shuangliu.jingmi"} <= usernames
    enterprise = await gw.client.get("/auth/me", headers=await gw.headers("tianfu.shengwu", "Demo@2025"))
    assert enterprise.json()["uscc"] == "91510116MA68N7WB32"
    client = await gw.client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": "credit-platform",
                                                       "client_secret": "Demo@2025"})
    assert client.status_code == 200
    text = (tmp_path / "demo-accounts.txt").read_text(encoding="utf-8")
    assert "Demo@2025" in text and "xingu.jicheng" in text and "credit-platform" in text and "xingu.planning" in text
    assert await count(gw, outbox_event) == 4  # one zone.created per demo zone
