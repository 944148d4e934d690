"""Helpers of the statistics service's integration tests: starting the service with its reference
data (the four demo zones, the indicator system and its rules), tokens for the people who use it,
and report bodies."""

from __future__ import annotations

from typing import Any

from services.stats.definition import DEFINITION
from services.stats.seed import seed_reference

XINGU = "cd-xingu"
BIOTOWN = "tf-biotown"
CHIP_DESIGN = "91510100MA6DGXQ125"  # 成都芯谷集成电路设计有限公司 (cd-xingu)
PACKAGING = "91510100MA6C8U4P5L"  # 蓉芯封装测试有限公司 (cd-xingu)
BIOTECH = "91510116MA68N7WB32"  # 天府生物医药科技有限公司 (tf-biotown)


async def start_stats(service_factory: Any, **overrides: Any) -> Any:
    settings = {"relay_enabled": False, "consumers_enabled": False, **overrides}
    svc = await service_factory(DEFINITION, **settings)
    async with svc.ctx.db.session() as session:
        await seed_reference(session)
        await session.commit()
    return svc


class People:
    """Tokens of the people in the scenarios."""

    def __init__(self, issuer: Any) -> None:
        self.issuer = issuer

    def enterprise(self, uscc: str = CHIP_DESIGN) -> dict[str, str]:
        return self.issuer.enterprise(uscc)  # type: ignore[no-any-return]

    def officer(self, zone: str = XINGU) -> dict[str, str]:
        """统计人员: reviews reports of their zone."""
        return self.issuer.staff(zone, roles=("stats",), subject=f"{zone}.stats")  # type: ignore[no-any-return]

    def stats_admin(self, zone: str | None = XINGU) -> dict[str, str]:
        return self.issuer.staff(zone, roles=("stats-admin",), subject=f"{zone or 'city'}.stats-admin")  # type: ignore[no-any-return]

    def leader(self, zone: str | None = XINGU) -> dict[str, str]:
        return self.issuer.staff(zone, roles=("leader",), subject=f"{zone or 'city'}.leader")  # type: ignore[no-any-return]

    def staff(self, zone: str | None = XINGU, *roles: str) -> dict[str, str]:
        return self.issuer.staff(zone, roles=roles)  # type: ignore[no-any-return]


def monthly(period: str = "2026-10", uscc: str = CHIP_DESIGN, zone: str = XINGU, **values: Any) -> dict[str, Any]:
    """A monthly report (月报) that passes every seeded rule unless the values say otherwise."""
    explanations = values.pop("explanations", {})
    base: dict[str, Any] = {"industrial_output_above_scale": 8000, "main_business_revenue": 8500, "total_tax": 500}
    base.update(values)
    return {
        "uscc": uscc,
        "zone_id": zone,
        "period": period,
        "values": {k: v for k, v in base.items() if v is not None},
        "explanations": explanations,
    }


async def file_and_accept(svc: Any, people: People, body: dict[str, Any]) -> dict[str, Any]:
    filed = await svc.client.post("/reports", json=body, headers=people.enterprise(body["uscc"]))
    assert filed.status_code == 201, filed.text
    zone = body["zone_id"]
    accepted = await svc.client.post(f"/reports/{filed.json()['id']}/accept", headers=people.officer(zone))
    assert accepted.status_code == 200, accepted.text
    return accepted.json()  # type: ignore[no-any-return]
