"""Use cases of the organisation: departments, the headcount quota (员额总控), pay bands, positions,
and the headcount figures (``GET /headcount``, several zones at once for the city dashboard, and
``zone.hr.headcount.changed.v1``).

Every change that moves the quota, the posts or the people serving ends with
:func:`publish_headcount`, which writes the zone's current figures as an event in the same
transaction. Changes to capacity first lock the zone's quota row (:func:`lock_zone`), so two
concurrent requests cannot both take the last post on PostgreSQL (SQLite serialises writers).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from chassis.audit import record_audit
from chassis.auth import Principal, ensure_zone
from chassis.errors import Conflict, FieldError, NotFound, Unprocessable
from chassis.outbox import record_event
from chassis.pagination import Page, PageParams, paginate
from services.hr import domain
from services.hr.access import now, require_hr_admin, use_case
from services.hr.domain import CATEGORY_LABELS, Category, DepartmentCount
from services.hr.events import HEADCOUNT_CHANGED, POSITION_CHANGED, POSITION_CREATED
from services.hr.models import Appointment, Department, PayBand, Position, ZoneQuota
from services.hr.schemas import (
    DepartmentHeadcountOut,
    DepartmentIn,
    DepartmentOut,
    DepartmentPatch,
    HeadcountByZoneOut,
    HeadcountOut,
    PayBandBrief,
    PayBandIn,
    PayBandOut,
    PositionIn,
    PositionOut,
    PositionPatch,
    QuotaDepartment,
    QuotaIn,
    QuotaOut,
)

# --- counts ---------------------------------------------------------------------------------------


async def department_counts(session: AsyncSession, zone_id: str) -> list[DepartmentCount]:
    departments = (
        await session.execute(
            select(Department).where(Department.zone_id == zone_id).order_by(col(Department.created_at), col(Department.code))
        )
    ).scalars().all()
    posts = dict(
        (
            await session.execute(
                select(Position.department_id, func.sum(Position.posts))
                .where(Position.zone_id == zone_id)
                .group_by(col(Position.department_id))
            )
        ).tuples().all()
    )
    filled = dict(
        (
            await session.execute(
                select(Appointment.department_id, func.count())
                .where(Appointment.zone_id == zone_id, Appointment.status == "active")
                .group_by(col(Appointment.department_id))
            )
        ).tuples().all()
    )
    return [
        DepartmentCount(d.id, d.code, d.name, d.allocation, int(posts.get(d.id) or 0), int(filled.get(d.id) or 0))
        for d in departments
    ]


async def position_filled(session: AsyncSession, position_ids: Iterable[str]) -> dict[str, int]:
    ids = list(position_ids)
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(Appointment.position_id, func.count())
            .where(col(Appointment.position_id).in_(ids), Appointment.status == "active")
            .group_by(col(Appointment.position_id))
        )
    ).tuples().all()
    return {pid: int(n) for pid, n in rows}


async def get_quota_row(session: AsyncSession, zone_id: str) -> ZoneQuota | None:
    return await session.get(ZoneQuota, zone_id)


async def lock_zone(session: AsyncSession, zone_id: str, actor: str) -> ZoneQuota:
    """The zone's quota row, locked for this transaction (created with a total of 0 if missing)."""
    row = (
        await session.execute(select(ZoneQuota).where(ZoneQuota.zone_id == zone_id).with_for_update())
    ).scalar_one_or_none()
    if row is None:
        row = ZoneQuota(zone_id=zone_id, total=0, updated_at=now(), updated_by=actor)
        session.add(row)
        await session.flush()
    return row


async def headcount(session: AsyncSession, zone_id: str) -> HeadcountOut:
    quota = await get_quota_row(session, zone_id)
    summary = domain.headcount_summary(zone_id, quota.total if quota else 0, await department_counts(session, zone_id))
    return HeadcountOut(
        as_of=now(),
        **{k: v for k, v in summary.items() if k != "departments"},
        departments=[DepartmentHeadcountOut(**d) for d in summary["departments"]],
    )


DEFERRED_HEADCOUNT = "hr_deferred_headcount"


async def publish_headcount(session: AsyncSession, zone_id: str) -> None:
    """Write ``zone.hr.headcount.changed.v1`` with the zone's figures after this transaction's changes.

    Inside :func:`deferred_headcount` (bulk work such as the demo seed) the zone is only noted, and
    its figures are published once when the bulk work ends.
    """
    deferred = session.info.get(DEFERRED_HEADCOUNT)
    if deferred is not None:
        deferred.add(zone_id)
        return
    await session.flush()
    figures = await headcount(session, zone_id)
    await record_event(session, HEADCOUNT_CHANGED, figures.model_dump(mode="json"), subject=zone_id, zone_id=zone_id)


