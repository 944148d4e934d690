"""Who may do what in the approval service, on top of the chassis's token checks.

- Approval staff (role ``approvals``) act on applications of their own zone; city-level approval staff
  (no zone claim) may act in any zone.
- The item catalog and the working calendar are city-wide: only city-level ``approvals-admin`` staff (or
  platform administrators) change them. A zone's ``approvals-admin`` maintains that zone's delegation list.
- An enterprise files and acts only under its own USCC and sees only its own applications (another's
  application answers 404, exactly like a missing one).
"""

from __future__ import annotations

from chassis.auth import Principal, ensure_owner, ensure_zone
from chassis.errors import FieldError, Forbidden

ROLE_APPROVALS = "approvals"
ROLE_APPROVALS_ADMIN = "approvals-admin"


def ensure_catalog_admin(caller: Principal) -> None:
    if caller.is_admin:
        return
    if not (caller.is_staff and caller.has_any_role(ROLE_APPROVALS_ADMIN)):
        raise Forbidden("需要事项管理员（approvals-admin）角色", "Requires the approvals-admin role")
    if caller.zone_id is not None:
        raise Forbidden(
            "事项清单和工作日历由市级统一维护，功能区管理员不能修改",
            "The item catalog and the calendar are city-wide: only city-level administrators change them",
        )


def ensure_delegation_admin(caller: Principal, zone_id: str) -> None:
    if caller.is_admin:
        return
    if not (caller.is_staff and caller.has_any_role(ROLE_APPROVALS_ADMIN)):
        raise Forbidden("需要事项管理员（approvals-admin）角色", "Requires the approvals-admin role")
    if caller.zone_id is not None and caller.zone_id != zone_id:
        raise Forbidden(
            "只能维护本功能区的赋权清单", "Administrators maintain only their own zone's delegation list",
            errors=[FieldError("zone_id", "不是本功能区", "not your zone")],
        )


def ensure_approval_staff(caller: Principal) -> None:
    if caller.is_admin:
        return
    if not (caller.is_staff and caller.has_any_role(ROLE_APPROVALS)):
        raise Forbidden("需要审批人员（approvals）角色", "Requires the approvals role")


def ensure_can_see(caller: Principal, zone_id: str, uscc: str) -> None:
    """Object-level visibility of an application (404 when not visible)."""
    if caller.is_enterprise:
        ensure_owner(caller, uscc)
        return
    ensure_zone(caller, zone_id)


def is_applicant(caller: Principal, uscc: str) -> bool:
    return caller.is_enterprise and caller.uscc == uscc
