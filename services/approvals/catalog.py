"""Use cases for the reference data: the item catalog (versions), the delegation lists and the calendar.

Each function takes the session and the caller, writes the audit trail on the same session and never
commits (the request does).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from chassis.audit import record_audit
from chassis.auth import Principal, scoped_zone
from chassis.clock import local_date, local_time
from chassis.errors import Conflict, FieldError, NotFound, Unprocessable
from chassis.pagination import PageParams, paginate
from services.approvals.access import ensure_catalog_admin, ensure_delegation_admin
from services.approvals.calendar import DayKind, WorkingCalendar
from services.approvals.clocks import load_calendar, refresh_open_clocks
from services.approvals.domain import HANDLING_KINDS, ITEM_TYPES, ItemTerms, item_type_code
from services.approvals.models import ApprovalItemVersion, CalendarOverrideRow, Delegation
from services.approvals.schemas import (
    CalendarDayChange,
    CalendarDayIn,
    CalendarDayOut,
    CalendarOverrideOut,
    CalendarYearOut,
    DelegationCreate,
    DelegationEnd,
    DelegationOut,
    ItemCreate,
    ItemDetail,
    ItemOut,
    ItemTermsIn,
    ItemUpdate,
    ItemVersionSummary,
    MaterialSpec,
)

# --- items -------------------------------------------------------------------------------------------------


def item_out(row: ApprovalItemVersion) -> ItemOut:
    return ItemOut(
        code=row.code,
        version=row.version,
        effective_from=row.effective_from,
        status=row.status,
        name=row.name,
        type_code=row.type_code,
        category=row.category,
        handling_kind=row.handling_kind,
        handling_kind_label=HANDLING_KINDS[row.handling_kind],
        competent_department=row.competent_department,
        implementing_body=row.implementing_body,
        delegating_authority=row.delegating_authority,
        legal_basis=row.legal_basis,
        conditions=row.conditions,
        statutory_days=row.statutory_days,
        promised_days=row.promised_days,
        on_site_visits=row.on_site_visits,
        fee_yuan=(Decimal(row.fee_fen) / 100).quantize(Decimal("0.01")),
        fee_note=row.fee_note,
        commitment_allowed=row.commitment_allowed,
        verification_window_days=row.verification_window_days,
        materials=[MaterialSpec(**m) for m in row.materials],
        change_note=row.change_note,
        created_at=local_time(row.created_at),
        created_by=row.created_by,
    )


def terms_of(row: ApprovalItemVersion) -> ItemTerms:
    return ItemTerms(
        code=row.code,
        name=row.name,
        statutory_days=row.statutory_days,
        promised_days=row.promised_days,
        commitment_allowed=row.commitment_allowed,
        verification_window_days=row.verification_window_days,
        materials=tuple((m["code"], m["name"], bool(m["mandatory"])) for m in row.materials),
    )


def _version_row(
    code: str, version: int, effective_from: dt.date, body: ItemTermsIn, caller: Principal, now: dt.datetime,
    *, status: str = "active", change_note: str | None = None,
) -> ApprovalItemVersion:
    type_code = item_type_code(code) or ""
    return ApprovalItemVersion(
        code=code,
        version=version,
        effective_from=effective_from,
        status=status,
        name=body.name,
        type_code=type_code,
        category=ITEM_TYPES[type_code],
        handling_kind="immediate" if body.promised_days == 0 else "promised",
        competent_department=body.competent_department,
        implementing_body=body.implementing_body,
        delegating_authority=body.delegating_authority or body.competent_department,
        legal_basis=body.legal_basis,
        conditions=body.conditions,
        statutory_days=body.statutory_days,
        promised_days=body.promised_days,
        on_site_visits=body.on_site_visits,
        fee_fen=int((body.fee_yuan * 100).to_integral_value()),
        fee_note=body.fee_note,
        commitment_allowed=body.commitment_allowed,
        verification_window_days=body.verification_window_days if body.commitment_allowed else None,
        materials=[m.model_dump() for m in body.materials],
        change_note=change_note,
        created_at=now,
        created_by=caller.subject,
    )


async def latest_version(session: AsyncSession, code: str) -> ApprovalItemVersion | None:
    return (
        await session.execute(
            select(ApprovalItemVersion)
            .where(col(ApprovalItemVersion.code) == code)
            .order_by(col(ApprovalItemVersion.version).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def version_in_force(session: AsyncSession, code: str, day: dt.date) -> ApprovalItemVersion | None:
    """The version of ``code`` in force on ``day`` (abolished versions included: callers decide)."""
    return (
        await session.execute(
            select(ApprovalItemVersion)
            .where(col(ApprovalItemVersion.code) == code, col(ApprovalItemVersion.effective_from) <= day)
            .order_by(col(ApprovalItemVersion.version).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def create_item(session: AsyncSession, caller: Principal, body: ItemCreate, now: dt.datetime) -> ItemOut:
    ensure_catalog_admin(caller)
    today = local_date(now)
    effective_from = body.effective_from or today
    if await latest_version(session, body.code) is not None:
        raise Conflict(
            f"事项编码 {body.code} 已存在，请用 PUT /items/{body.code} 发布新版本",
            f"item {body.code} exists; publish a new version with PUT",
            errors=[FieldError("code", "事项编码已存在", "code already exists", code="duplicate")],
        )
    row = _version_row(body.code, 1, effective_from, body, caller, now)
    session.add(row)
    await session.flush()
    out = item_out(row)
    await record_audit(session, caller, "item.create", entity_type="item", entity_id=body.code, after=out.model_dump())
    return out


async def update_item(
    session: AsyncSession, caller: Principal, code: str, body: ItemUpdate, now: dt.datetime
) -> ItemOut:
    """Publish a new version; applications already filed keep theirs."""
    ensure_catalog_admin(caller)
    latest = await latest_version(session, code)
    if latest is None:
        raise NotFound(f"事项 {code} 不存在", f"item {code} not found")
    today = local_date(now)
    effective_from = body.effective_from or today
    if effective_from < today:
        raise Unprocessable(
            "新版本不能追溯生效", "a new version cannot take effect in the past",
            errors=[FieldError("effective_from", "不能早于今天", "may not be before today")],
        )
    if effective_from < latest.effective_from:
        raise Unprocessable(
            f"新版本生效日期不能早于当前最新版本（{latest.effective_from}）",
            f"effective_from may not precede the latest version's ({latest.effective_from})",
            errors=[FieldError("effective_from", f"不能早于 {latest.effective_from}", "too early")],
        )
    row = _version_row(
        code, latest.version + 1, effective_from, body, caller, now, status=body.status, change_note=body.change_note
    )
    session.add(row)
    await session.flush()
    out = item_out(row)
    await record_audit(
        session, caller, "item.new_version", entity_type="item", entity_id=code,
        before=item_out(latest).model_dump(), after=out.model_dump(),
    )
    return out


def _in_force_subquery(as_of: dt.date) -> Any:
    return (
        select(col(ApprovalItemVersion.code), func.max(col(ApprovalItemVersion.version)).label("version"))
        .where(col(ApprovalItemVersion.effective_from) <= as_of)
        .group_by(col(ApprovalItemVersion.code))
        .subquery()
    )


async def list_items(
    session: AsyncSession,
    page: PageParams,
    *,
    as_of: dt.date,
    q: str | None = None,
    type_code: str | None = None,
    commitment_allowed: bool | None = None,
    department: str | None = None,
    include_abolished: bool = False,
) -> tuple[list[ItemOut], int]:
    current = _in_force_subquery(as_of)
    query = (
        select(ApprovalItemVersion)
        .join(current, and_(col(ApprovalItemVersion.code) == current.c.code, col(ApprovalItemVersion.version) == current.c.version))
        .order_by(col(ApprovalItemVersion.code))
    )
    if not include_abolished:
        query = query.where(col(ApprovalItemVersion.status) == "active")
    if q:
        like = f"%{q}%"
        query = query.where(or_(col(ApprovalItemVersion.name).like(like), col(ApprovalItemVersion.code).like(like)))
    if type_code:
        query = query.where(col(ApprovalItemVersion.type_code) == type_code)
    if commitment_allowed is not None:
        query = query.where(col(ApprovalItemVersion.commitment_allowed) == commitment_allowed)
    if department:
        query = query.where(col(ApprovalItemVersion.competent_department).like(f"%{department}%"))
    rows, total = await paginate(session, query, page)
    return [item_out(r) for r in rows], total


async def get_item(
    session: AsyncSession, code: str, *, as_of: dt.date, version: int | None = None
) -> ItemDetail:
    versions = list(
        (
            await session.execute(
                select(ApprovalItemVersion)
                .where(col(ApprovalItemVersion.code) == code)
                .order_by(col(ApprovalItemVersion.version).desc())
            )
        ).scalars()
    )
    if not versions:
        raise NotFound(f"事项 {code} 不存在", f"item {code} not found")
    if version is not None:
        chosen = next((v for v in versions if v.version == version), None)
        if chosen is None:
            raise NotFound(f"事项 {code} 没有第 {version} 版", f"item {code} has no version {version}")
    else:
        chosen = next((v for v in versions if v.effective_from <= as_of), versions[-1])
    summaries = [
        ItemVersionSummary(
            version=v.version, effective_from=v.effective_from, status=v.status, promised_days=v.promised_days,
            statutory_days=v.statutory_days, change_note=v.change_note,
            created_at=local_time(v.created_at), created_by=v.created_by,
        )
        for v in versions
    ]
    return ItemDetail(**item_out(chosen).model_dump(), versions=summaries)


# --- delegations ---------------------------------------------------------------------------------------------


def delegation_out(row: Delegation, today: dt.date, item_name: str | None) -> DelegationOut:
    return DelegationOut(
        id=row.id, zone_id=row.zone_id, item_code=row.item_code, item_name=item_name, authority=row.authority,
        document_no=row.document_no, valid_from=row.valid_from, valid_until=row.valid_until,
        in_force_today=in_force(row, today), note=row.note,
        created_at=local_time(row.created_at), created_by=row.created_by,
    )


def in_force(row: Delegation, day: dt.date) -> bool:
    return row.valid_from <= day and (row.valid_until is None or day <= row.valid_until)


async def delegation_in_force(session: AsyncSession, zone_id: str, code: str, day: dt.date) -> Delegation | None:
    rows = (
        await session.execute(select(Delegation).where(col(Delegation.zone_id) == zone_id, col(Delegation.item_code) == code))
    ).scalars()
    return next((r for r in rows if in_force(r, day)), None)


async def zone_has_delegations(session: AsyncSession, zone_id: str) -> bool:
    return (
        await session.execute(select(col(Delegation.id)).where(col(Delegation.zone_id) == zone_id).limit(1))
    ).first() is not None


async def create_delegation(
    session: AsyncSession, caller: Principal, body: DelegationCreate, now: dt.datetime
) -> DelegationOut:
    ensure_delegation_admin(caller, body.zone_id)
    item = await latest_version(session, body.item_code)
    if item is None:
        raise Unprocessable(
            f"事项 {body.item_code} 不在事项清单中", f"item {body.item_code} is not in the catalog",
            errors=[FieldError("item_code", "事项不存在", "unknown item", code="unknown_item")],
        )
    existing = (
        await session.execute(
            select(Delegation).where(col(Delegation.zone_id) == body.zone_id, col(Delegation.item_code) == body.item_code)
        )
    ).scalars()
    for other in existing:
        if _overlaps(other.valid_from, other.valid_until, body.valid_from, body.valid_until):
            raise Conflict(
                f"该事项在 {other.valid_from} 至 {other.valid_until or '长期'} 已有赋权，期限重叠",
                "a delegation of this item to this zone already covers part of that period",
                errors=[FieldError("valid_from", "与已有赋权期限重叠", "overlaps an existing delegation", code="overlap")],
                delegation_id=other.id,
            )
    row = Delegation(
        id=str(uuid.uuid4()), zone_id=body.zone_id, item_code=body.item_code,
        authority=body.authority or item.delegating_authority, document_no=body.document_no,
        valid_from=body.valid_from, valid_until=body.valid_until, note=body.note,
        created_at=now, created_by=caller.subject,
    )
    session.add(row)
    await session.flush()
    out = delegation_out(row, local_date(now), item.name)
    await record_audit(
        session, caller, "delegation.create", entity_type="delegation", entity_id=row.id, zone_id=row.zone_id,
        after=out.model_dump(),
    )
    return out


def _overlaps(a_from: dt.date, a_until: dt.date | None, b_from: dt.date, b_until: dt.date | None) -> bool:
    return (a_until is None or b_from <= a_until) and (b_until is None or a_from <= b_until)


async def end_delegation(
    session: AsyncSession, caller: Principal, delegation_id: str, body: DelegationEnd, now: dt.datetime
) -> DelegationOut:
    row = await session.get(Delegation, delegation_id)
    if row is None or (caller.zone_id is not None and not caller.is_admin and caller.zone_id != row.zone_id):
        raise NotFound("赋权记录不存在", "delegation not found")
    ensure_delegation_admin(caller, row.zone_id)
    if body.valid_until < row.valid_from:
        raise Unprocessable(
            "截止日期不能早于生效日期", "valid_until may not precede valid_from",
            errors=[FieldError("valid_until", f"不能早于 {row.valid_from}", "too early")],
        )
    if row.valid_until is not None and body.valid_until > row.valid_until:
        raise Unprocessable(
            "只能提前终止赋权，延长请新增赋权", "a delegation can only be ended earlier; add a new one to extend",
            errors=[FieldError("valid_until", f"不能晚于 {row.valid_until}", "later than the current end")],
        )
    item = await latest_version(session, row.item_code)
    before = delegation_out(row, local_date(now), item.name if item else None).model_dump()
    row.valid_until = body.valid_until
    if body.note:
        row.note = body.note
    session.add(row)
    out = delegation_out(row, local_date(now), item.name if item else None)
    await record_audit(
        session, caller, "delegation.end", entity_type="delegation", entity_id=row.id, zone_id=row.zone_id,
        before=before, after=out.model_dump(),
    )
    return out


async def list_delegations(
    session: AsyncSession,
    caller: Principal,
    page: PageParams,
    *,
    today: dt.date,
    zone_id: str | None = None,
    item_code: str | None = None,
    in_force_on: dt.date | None = None,
) -> tuple[list[DelegationOut], int]:
    zone = scoped_zone(caller, zone_id)
    query = select(Delegation).order_by(col(Delegation.zone_id), col(Delegation.item_code), col(Delegation.valid_from))
    if zone is not None:
        query = query.where(col(Delegation.zone_id) == zone)
    if item_code:
        query = query.where(col(Delegation.item_code) == item_code)
    if in_force_on is not None:
        query = query.where(
            col(Delegation.valid_from) <= in_force_on,
            or_(col(Delegation.valid_until).is_(None), col(Delegation.valid_until) >= in_force_on),
        )
    rows, total = await paginate(session, query, page)
    names = await item_names(session, {r.item_code for r in rows}, today)
    return [delegation_out(r, today, names.get(r.item_code)) for r in rows], total


async def item_names(session: AsyncSession, codes: set[str], as_of: dt.date) -> dict[str, str]:
    if not codes:
        return {}
    rows = (
        await session.execute(
            select(ApprovalItemVersion)
            .where(col(ApprovalItemVersion.code).in_(codes))
            .order_by(col(ApprovalItemVersion.version))
        )
    ).scalars()
    names: dict[str, str] = {}
    for r in rows:
        if r.code not in names or r.effective_from <= as_of:
            names[r.code] = r.name
    return names


# --- calendar --------------------------------------------------------------------------------------------------


def _day_out(calendar: WorkingCalendar, day: dt.date) -> CalendarDayOut:
    info = calendar.day(day)
    return CalendarDayOut(date=info.day, kind=info.kind.value, source=info.source.value, name=info.name)


async def calendar_year(session: AsyncSession, year: int) -> CalendarYearOut:
    calendar = await load_calendar(session)
    view = calendar.year(year)
    return CalendarYearOut(
        year=view.year,
        provisional=view.provisional,
        has_official_data=view.has_official_data,
        working_days=view.working_days,
        exceptions=[
            CalendarDayOut(date=i.day, kind=i.kind.value, source=i.source.value, name=i.name)
            for i in view.exceptions
        ],
        overrides=[CalendarOverrideOut(date=o.day, kind=o.kind.value, note=o.note) for o in view.overrides],
    )


async def set_calendar_day(
    session: AsyncSession, caller: Principal, day: dt.date, body: CalendarDayIn, now: dt.datetime, yellow_percent: int
) -> CalendarDayChange:
    """Enter or change an override; every open application's clock is recomputed in the same transaction."""
    ensure_catalog_admin(caller)
    row = await session.get(CalendarOverrideRow, day)
    before = {"kind": row.kind, "note": row.note} if row else None
    if row is None:
        row = CalendarOverrideRow(day=day, kind=body.kind, note=body.note, updated_at=now, updated_by=caller.subject)
    else:
        row.kind, row.note, row.updated_at, row.updated_by = body.kind, body.note, now, caller.subject
    session.add(row)
    await session.flush()
    return await _after_calendar_change(session, caller, day, before, {"kind": DayKind(body.kind).value, "note": body.note}, now, yellow_percent)


async def delete_calendar_day(
    session: AsyncSession, caller: Principal, day: dt.date, now: dt.datetime, yellow_percent: int
) -> CalendarDayChange:
    ensure_catalog_admin(caller)
    row = await session.get(CalendarOverrideRow, day)
    if row is None:
        raise NotFound(f"{day} 没有管理员调整", f"no override on {day}")
    before = {"kind": row.kind, "note": row.note}
    await session.delete(row)
    await session.flush()
    return await _after_calendar_change(session, caller, day, before, None, now, yellow_percent)


async def _after_calendar_change(
    session: AsyncSession, caller: Principal, day: dt.date, before: Any, after: Any, now: dt.datetime, yellow_percent: int
) -> CalendarDayChange:
    calendar = await load_calendar(session)
    changed = await refresh_open_clocks(session, calendar, local_date(now), yellow_percent)
    await record_audit(
        session, caller, "calendar.override" if after else "calendar.override_removed",
        entity_type="calendar_day", entity_id=day.isoformat(), before=before, after=after,
    )
    return CalendarDayChange(
        day=_day_out(calendar, day), year_provisional=calendar.year_is_provisional(day.year),
        applications_rescheduled=changed,
    )