@asynccontextmanager
async def deferred_headcount(session: AsyncSession) -> AsyncIterator[None]:
    """Publish each touched zone's headcount once, at the end of a block of many changes."""
    session.info[DEFERRED_HEADCOUNT] = set()
    try:
        yield
    finally:
        zones = session.info.pop(DEFERRED_HEADCOUNT)
    for zone_id in sorted(zones):
        await publish_headcount(session, zone_id)


async def read_headcount(session: AsyncSession, caller: Principal, zone_id: str) -> HeadcountOut:
    result = await headcount(session, zone_id)
    await record_audit(session, caller, "headcount.read", entity_type="zone", entity_id=zone_id, zone_id=zone_id)
    return result


async def read_headcounts(session: AsyncSession, caller: Principal, zone_ids: Sequence[str]) -> HeadcountByZoneOut:
    """Several zones' headcount in one request (the city dashboard), in the order given.

    The caller's access to every zone is settled before (the route resolves each one as the single
    ``GET /headcount`` does). Each item is exactly :func:`read_headcount`'s answer for its zone, audited
    the same way. A zone that read would refuse as not found is listed in ``missing`` instead of
    failing the others; today none is, since a zone without a quota reads as zeros.
    """
    items: list[HeadcountOut] = []
    missing: list[str] = []
    for zone_id in zone_ids:
        try:
            items.append(await read_headcount(session, caller, zone_id))
        except NotFound:
            missing.append(zone_id)
    return HeadcountByZoneOut(items=items, missing=missing)


# --- departments ------------------------------------------------------------------------------------


def _department_out(d: Department, count: DepartmentCount | None) -> DepartmentOut:
    return DepartmentOut(
        id=d.id,
        zone_id=d.zone_id,
        code=d.code,
        name=d.name,
        allocation=d.allocation,
        posts=count.posts if count else 0,
        filled=count.filled if count else 0,
        vacancies=count.vacancies if count else d.allocation,
        coefficient=d.coefficient,
        created_at=d.created_at,
    )


async def department_in_zone(session: AsyncSession, zone_id: str, department_id: str, *, field: str | None = None) -> Department:
    department = await session.get(Department, department_id)
    if department is None or department.zone_id != zone_id:
        if field:
            raise Unprocessable(
                "部门不存在", "No such department in this zone", errors=[FieldError(field, "部门不存在", "no such department")]
            )
        raise NotFound("部门不存在", "Department not found")
    return department


async def department_by_code(session: AsyncSession, zone_id: str, code: str) -> Department | None:
    return (
        await session.execute(select(Department).where(Department.zone_id == zone_id, Department.code == code))
    ).scalar_one_or_none()


@use_case
async def create_department(session: AsyncSession, caller: Principal, zone_id: str, body: DepartmentIn) -> DepartmentOut:
    require_hr_admin(caller)
    quota = await lock_zone(session, zone_id, caller.subject)
    if await department_by_code(session, zone_id, body.code) is not None:
        raise Conflict(
            f"部门代码 {body.code} 已存在", f"Department code {body.code} exists", errors=[FieldError("code", "部门代码已存在", "duplicate code")]
        )
    counts = await department_counts(session, zone_id)
    allocations = {c.department_id: c.allocation for c in counts}
    allocations["new"] = body.allocation
    domain.check_allocations(quota.total, allocations)
    department = Department(
        zone_id=zone_id,
        code=body.code,
        name=body.name,
        allocation=body.allocation,
        coefficient=body.coefficient,
        created_at=now(),
    )
    session.add(department)
    await session.flush()
    await record_audit(
        session, caller, "department.create", entity_type="department", entity_id=department.id, zone_id=zone_id,
        after=department.model_dump(),
    )
    await publish_headcount(session, zone_id)
    return _department_out(department, None)


async def list_departments(session: AsyncSession, zone_id: str, page: PageParams) -> Page[DepartmentOut]:
    counts = {c.department_id: c for c in await department_counts(session, zone_id)}
    query = select(Department).where(Department.zone_id == zone_id).order_by(col(Department.created_at), col(Department.code))
    rows, total = await paginate(session, query, page)
    return Page(items=[_department_out(d, counts.get(d.id)) for d in rows], total=total, page=page.page, size=page.size)


