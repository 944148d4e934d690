"""Fixtures for the investment service's integration tests: the running service and a small
helper (:class:`Inv`) that speaks its API with the right tokens."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from chassis.tables import audit_log, outbox_event
from services.investment.definition import DEFINITION
from tests.support.validators import OTHER_USCC, THIRD_USCC, VALID_USCC

ZONE_A, ZONE_B = "zone-a", "zone-b"
USCC_A, USCC_B, USCC_C = VALID_USCC, OTHER_USCC, THIRD_USCC

#: The lifecycle in order, and what each step needs in the transition body.
FORWARD = ["contacting", "negotiating", "signed", "registered", "land_secured", "under_construction", "in_operation"]


class Inv:
    """The investment API as a zone's investment staff (and others) use it in tests."""

    def __init__(self, svc: Any, issuer: Any) -> None:
        self.svc = svc
        self.client = svc.client
        self.issuer = issuer

    # tokens
    def staff(self, zone: str | None = ZONE_A, roles: tuple[str, ...] = ("investment",), dept: str | None = None,
              subject: str | None = None) -> dict[str, str]:
        return self.issuer.staff(zone, roles=roles, department=dept, subject=subject)

    def leader(self, zone: str | None = None) -> dict[str, str]:
        return self.issuer.staff(zone, roles=("leader",))

    def admin(self) -> dict[str, str]:
        return self.issuer.admin()

    def enterprise(self, uscc: str) -> dict[str, str]:
        return self.issuer.enterprise(uscc)

    # reference data
    async def chain(self, code: str = "ic", nodes: tuple[tuple[str, str, str], ...] | None = None) -> dict[str, Any]:
        nodes = nodes or (
            (f"{code}.design", "集成电路设计", "midstream"),
            (f"{code}.wafer", "晶圆制造", "midstream"),
            (f"{code}.packaging", "封装测试", "midstream"),
            (f"{code}.terminal", "终端应用", "downstream"),
        )
        r = await self.client.post(
            "/chains",
            json={"code": code, "name": f"产业链 {code}",
                  "nodes": [{"code": c, "name": n, "position": p} for c, n, p in nodes]},
            headers=self.admin(),
        )
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    @staticmethod
    def node(chain: dict[str, Any], code: str) -> dict[str, Any]:
        return next(n for n in chain["nodes"] if n["code"] == code)

    async def set_status(self, chain: dict[str, Any], node_code: str, status: str, zone: str = ZONE_A) -> None:
        node = self.node(chain, node_code)
        r = await self.client.put(
            f"/chains/{chain['id']}/nodes/{node['id']}/status", json={"status": status}, headers=self.staff(zone)
        )
        assert r.status_code == 200, r.text

    async def catalog(self, zone: str = ZONE_A, sector_code: str = "ic_packaging", **thresholds: Any) -> dict[str, Any]:
        body = {"sector_code": sector_code, "sector_name": "集成电路封装测试", **thresholds}
        r = await self.client.post("/catalog", json=body, headers=self.staff(zone))
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    async def project(self, zone: str = ZONE_A, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "先进封装测试基地项目",
            "investor": "江苏长芯封测科技集团有限公司",
            "agreed_investment_wan": 85000,
            "funding_source": "domestic_outside_city",
            "land_area_mu": 150,
            **fields,
        }
        r = await self.client.post("/projects", json=body, headers=self.staff(zone))
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    async def step(self, project_id: str, to_stage: str, zone: str = ZONE_A, **extra: Any) -> Any:
        body: dict[str, Any] = {"to_stage": to_stage, **extra}
        if to_stage == "registered" and "uscc" not in body:
            body["uscc"] = USCC_A
        return await self.client.post(f"/projects/{project_id}/transitions", json=body, headers=self.staff(zone))

    async def advance(self, project_id: str, until: str, zone: str = ZONE_A, **extra: Any) -> dict[str, Any]:
        """Move a project forward step by step until it is in ``until``."""
        last: dict[str, Any] = {}
        for stage in FORWARD[: FORWARD.index(until) + 1]:
            r = await self.step(project_id, stage, zone, **(extra if stage == "registered" else {}))
            assert r.status_code == 200, r.text
            last = r.json()
        return last

    # database
    async def count(self, table: Any, *where: Any) -> int:
        async with self.svc.ctx.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(table).where(*where))).scalar_one())

    async def event_types(self) -> list[str]:
        async with self.svc.ctx.db.session() as s:
            rows = (await s.execute(select(outbox_event.c.type).order_by(outbox_event.c.seq))).scalars().all()
            return list(rows)

    async def audit_actions(self, entity_id: str) -> list[str]:
        async with self.svc.ctx.db.session() as s:
            rows = await s.execute(
                select(audit_log.c.action).where(audit_log.c.entity_id == entity_id).order_by(audit_log.c.id)
            )
            return list(rows.scalars().all())


@pytest.fixture
async def inv(service_factory: Any, issuer: Any) -> Inv:
    """The service without relay or consumers: for everything that is not about the broker."""
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    return Inv(svc, issuer)
