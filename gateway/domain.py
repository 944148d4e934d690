"""The gateway's rules as plain Python: zone shares, account kinds and lockout, passwords,
subscription filters and the webhook retry schedule. No FastAPI, SQL or Kafka here."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chassis.errors import FieldError, Unprocessable

ZONE_TYPES = ("产业新城", "特色街区", "特色小镇")
ACCOUNT_KINDS = ("admin", "staff", "enterprise")
#: Roles a staff account may carry (see the common brief); administrators pass every check anyway.
STAFF_ROLES = (
    "investment",
    "approvals",
    "approvals-admin",
    "hr-admin",
    "dept-head",
    "stats",
    "stats-admin",
    "leader",
    "auditor",
)
EVENT_TYPE_PATTERN = re.compile(r"zone\.[a-z_]+\.[a-z_]+\.[a-z_]+\.v[0-9]+")
ZONE_ID_PATTERN = r"^[a-z][a-z0-9-]{1,63}$"
HUNDRED = Decimal(100)


# --- zones --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partner:
    district: str
    share_percent: Decimal


def check_partner_shares(partners: Sequence[Partner], lead_district: str) -> None:
    """A co-built zone (合作共建) names at least two partner districts whose shares add up to exactly 100%.

    An empty list means the zone is not co-built. Shares are compared exactly (as decimals), so
    33.33 + 33.33 + 33.33 is refused: the split must account for the whole.
    """
    if not partners:
        return
    errors: list[FieldError] = []
    if len(partners) < 2:
        errors.append(FieldError("partners", "合作共建至少需要两个区（县）", "A co-built zone needs at least two partners"))
    seen: set[str] = set()
    for i, partner in enumerate(partners):
        if partner.district in seen:
            errors.append(
                FieldError(f"partners.{i}.district", "合作方重复", f"Partner {partner.district!r} listed twice", code="duplicate")
            )
        seen.add(partner.district)
        if partner.share_percent <= 0 or partner.share_percent > HUNDRED:
            errors.append(
                FieldError(
                    f"partners.{i}.share_percent", "分成比例应大于 0 且不超过 100", "Share must be above 0 and at most 100"
                )
            )
    total = sum((p.share_percent for p in partners), Decimal(0))
    if total != HUNDRED:
        errors.append(
            FieldError(
                "partners",
                f"各方分成合计应为 100%，现为 {total.normalize():f}%",
                f"Partner shares must add up to exactly 100%, they add up to {total.normalize():f}%",
                code="shares_not_100",
            )
        )
    if lead_district not in seen and not errors:
        errors.append(
            FieldError(
                "district", "牵头区县应是合作方之一", "The zone's district must be one of its partners", code="not_a_partner"
            )
        )
    if errors:
        raise Unprocessable("合作共建分成不正确", "Invalid co-building shares", errors=errors)


# --- accounts -----------------------------------------------------------------------------------


def check_account_shape(
    kind: str, *, roles: Sequence[str], zone_id: str | None, department: str | None, uscc: str | None
) -> None:
    """What each kind of account carries: staff a zone (or none: city level) and roles; an enterprise its USCC."""
    errors: list[FieldError] = []
    if kind == "enterprise":
        if not uscc:
            errors.append(FieldError("uscc", "企业账户必须绑定统一社会信用代码", "An enterprise account needs a USCC", code="missing"))
        if zone_id or department:
            field = "zone_id" if zone_id else "department"
            errors.append(FieldError(field, "企业账户不属于功能区或部门", "An enterprise account has no zone or department"))
        if roles:
            errors.append(FieldError("roles", "企业账户不带角色", "An enterprise account has no roles"))
    else:
        if uscc:
            errors.append(FieldError("uscc", "只有企业账户绑定统一社会信用代码", "Only enterprise accounts carry a USCC"))
        unknown = [r for r in roles if r not in STAFF_ROLES and not (kind == "admin" and r == "admin")]
        if unknown:
            errors.append(
                FieldError("roles", f"未知角色：{'、'.join(unknown)}", f"Unknown roles: {', '.join(unknown)}", code="unknown_role")
            )
        if kind == "admin" and (zone_id or department):
            errors.append(FieldError("zone_id", "管理员账户不属于某个功能区", "An administrator belongs to no zone"))
        if department and not zone_id:
            errors.append(
                FieldError("department", "部门属于某个功能区，请同时指定功能区", "A department belongs to a zone: give the zone too")
            )
    if errors:
        raise Unprocessable("账户信息不完整或相互矛盾", "Inconsistent account", errors=errors)


def check_password_strength(password: str, field: str = "password") -> None:
    """At least 8 characters, with letters and digits (a common government-system baseline)."""
    if len(password) < 8 or not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
        raise Unprocessable(
            "密码至少 8 位，且须同时包含字母和数字",
            "Password needs at least 8 characters with letters and digits",
            errors=[FieldError(field, "密码至少 8 位，且须同时包含字母和数字", "too weak", code="weak_password")],
        )


@dataclass(frozen=True)
class LoginState:
    failed_logins: int
    locked_until: datetime | None


def is_locked(state: LoginState, now: datetime) -> bool:
    return state.locked_until is not None and state.locked_until > now


def after_failed_login(state: LoginState, now: datetime, *, max_failures: int, lockout: timedelta) -> LoginState:
    """Count a failure; the ``max_failures``-th in a row locks the account for ``lockout``."""
    failed = state.failed_logins + 1
    if failed >= max_failures:
        return LoginState(failed_logins=0, locked_until=now + lockout)
    return LoginState(failed_logins=failed, locked_until=state.locked_until)


def after_successful_login() -> LoginState:
    return LoginState(failed_logins=0, locked_until=None)


# --- subscriptions ------------------------------------------------------------------------------


def check_event_types(requested: Sequence[str], allowed: Sequence[str] | None, known: set[str] | None) -> None:
    """A system client subscribes only to event types it was granted (``allowed=None``: any, for admins)."""
    errors: list[FieldError] = []
    for i, event_type in enumerate(requested):
        if not EVENT_TYPE_PATTERN.fullmatch(event_type):
            errors.append(FieldError(f"event_types.{i}", "事件类型格式应为 zone.<服务>.<聚合>.<事件>.v<N>", "Malformed event type"))
        elif known is not None and event_type not in known:
            errors.append(FieldError(f"event_types.{i}", f"未知的事件类型：{event_type}", f"Unknown event type {event_type}", code="unknown"))
        elif allowed is not None and event_type not in allowed:
            errors.append(
                FieldError(
                    f"event_types.{i}",
                    f"本客户端无权订阅 {event_type}",
                    f"This client may not receive {event_type}",
                    code="not_allowed",
                )
            )
    if errors:
        raise Unprocessable("订阅的事件类型不被允许", "Event types not allowed", errors=errors)


def _lookup(data: Any, path: str) -> tuple[bool, Any]:
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return False, None
    return True, current


def _value_matches(actual: Any, expected: str) -> bool:
    if isinstance(actual, list):
        return any(_value_matches(item, expected) for item in actual)
    if isinstance(actual, bool):
        return str(actual).lower() == expected.lower()
    return actual is not None and str(actual) == expected


def event_matches(filters: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Does a structured CloudEvent pass a subscription's filters?

    ``subject``, ``zoneid`` and ``source`` compare the CloudEvents attributes; ``data`` maps dotted
    field paths to a value, and a list field matches when any element equals it (``{"item_codes":
    "XK-001"}`` selects applications that include that item). Every filter given must match.
    """
    for attribute in ("subject", "zoneid", "source"):
        wanted = filters.get(attribute)
        if wanted is not None and event.get(attribute) != wanted:
            return False
    for path, expected in (filters.get("data") or {}).items():
        found, actual = _lookup(event.get("data"), path)
        if not found or not _value_matches(actual, str(expected)):
            return False
    return True


def retry_delay_s(attempt: int, *, base_s: float, max_s: float) -> float:
    """Exponential backoff after the ``attempt``-th failure: base, 2·base, 4·base … capped at ``max_s``."""
    return float(min(max_s, base_s * 2 ** max(0, attempt - 1)))