async def get_department(session: AsyncSession, caller: Principal, department_id: str) -> DepartmentOut:
    department = await session.get(Department, department_id)
    if department is None:
        raise NotFound("部门不存在", "Department not found")
    ensure_zone(caller, department.zone_id)
    counts = {c.department_id: c for c in await department_counts(session, department.zone_id)}
    return _department_out(department, counts.get(department.id))


@use_case
async def patch_department(
    session: AsyncSession, caller: Principal, department_id: str, body: DepartmentPatch
) -> DepartmentOut:
    require_hr_admin(caller)
    department = await session.get(Department, department_id)
    if department is None:
        raise NotFound("部门不存在", "Department not found")
    ensure_zone(caller, department.zone_id)
    before = department.model_dump()
    if body.name is not None:
        department.name = body.name
    if body.coefficient is not None:
        department.coefficient = body.coefficient
    session.add(department)
    await session.flush()
    await record_audit(
        session, caller, "department.update", entity_type="department", entity_id=department.id,
        zone_id=department.zone_id, before=before, after=department.model_dump(),
    )
    if body.name is not None:
        await publish_headcount(session, department.zone_id)
    counts = {c.department_id: c for c in await department_counts(session, department.zone_id)}
    return _department_out(department, counts.get(department.id))


# --- quota ----------------------------------------------------------------------------------------


async def get_quota(session: AsyncSession, zone_id: str) -> QuotaOut:
    quota = await get_quota_row(session, zone_id)
    counts = await department_counts(session, zone_id)
    total = quota.total if quota else 0
    allocated = sum(c.allocation for c in counts)
    return QuotaOut(
        zone_id=zone_id,
        total=total,
        allocated=allocated,
        unallocated=total - allocated,
        filled=sum(c.filled for c in counts),
        departments=[
            QuotaDepartment(
                department_id=c.department_id,
                code=c.code,
                name=c.name,
                allocation=c.allocation,
                posts=c.posts,
                filled=c.filled,
                vacancies=c.vacancies,
                posts_over_allocation=max(c.posts - c.allocation, 0),
            )
            for c in counts
        ],
        updated_at=quota.updated_at if quota else None,
        updated_by=quota.updated_by if quota else None,
    )


@use_case
async def put_quota(session: AsyncSession, caller: Principal, zone_id: str, body: QuotaIn) -> QuotaOut:
    """Set the total and any department allocations (departments not listed keep theirs)."""
    require_hr_admin(caller)
    quota = await lock_zone(session, zone_id, caller.subject)
    counts = {c.department_id: c for c in await department_counts(session, zone_id)}
    unknown = [i for i, a in enumerate(body.allocations) if a.department_id not in counts]
    if unknown:
        raise Unprocessable(
            "部门不存在", "No such department in this zone",
            errors=[FieldError(f"allocations.{i}.department_id", "部门不存在", "no such department") for i in unknown],
        )
    allocations = {d: c.allocation for d, c in counts.items()}
    allocations.update({a.department_id: a.allocation for a in body.allocations})
    domain.check_allocations(body.total, allocations)
    breaches = [
        b
        for i, a in enumerate(body.allocations)
        if (b := domain.check_allocation_covers_filled(
            counts[a.department_id].name, a.allocation, counts[a.department_id].filled, field=f"allocations.{i}.allocation"
        ))
    ]
    if breaches:
        raise domain.LimitExceeded(
            "员额不能低于在聘人数：" + "；".join(b.zh for b in breaches),
            "An allocation cannot drop below the people serving: " + "; ".join(b.en for b in breaches),
            breaches=breaches,
            figures={"departments": [b.figures for b in breaches]},
        )
    before = await get_quota(session, zone_id)
    quota.total = body.total
    quota.updated_at = now()
    quota.updated_by = caller.subject
    session.add(quota)
    for a in body.allocations:
        department = await session.get(Department, a.department_id)
        assert department is not None
        department.allocation = a.allocation
        session.add(department)
    await session.flush()
    after = await get_quota(session, zone_id)
    await record_audit(
        session, caller, "quota.update", entity_type="zone_quota", entity_id=zone_id, zone_id=zone_id,
        before=before.model_dump(mode="json"), after=after.model_dump(mode="json"),
    )
    await publish_headcount(session, zone_id)
    return after


# --- pay bands ------------------------------------------------------------------------------------


