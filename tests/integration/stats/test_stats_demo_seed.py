"""The demo seed: `make run` starts with zones, the indicator system, targets and accepted reports,
so the summary shows numbers; seeding again changes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.stats.definition import DEFINITION
from services.stats.models import IndicatorAggregate, Report, Target, Zone
from services.stats.periods import Period
from services.stats.seed import seed


async def test_the_demo_seed_gives_the_summary_numbers_and_is_idempotent(service_factory, people):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False, seed_demo_data=True)
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    last_month = Period.month(now.year, now.month).previous()

    zones = (await svc.client.get("/zones", headers=people.leader(None))).json()
    assert {z["zone_id"] for z in zones} == {"cd-xingu", "tf-biotown", "jj-chunxi", "ar-town"}
    s = (await svc.client.get("/zones/tf-biotown/summary", params={"period": str(last_month)}, headers=people.leader(None))).json()
    output = next(i for i in s["indicators"] if i["code"] == "industrial_output_above_scale")
    assert output["value"] > 0 and output["previous_value"] > 0 and output["year_on_year_percent"] is not None
    assert round(sum(p["value"] for p in output["partner_shares"]), 2) == output["value"]
    xingu = (await svc.client.get("/zones/cd-xingu/summary", params={"period": str(last_month)}, headers=people.leader())).json()
    tax = next(i for i in xingu["indicators"] if i["code"] == "total_tax")
    if last_month.year == 2026:
        assert tax["target"] == 8500 and tax["target_progress_percent"] > 0

    async def counts() -> tuple[int, ...]:
        out = []
        async with svc.ctx.db.session() as session:
            for table in (Zone, Report, Target, IndicatorAggregate):
                out.append(int((await session.execute(select(func.count()).select_from(table))).scalar_one()))
        return tuple(out)

    before = await counts()
    assert before[1] > 50
    async with svc.ctx.db.session() as session:
        await seed(session, svc.ctx)
        await session.commit()
    assert await counts() == before
    assert (await svc.client.get("/reports", headers=people.enterprise("91510100MA6DGXQ125"))).json()["total"] > 10
