"""Who may see and do what in HR, and how domain rule violations become problem details.

- **hr-admin** (人事管理员, and platform administrators, who pass every role check) write in their
  own zone and read everything in it, national ID numbers unmasked (each such read is audited).
- **dept-head** (部门负责人) read the people of their own department: the ``dept`` claim is the
  department's code; a person belongs to the department of their active appointment.
- **staff** read their own record: the staff record whose ``account`` is their username.
- **leader** (领导) and **stats** read headcount and quota figures, which carry no personal data.
- Organisation data (departments, quota, pay bands, positions, openings) carries no personal data and
  is readable by every staff member of the zone (竞聘 openings are published to everyone).
City-level callers (no zone claim) name the zone with ``?zone_id=``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from fastapi.encoders import jsonable_encoder

from chassis.auth import Principal, scoped_zone
from chassis.errors import Conflict, DomainError, FieldError, Forbidden, Unprocessable
from services.hr.domain import LimitExceeded, RuleViolation

HR_ADMIN = "hr-admin"
DEPT_HEAD = "dept-head"
LEADER = "leader"
STATS = "stats"

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today where the users are (Asia/Shanghai)."""
    return datetime.now(SHANGHAI).date()


def acting_zone(principal: Principal, requested: str | None) -> str:
    """The one zone a request acts in: a zone's staff get their own; city-level callers must name it."""
    zone = scoped_zone(principal, requested)
    if zone is None:
        raise Unprocessable(
            "请用 zone_id 指定功能区",
            "Name the zone with zone_id",
            errors=[FieldError("zone_id", "市级用户须指定功能区", "city-level callers must name the zone", code="missing")],
        )
    return zone


def is_hr_admin(principal: Principal) -> bool:
    return principal.has_any_role(HR_ADMIN)


def can_unmask(principal: Principal) -> bool:
    """National ID numbers are shown in full only to HR administrators (and platform administrators)."""
    return is_hr_admin(principal)


def require_hr_admin(principal: Principal) -> None:
    if not is_hr_admin(principal):
        raise Forbidden("需要人事管理员角色（hr-admin）", "Requires the hr-admin role")


@dataclass(frozen=True)
class PersonalScope:
    """Which people's records a caller may read in a zone.

    ``everyone`` for HR administrators; else the department (by code) a department head leads; else
    only the caller's own staff record (``account`` = their username).
    """

    zone_id: str
    everyone: bool = False
    department_code: str | None = None
    account: str | None = None


def personal_scope(principal: Principal, zone_id: str) -> PersonalScope:
    if is_hr_admin(principal):
        return PersonalScope(zone_id, everyone=True)
    if principal.has_any_role(DEPT_HEAD) and principal.department:
        return PersonalScope(zone_id, department_code=principal.department, account=principal.subject)
    return PersonalScope(zone_id, account=principal.subject)


# --- rule violations → problem details -----------------------------------------------------------


def to_problem(violation: RuleViolation) -> DomainError:
    figures = jsonable_encoder(violation.figures)
    if isinstance(violation, LimitExceeded):
        errors = [FieldError(b.field, b.zh, b.en, code=b.limit) for b in violation.breaches]
        return Conflict(violation.zh, violation.en, errors=errors, figures=figures, limits=[b.limit for b in violation.breaches])
    error = FieldError(violation.field or "body", violation.zh, violation.en, code=violation.code)
    if figures:
        return Unprocessable(violation.zh, violation.en, errors=[error], figures=figures)
    return Unprocessable(violation.zh, violation.en, errors=[error])


P = ParamSpec("P")
R = TypeVar("R")


def use_case(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Mark a use case: a broken domain rule becomes a 409 (a limit) or 422 (bad input) naming the field."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except RuleViolation as violation:
            raise to_problem(violation) from None

    return wrapper