def _band_out(b: PayBand) -> PayBandOut:
    return PayBandOut(
        zone_id=b.zone_id,
        grade=b.grade,
        label=b.label,
        monthly_min_wan=b.monthly_min_wan,
        monthly_max_wan=b.monthly_max_wan,
        annual_performance_base_wan=b.annual_performance_base_wan,
        updated_at=b.updated_at,
    )


async def band_for(session: AsyncSession, zone_id: str, grade: str) -> PayBand | None:
    return (
        await session.execute(select(PayBand).where(PayBand.zone_id == zone_id, PayBand.grade == grade))
    ).scalar_one_or_none()


async def bands_by_grade(session: AsyncSession, zone_id: str) -> dict[str, PayBand]:
    rows = (await session.execute(select(PayBand).where(PayBand.zone_id == zone_id))).scalars().all()
    return {b.grade: b for b in rows}


async def list_pay_bands(session: AsyncSession, zone_id: str) -> list[PayBandOut]:
    rows = (
        await session.execute(select(PayBand).where(PayBand.zone_id == zone_id).order_by(col(PayBand.grade)))
    ).scalars().all()
    return [_band_out(b) for b in rows]


@use_case
async def put_pay_band(session: AsyncSession, caller: Principal, zone_id: str, grade: str, body: PayBandIn) -> PayBandOut:
    require_hr_admin(caller)
    band = await band_for(session, zone_id, grade)
    before = band.model_dump() if band else None
    if band is None:
        band = PayBand(zone_id=zone_id, grade=grade, label=body.label, monthly_min_wan=body.monthly_min_wan,
                       monthly_max_wan=body.monthly_max_wan,
                       annual_performance_base_wan=body.annual_performance_base_wan, updated_at=now())
    else:
        band.label = body.label
        band.monthly_min_wan = body.monthly_min_wan
        band.monthly_max_wan = body.monthly_max_wan
        band.annual_performance_base_wan = body.annual_performance_base_wan
        band.updated_at = now()
    session.add(band)
    await session.flush()
    await record_audit(
        session, caller, "pay_band.put", entity_type="pay_band", entity_id=f"{zone_id}:{grade}", zone_id=zone_id,
        before=before, after=band.model_dump(),
    )
    return _band_out(band)


# --- positions ------------------------------------------------------------------------------------


