"""The demo data: two chains with each demo zone's panorama, catalogs, projects in every stage,
funds for 2026 and an overdue coordination issue; seeding twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from services.investment.definition import DEFINITION
from services.investment.models import CatalogEntry, Chain, FundsRecord, Project
from services.investment.seed import seed


async def test_the_demo_seed_fills_both_zones_once(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False, seed_demo_data=True)
    c = svc.client
    leader = issuer.staff(None, roles=("leader",))

    chains = (await c.get("/chains", headers=leader)).json()
    assert [ch["name"] for ch in chains] == ["生物医药", "电子信息（集成电路）"]
    ic = next(ch for ch in chains if ch["code"] == "ic")
    assert [n["name"] for n in ic["nodes"]] == ["EDA工具与IP核", "装备与材料", "集成电路设计", "晶圆制造", "封装测试", "终端应用"]
    assert {s["zone_id"] for n in ic["nodes"] for s in n["statuses"]} == {"cd-xingu"}

    summary = (await c.get("/pipeline/summary", headers=leader)).json()
    assert all(s["count"] >= 1 for s in summary["stages"]), summary["stages"]
    assert summary["total_projects"] >= 12
    assert all(c_["rate"] is not None for c_ in summary["conversions"])
    xingu = (await c.get("/pipeline/summary?zone_id=cd-xingu", headers=leader)).json()
    biotown = (await c.get("/pipeline/summary?zone_id=tf-biotown", headers=leader)).json()
    assert xingu["total_projects"] + biotown["total_projects"] == summary["total_projects"]

    own = (await c.get("/projects", headers=issuer.enterprise("91510100MA6C8U4P5L"))).json()
    assert [p["name"] for p in own["items"]] == ["蓉芯先进封装测试基地项目"]
    assert own["items"][0]["admission_passed"] is True
    overdue = (await c.get("/issues?overdue=true", headers=leader)).json()
    assert overdue["total"] == 1 and overdue["items"][0]["zone_id"] == "cd-xingu"
    # Addressed to 芯谷's planning department by HR's code: the gateway's demo account xingu.planning
    # (dept planning, no role) reports for it.
    late = overdue["items"][0]
    assert (late["department"], late["department_code"]) == ("芯谷规划建设局", "planning")
    planning = issuer.staff("cd-xingu", roles=(), department="planning", subject="xingu.planning")
    assert [i["id"] for i in (await c.get("/issues?department_code=planning", headers=planning)).json()["items"]] == [late["id"]]
    ack = await c.post(f"/issues/{late['id']}/acknowledge", headers=planning)
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "xingu.planning", ack.text
    catalog = (await c.get("/catalog?zone_id=tf-biotown", headers=leader)).json()
    assert catalog["total"] == 4

    async with svc.ctx.db.session() as s:
        periods = (await s.execute(select(col(FundsRecord.period)))).scalars().all()
        assert periods and all(p.startswith("2026-") for p in periods)
        usccs = (await s.execute(select(col(Project.uscc)).where(col(Project.uscc).is_not(None)))).scalars().all()
        assert {"91510100MA6DGXQ125", "91510116MA68N7WB32", "91510100MA6C8U4P5L", "91510122MA6ABCD116"} <= set(usccs)
        counts = [
            (await s.execute(select(func.count()).select_from(t))).scalar_one()
            for t in (Chain, Project, CatalogEntry, FundsRecord)
        ]
        await seed(s, svc.ctx)
        await s.commit()
        again = [
            (await s.execute(select(func.count()).select_from(t))).scalar_one()
            for t in (Chain, Project, CatalogEntry, FundsRecord)
        ]
    assert again == counts
