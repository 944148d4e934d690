"""The demo data: both demo zones, the seeds' departments, every identity, linked demo accounts; seeding twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from stdnum.cn import ric

from services.hr.models import Appointment, Department, Position, Staff
from services.hr.seed import ZONES, seed


async def test_the_demo_seed_fills_both_zones_with_every_identity_and_is_idempotent(hr_factory, issuer):
    world = await hr_factory(seed_demo_data=True, relay_enabled=False, consumers_enabled=False)

    xingu_hr = issuer.staff("cd-xingu", roles=("hr-admin",), subject="xingu.hr")
    departments = (await world.client.get("/departments", headers=xingu_hr)).json()
    names = {d["name"] for d in departments["items"]}
    assert {"规划建设部", "战略研究部", "招商部", "企业服务部", "政务服务部", "综合管理部"} <= names
    biotown = issuer.staff("tf-biotown", roles=("hr-admin",), subject="biotown.hr")
    biotown_names = {d["name"] for d in (await world.client.get("/departments", headers=biotown)).json()["items"]}
    assert {"投资促进局", "规划建设部", "企业服务部", "政务服务部"} <= biotown_names

    quota = (await world.client.get("/quota", headers=xingu_hr)).json()
    assert quota["total"] == 60 and quota["allocated"] <= quota["total"]
    assert all(d["posts"] <= d["allocation"] for d in quota["departments"])

    for zone, hr in (("cd-xingu", xingu_hr), ("tf-biotown", biotown)):
        staff = (await world.client.get("/staff", params={"size": 100}, headers=hr)).json()["items"]
        assert {s["identity"] for s in staff} >= ({"civil_servant", "institution", "contract", "seconded"} if zone == "cd-xingu" else {"seconded", "contract", "civil_servant", "institution"})
        for s in staff:
            assert ric.is_valid(s["national_id"]), s["name"]
            if s["identity"] == "seconded":
                assert s["sending_unit"]
            if s["identity_locked"]:
                assert s["original_establishment"]
            if s["identity"] == "contract":
                assert s["contract_start"] and s["contract_end"]

    mine = await world.client.get("/staff/me", headers=issuer.staff("cd-xingu", roles=("leader",), subject="xingu.leader"))
    assert mine.status_code == 200, mine.text
    assert mine.json()["name"] == "王建国" and mine.json()["current_appointment"]["position_title"] == "副局长"
    assert mine.json()["national_id_masked"] is True

    async with world.svc.ctx.db.session() as s:
        before = [int((await s.execute(select(func.count()).select_from(t))).scalar_one()) for t in (Department, Position, Staff, Appointment)]
        await seed(s, world.svc.ctx)
        await s.commit()
        after = [int((await s.execute(select(func.count()).select_from(t))).scalar_one()) for t in (Department, Position, Staff, Appointment)]
    assert before == after
    assert before[2] == sum(len(z.people) for z in ZONES)