def position_out(p: Position, department: Department, band: PayBand, filled: int) -> PositionOut:
    return PositionOut(
        id=p.id,
        zone_id=p.zone_id,
        department_id=department.id,
        department_code=department.code,
        department_name=department.name,
        title=p.title,
        category=Category(p.category),
        category_label=CATEGORY_LABELS[Category(p.category)],
        grade=p.grade,
        pay_band=PayBandBrief(
            grade=band.grade, label=band.label, monthly_min_wan=band.monthly_min_wan, monthly_max_wan=band.monthly_max_wan
        ),
        posts=p.posts,
        filled=filled,
        vacancies=max(p.posts - filled, 0),
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def _position_event(p: Position, department: Department, band: PayBand) -> dict[str, Any]:
    return {
        "position_id": p.id,
        "zone_id": p.zone_id,
        "department_id": department.id,
        "department_code": department.code,
        "title": p.title,
        "category": p.category,
        "grade": p.grade,
        "posts": p.posts,
        "pay_band_min_wan": float(band.monthly_min_wan),
        "pay_band_max_wan": float(band.monthly_max_wan),
    }


async def _band_or_422(session: AsyncSession, zone_id: str, grade: str) -> PayBand:
    band = await band_for(session, zone_id, grade)
    if band is None:
        raise Unprocessable(
            f"职级 {grade} 尚未设置薪酬带", f"Grade {grade} has no pay band",
            errors=[FieldError("grade", "该职级尚未设置薪酬带（PUT /pay-bands/{grade}）", "no pay band for this grade")],
        )
    return band


async def _posts_elsewhere(session: AsyncSession, department_id: str, exclude_position: str | None) -> int:
    query = select(func.coalesce(func.sum(Position.posts), 0)).where(Position.department_id == department_id)
    if exclude_position:
        query = query.where(Position.id != exclude_position)
    return int((await session.execute(query)).scalar_one())


@use_case
async def create_position(session: AsyncSession, caller: Principal, zone_id: str, body: PositionIn) -> PositionOut:
    require_hr_admin(caller)
    await lock_zone(session, zone_id, caller.subject)
    department = await department_in_zone(session, zone_id, body.department_id, field="department_id")
    band = await _band_or_422(session, zone_id, body.grade)
    domain.check_department_posts(
        department.name, department.allocation, await _posts_elsewhere(session, department.id, None), body.posts
    )
    at = now()
    position = Position(
        zone_id=zone_id, department_id=department.id, title=body.title, category=body.category.value,
        grade=body.grade, posts=body.posts, created_at=at, updated_at=at,
    )
    session.add(position)
    await session.flush()
    await record_audit(
        session, caller, "position.create", entity_type="position", entity_id=position.id, zone_id=zone_id,
        after=position.model_dump(),
    )
    await record_event(
        session, POSITION_CREATED, {**_position_event(position, department, band), "created_at": at},
        subject=position.id, zone_id=zone_id,
    )
    await publish_headcount(session, zone_id)
    return position_out(position, department, band, 0)


async def position_in_zone(session: AsyncSession, caller: Principal, position_id: str) -> Position:
    position = await session.get(Position, position_id)
    if position is None:
        raise NotFound("岗位不存在", "Position not found")
    ensure_zone(caller, position.zone_id)
    return position


@use_case
async def patch_position(session: AsyncSession, caller: Principal, position_id: str, body: PositionPatch) -> PositionOut:
    require_hr_admin(caller)
    position = await position_in_zone(session, caller, position_id)
    await lock_zone(session, position.zone_id, caller.subject)
    department = await department_in_zone(session, position.zone_id, position.department_id)
    before = position.model_dump()
    changed: list[str] = []
    band = await _band_or_422(session, position.zone_id, body.grade or position.grade)
    filled = (await position_filled(session, [position.id])).get(position.id, 0)
    if body.posts is not None and body.posts != position.posts:
        domain.check_posts_cover_filled(body.posts, filled)
        if body.posts > position.posts:
            domain.check_department_posts(
                department.name, department.allocation, await _posts_elsewhere(session, department.id, position.id), body.posts
            )
        position.posts = body.posts
        changed.append("posts")
    if body.title is not None and body.title != position.title:
        position.title = body.title
        changed.append("title")
    if body.grade is not None and body.grade != position.grade:
        position.grade = body.grade
        changed.append("grade")
    if not changed:
        return position_out(position, department, band, filled)
    position.updated_at = now()
    session.add(position)
    await session.flush()
    await record_audit(
        session, caller, "position.update", entity_type="position", entity_id=position.id, zone_id=position.zone_id,
        before=before, after=position.model_dump(),
    )
    await record_event(
        session, POSITION_CHANGED,
        {**_position_event(position, department, band), "changed": changed, "changed_at": position.updated_at},
        subject=position.id, zone_id=position.zone_id,
    )
    if "posts" in changed:
        await publish_headcount(session, position.zone_id)
    return position_out(position, department, band, filled)


async def positions_out(session: AsyncSession, zone_id: str, positions: list[Position]) -> list[PositionOut]:
    departments = {
        d.id: d
        for d in (await session.execute(select(Department).where(Department.zone_id == zone_id))).scalars().all()
    }
    bands = await bands_by_grade(session, zone_id)
    filled = await position_filled(session, [p.id for p in positions])
    out = []
    for p in positions:
        band = bands.get(p.grade) or PayBand(
            zone_id=zone_id, grade=p.grade, label=p.grade, monthly_min_wan=domain.wan(0), monthly_max_wan=domain.wan(0),
            annual_performance_base_wan=domain.wan(0), updated_at=p.updated_at,
        )
        out.append(position_out(p, departments[p.department_id], band, filled.get(p.id, 0)))
    return out


async def list_positions(
    session: AsyncSession,
    zone_id: str,
    page: PageParams,
    *,
    department_id: str | None = None,
    category: Category | None = None,
    vacant_only: bool = False,
) -> Page[PositionOut]:
    query = select(Position).where(Position.zone_id == zone_id)
    if department_id:
        query = query.where(Position.department_id == department_id)
    if category:
        query = query.where(Position.category == category.value)
    if vacant_only:
        filled = (
            select(func.count())
            .where(col(Appointment.position_id) == col(Position.id), Appointment.status == "active")
            .correlate(Position)
            .scalar_subquery()
        )
        query = query.where(col(Position.posts) > filled)
    query = query.order_by(col(Position.created_at), col(Position.id))
    rows, total = await paginate(session, query, page)
    return Page(items=await positions_out(session, zone_id, rows), total=total, page=page.page, size=page.size)


async def get_position(session: AsyncSession, caller: Principal, position_id: str) -> PositionOut:
    position = await position_in_zone(session, caller, position_id)
    return (await positions_out(session, position.zone_id, [position]))[0]
