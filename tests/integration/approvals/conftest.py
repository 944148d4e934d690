"""Fixtures for the approval service's integration tests: the real app on a fresh database, the seeded
catalog and demo delegation lists, a clock that stands still until a test moves it, and helpers that
speak the API the way the zone's window and the enterprises do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from chassis.clock import FixedClock
from services.approvals.catalog_data import SEED_ITEMS
from services.approvals.definition import DEFINITION
from services.approvals.seed import seed_reference_data

CHIP = "91510100MA6DGXQ125"  # 成都芯谷集成电路设计有限公司 (cd-xingu)
PACK = "91510100MA6C8U4P5L"  # 蓉芯封装测试有限公司 (cd-xingu)
BIO = "91510116MA68N7WB32"  # 天府生物医药科技有限公司 (tf-biotown)
NAMES = {CHIP: "成都芯谷集成电路设计有限公司", PACK: "蓉芯封装测试有限公司", BIO: "天府生物医药科技有限公司"}

EIA_FORM = "51011600HB-XK-0001"  # promised 15, statutory 30, commitment allowed (window 30)
WORKS_PERMIT = "51011600GZ-XK-0003"  # promised 7, commitment allowed (window 30)
CONSTRUCTION_PERMIT = "51011600ZJ-XK-0001"  # promised 3, commitment allowed (window 20)
HYGIENE = "51011600WJ-XK-0001"  # promised 5
FOOD_BUSINESS = "51011600SJ-XK-0001"  # promised 5, commitment allowed (window 20)
DISCHARGE = "51011600HB-XK-0003"  # promised 10, no commitment
PROJECT_FILING = "51011600FG-BA-0001"  # 即办件, promised 0
FOOD_PRODUCTION = "51011600SJ-XK-0002"  # not delegated to cd-xingu

#: A Monday in an ordinary 2026 week.
START = dt.date(2026, 11, 2)


def mandatory_materials(codes: list[str]) -> list[dict[str, str]]:
    out: dict[str, bool] = {}
    for item in SEED_ITEMS:
        if item.code in codes:
            for code, mandatory in item.materials:
                out[code] = out.get(code, False) or mandatory
    return [{"code": c} for c, m in out.items() if m]


@dataclass
class Approvals:
    """The running service plus the people who use it."""

    svc: Any
    issuer: Any
    clock: FixedClock

    @property
    def client(self) -> httpx.AsyncClient:
        return self.svc.client  # type: ignore[no-any-return]

    @property
    def window(self) -> dict[str, str]:
        """An approval clerk of 成都芯谷."""
        return self.issuer.staff("cd-xingu", roles=("approvals",), subject="xingu.approvals")  # type: ignore[no-any-return]

    def staff(self, zone: str | None = "cd-xingu", roles: tuple[str, ...] = ("approvals",), subject: str | None = None) -> dict[str, str]:
        return self.issuer.staff(zone, roles=roles, subject=subject)  # type: ignore[no-any-return]

    def enterprise(self, uscc: str = CHIP) -> dict[str, str]:
        return self.issuer.enterprise(uscc)  # type: ignore[no-any-return]

    @property
    def admin(self) -> dict[str, str]:
        return self.issuer.admin()  # type: ignore[no-any-return]

    def on(self, day: dt.date, hour: int = 10) -> None:
        self.clock.set(FixedClock.on(day, hour).instant)

    def later(self, minutes: int = 5) -> None:
        self.clock.advance(minutes=minutes)

    def body(
        self, items: list[str], *, uscc: str = CHIP, zone: str = "cd-xingu", materials: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "zone_id": zone,
            "applicant": {"uscc": uscc, "name": NAMES.get(uscc, "测试企业有限公司"), "contact_person": "王经理",
                          "contact_phone": "13800028001"},
            "item_codes": items,
            "materials": mandatory_materials(items) if materials is None else materials,
            **extra,
        }

    async def file(self, items: list[str], *, uscc: str = CHIP, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
        return await self.client.post("/applications", json=self.body(items, uscc=uscc, **extra), headers=headers or self.enterprise(uscc))

    async def filed(self, items: list[str], *, uscc: str = CHIP, **extra: Any) -> dict[str, Any]:
        r = await self.file(items, uscc=uscc, **extra)
        assert r.status_code == 201, r.text
        self.later()
        return r.json()  # type: ignore[no-any-return]

    async def act(self, app_id: str, action: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        r = await self.client.post(f"/applications/{app_id}/{action}", json=body or {}, headers=headers or self.window)
        self.later()
        return r

    async def done(self, app_id: str, action: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = await self.act(app_id, action, body, headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def get(self, app_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = await self.client.get(f"/applications/{app_id}", headers=headers or self.window)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def accepted(self, items: list[str], **extra: Any) -> dict[str, Any]:
        app = await self.filed(items, **extra)
        return await self.done(app["id"], "accept")


async def start_approvals(service_factory: Any, issuer: Any, tmp_path: Any, **overrides: Any) -> Approvals:
    settings: dict[str, Any] = {"relay_enabled": False, "consumers_enabled": False, "files_dir": str(tmp_path / "files")}
    settings.update(overrides)
    svc = await service_factory(DEFINITION, **settings)
    clock = FixedClock.on(START, 9)
    svc.ctx.extras["clock"] = clock
    async with svc.ctx.db.session() as session:
        await seed_reference_data(session, clock.now())
        await session.commit()
    return Approvals(svc=svc, issuer=issuer, clock=clock)


@pytest.fixture
async def approvals(service_factory: Any, issuer: Any, tmp_path: Any) -> Approvals:
    """The service without relay or consumers (fast): for everything that is not about the broker."""
    return await start_approvals(service_factory, issuer, tmp_path)


@pytest.fixture
async def approvals_on_broker(service_factory: Any, issuer: Any, tmp_path: Any) -> Approvals:
    """The service with its outbox relay and its consumers running against the real broker."""
    return await start_approvals(service_factory, issuer, tmp_path, relay_enabled=True, consumers_enabled=True)
