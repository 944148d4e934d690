"""Fixtures for the HR service: the real app on a fresh database, tokens for each role, and a small
API-driven builder (departments, pay bands, positions, staff, appointments) so that tests state only
what they are about."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from chassis.validators import national_id_with_check_digit
from services.hr.definition import DEFINITION

ZONE = "zone-a"
_ids = itertools.count(1)


def new_national_id() -> str:
    """A fresh valid resident ID number (region 510122 双流, which python-stdnum knows for every year)."""
    n = next(_ids)
    return national_id_with_check_digit(f"5101221990{(n // 28) % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}")


class HrWorld:
    """One running HR service plus the tokens and the builder calls tests share."""

    def __init__(self, svc: Any, issuer: Any, zone: str = ZONE) -> None:
        self.svc = svc
        self.client = svc.client
        self.issuer = issuer
        self.zone = zone
        self.admin = issuer.staff(zone, roles=("hr-admin",), subject="hr.admin")
        self.leader = issuer.staff(zone, roles=("leader",), subject="zone.leader")
        self.national_ids: list[str] = []

    def staff_token(self, account: str, *roles: str, department: str | None = None, zone: str | None = None) -> dict[str, str]:
        return self.issuer.staff(zone or self.zone, roles=roles, department=department, subject=account)

    async def call(self, method: str, path: str, expect: int | None = None, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        r = await self.client.request(method, path, headers=headers or self.admin, **kw)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    async def quota(self, total: int, allocations: dict[str, int] | None = None, expect: int = 200) -> Any:
        body = {"total": total, "allocations": [{"department_id": d, "allocation": a} for d, a in (allocations or {}).items()]}
        return await self.call("PUT", "/quota", expect, json=body)

    async def department(self, code: str, name: str | None = None, allocation: int = 0, **extra: Any) -> Any:
        body = {"code": code, "name": name or code, "allocation": allocation, **extra}
        return await self.call("POST", "/departments", 201, json=body)

    async def band(self, grade: str = "P2", low: str = "1.00", high: str = "1.60", base: str = "4.00") -> Any:
        body = {"label": grade, "monthly_min_wan": low, "monthly_max_wan": high, "annual_performance_base_wan": base}
        return await self.call("PUT", f"/pay-bands/{grade}", 200, json=body)

    async def position(
        self, department_id: str, title: str = "专员", posts: int = 1, category: str = "professional", grade: str = "P2",
        expect: int | None = 201,
    ) -> Any:
        body = {"department_id": department_id, "title": title, "category": category, "grade": grade, "posts": posts}
        return await self.call("POST", "/positions", expect, json=body)

    async def person(self, name: str = "张三", identity: str = "institution", **extra: Any) -> Any:
        national_id = extra.pop("national_id", None) or new_national_id()
        self.national_ids.append(national_id)
        body: dict[str, Any] = {"name": name, "national_id": national_id, "identity": identity}
        if identity in ("civil_servant", "institution"):
            body["original_establishment"] = "双流区某局（事业编制）"
        elif identity == "contract":
            body.update(contract_start="2024-01-01", contract_end="2029-12-31")
        elif identity == "seconded":
            body["sending_unit"] = "成都高新区生物产业局"
        body.update(extra)
        return await self.call("POST", "/staff", 201, json=body)

    async def appoint(
        self, staff_id: str, position_id: str, term_start: str = "2025-01-01", term_end: str = "2027-12-31",
        expect: int | None = 201,
    ) -> Any:
        body = {"staff_id": staff_id, "position_id": position_id, "term_start": term_start, "term_end": term_end}
        return await self.call("POST", "/appointments", expect, json=body)

    async def count(self, table: Any) -> int:
        async with self.svc.ctx.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(table))).scalar_one())

    async def department_with_position(
        self, allocation: int = 5, posts: int = 2, total: int | None = None, code: str = "investment", grade: str = "P2"
    ) -> tuple[Any, Any]:
        """A zone with a quota, one department and one position of a banded grade."""
        await self.quota(total if total is not None else allocation + 5)
        department = await self.department(code, "招商部", allocation)
        await self.band(grade)
        position = await self.position(department["id"], posts=posts, grade=grade)
        return department, position


@pytest.fixture
async def hr_factory(service_factory: Any, issuer: Any) -> Callable[..., Awaitable[HrWorld]]:
    async def _start(**overrides: Any) -> HrWorld:
        svc = await service_factory(DEFINITION, **overrides)
        return HrWorld(svc, issuer)

    return _start


@pytest.fixture
async def hr(hr_factory: Callable[..., Awaitable[HrWorld]]) -> HrWorld:
    """The HR service without relay and consumers (most tests are not about events: faster)."""
    return await hr_factory(relay_enabled=False, consumers_enabled=False)


@pytest.fixture
def today() -> date:
    from services.hr.access import today as shanghai_today

    return shanghai_today()
