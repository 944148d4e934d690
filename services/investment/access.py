"""Who may do what in the investment service, and the zone a caller works in.

- Investment staff (role ``investment``) and administrators write; a zone's staff only in their zone.
- Every other staff member (leaders, approvals, statistics …) reads; enterprises read only the
  projects that carry their own USCC (anything else looks missing: 404).
- Chains are city-wide reference data: only administrators and city-level investment staff add them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Depends

from chassis.auth import Principal, require, scoped_zone
from chassis.errors import FieldError, Forbidden, Unprocessable
from services.investment.domain import SHANGHAI

ROLE_INVESTMENT = "investment"
ROLE_LEADER = "leader"

InvestmentStaff = Annotated[Principal, Depends(require(ROLE_INVESTMENT))]
Staff = Annotated[Principal, Depends(require())]
StaffOrEnterprise = Annotated[Principal, Depends(require(kinds=("staff", "admin", "enterprise")))]


def today() -> date:
    """Today in Asia/Shanghai: the day users mean."""
    return datetime.now(SHANGHAI).date()


def write_zone(caller: Principal, requested: str | None) -> str:
    """The zone a write lands in: a zone's staff write in their own; city-level staff must name one."""
    zone = scoped_zone(caller, requested)
    if zone is None:
        raise Unprocessable(
            "市级账户须指定功能区",
            "City-level accounts must name the zone",
            errors=[FieldError("zone_id", "请指定功能区", "zone_id is required for city-level accounts", code="missing")],
        )
    return zone


def ensure_city_level_writer(caller: Principal) -> None:
    if not (caller.is_admin or caller.is_city_level):
        raise Forbidden(
            "产业链为全市统一维护，仅市级招商人员或管理员可修改",
            "Chains are city-wide: only city-level investment staff or administrators change them",
        )


def wan(value: Decimal | None) -> float | None:
    """万元 (or any 2-decimal figure) as a JSON number."""
    return None if value is None else float(value)
