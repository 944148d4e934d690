"""Use cases of pay (以岗定薪、按绩取酬) and the annual payroll cap (工资总控, seed 004).

``POST /payroll/{YYYY-MM}`` computes each person's pay for the month:

- **post pay** (岗位工资): the monthly pay band of the grade (职级) of the position they held, at the
  point of the band set by their latest finalized evaluation grade before the month (settings
  ``band_positions``: 优秀 at the ceiling … 不合格 at the floor, no evaluation yet mid-band),
  prorated by the days their appointment(s) covered the month;
- **performance pay** (绩效工资): the performance pay of every finalized evaluation cycle whose
  ``pay_period`` is this month.

The cap: seed 004 sets the agency's annual pay base at "1.5—2 倍" of the district's average pay of
government and public-institution staff. Here the year's cap = ``multiple × reference average annual
pay × headcount quota`` (the total 员额, the agency's budgeted headcount, so hiring below the quota
cannot raise the cap), from the zone's policy for the year (``PUT /payroll-policies/{year}``, the
multiple bounded to 1.5–2 by default) or the service settings. The month's total plus what earlier
months of the year paid may not exceed the cap: over it, the run is refused with 409 and the figures,
and nothing is saved. Recomputing a month replaces its previous run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from chassis.audit import record_audit
from chassis.auth import Principal
from chassis.errors import FieldError, NotFound, Unprocessable
from chassis.outbox import record_event
from services.hr import domain
from services.hr.access import now as utc_now
from services.hr.access import personal_scope, require_hr_admin, use_case
from services.hr.domain import Grade
from services.hr.events import PAYROLL_COMPUTED
from services.hr.models import (
    Appointment,
    Department,
    EvaluationCycle,
    EvaluationEntry,
    PayBand,
    PayrollLine,
    PayrollPolicy,
    PayrollRun,
    Position,
    Staff,
)
from services.hr.org import get_quota_row, lock_zone
from services.hr.schemas import PayrollLineOut, PayrollOut, PayrollPolicyIn, PayrollPolicyOut
from services.hr.settings import HrSettings


@dataclass(frozen=True)
class Policy:
    reference_average_wan: Decimal
    multiple: Decimal
    basis: str | None
    source: str  # policy | settings


async def policy_for(session: AsyncSession, zone_id: str, year: int, settings: HrSettings) -> Policy:
    row = await session.get(PayrollPolicy, (zone_id, year))
    if row is not None:
        return Policy(Decimal(row.reference_average_wan), Decimal(row.multiple), row.basis, "policy")
    return Policy(settings.payroll_reference_average_wan, settings.payroll_cap_multiple, None, "settings")


async def _paid(session: AsyncSession, zone_id: str, year: int, *, excluding: str | None = None) -> Decimal:
    query = select(func.coalesce(func.sum(PayrollRun.total_wan), 0)).where(PayrollRun.zone_id == zone_id, PayrollRun.year == year)
    if excluding:
        query = query.where(PayrollRun.id != excluding)
    return domain.wan((await session.execute(query)).scalar_one())


async def get_policy(session: AsyncSession, zone_id: str, year: int, settings: HrSettings) -> PayrollPolicyOut:
    policy = await policy_for(session, zone_id, year, settings)
    quota = await get_quota_row(session, zone_id)
    headcount = quota.total if quota else 0
    return PayrollPolicyOut(
        zone_id=zone_id,
        year=year,
        reference_average_wan=policy.reference_average_wan,
        multiple=policy.multiple,
        basis=policy.basis,
        source=policy.source,  # type: ignore[arg-type]
        cap_headcount=headcount,
        annual_cap_wan=domain.annual_cap(policy.multiple, policy.reference_average_wan, headcount),
        paid_this_year_wan=await _paid(session, zone_id, year),
    )


@use_case
async def put_policy(
    session: AsyncSession, caller: Principal, zone_id: str, year: int, body: PayrollPolicyIn, settings: HrSettings
) -> PayrollPolicyOut:
    require_hr_admin(caller)
    low, high = settings.payroll_cap_multiple_min, settings.payroll_cap_multiple_max
    if not low <= body.multiple <= high:
        raise Unprocessable(
            f"工资总控倍数应在 {low}—{high} 倍之间（以区机关事业单位平均薪酬为参照）",
            f"The cap multiple must be between {low} and {high}",
            errors=[FieldError("multiple", f"应在 {low}—{high} 之间", f"between {low} and {high}")],
        )
    row = await session.get(PayrollPolicy, (zone_id, year))
    before = row.model_dump() if row else None
    if row is None:
        row = PayrollPolicy(zone_id=zone_id, year=year, reference_average_wan=body.reference_average_wan,
                            multiple=body.multiple, basis=body.basis, updated_at=utc_now(), updated_by=caller.subject)
    else:
        row.reference_average_wan = body.reference_average_wan
        row.multiple = body.multiple
        row.basis = body.basis
        row.updated_at = utc_now()
        row.updated_by = caller.subject
    session.add(row)
    await session.flush()
    await record_audit(
        session, caller, "payroll_policy.put", entity_type="payroll_policy", entity_id=f"{zone_id}:{year}",
        zone_id=zone_id, before=before, after=row.model_dump(),
    )
    return await get_policy(session, zone_id, year, settings)


def _overlap_days(start: date, end: date, first: date, last: date) -> int:
    return max((min(end, last) - max(start, first)).days + 1, 0)


@use_case
async def compute_payroll(
    session: AsyncSession, caller: Principal, zone_id: str, period: str, settings: HrSettings
) -> PayrollOut:
    require_hr_admin(caller)
    year, _ = domain.parse_month(period)
    first, last = domain.month_bounds(period)
    days_in_month = (last - first).days + 1
    quota = await lock_zone(session, zone_id, caller.subject)
    policy = await policy_for(session, zone_id, year, settings)
    run_id = f"{zone_id}:{period}"

    served_until = func.coalesce(col(Appointment.ended_on), col(Appointment.term_end))
    appointments = (
        await session.execute(
            select(Appointment)
            .where(Appointment.zone_id == zone_id, col(Appointment.term_start) <= last, served_until >= first)
            .order_by(col(Appointment.term_start))
        )
    ).scalars().all()
    positions = {p.id: p for p in (await session.execute(select(Position).where(Position.zone_id == zone_id))).scalars()}
    bands = {b.grade: b for b in (await session.execute(select(PayBand).where(PayBand.zone_id == zone_id))).scalars()}

    finalized = (
        await session.execute(
            select(EvaluationEntry, EvaluationCycle)
            .join(EvaluationCycle, col(EvaluationCycle.id) == col(EvaluationEntry.cycle_id))
            .where(EvaluationEntry.zone_id == zone_id, EvaluationCycle.status == "finalized")
            .order_by(col(EvaluationCycle.end_date), col(EvaluationCycle.finalized_at))
        )
    ).tuples().all()
    latest_grade: dict[str, str] = {}
    performance_due: dict[str, Decimal] = defaultdict(Decimal)
    for entry, cycle in finalized:
        if cycle.end_date < first and entry.grade:
            latest_grade[entry.staff_id] = entry.grade  # ordered by end date: the last one wins
        if cycle.pay_period == period and entry.performance_pay_wan is not None:
            performance_due[entry.staff_id] += Decimal(entry.performance_pay_wan)

    lines: dict[str, PayrollLine] = {}
    post_pay: dict[str, Decimal] = defaultdict(Decimal)
    for a in appointments:
        position = positions[a.position_id]
        band = bands.get(position.grade)
        if band is None:
            raise Unprocessable(
                f"职级 {position.grade} 没有薪酬带，无法核算", f"Grade {position.grade} has no pay band",
                errors=[FieldError("grade", "职级缺少薪酬带", "missing pay band", code="no_pay_band")],
            )
        grade = latest_grade.get(a.staff_id)
        band_position = settings.band_positions.get(grade or "none", Decimal("0.5"))
        days = _overlap_days(a.term_start, a.ended_on or a.term_end, first, last)
        post_pay[a.staff_id] += domain.post_pay(
            Decimal(band.monthly_min_wan), Decimal(band.monthly_max_wan), band_position, days, days_in_month
        )
        line = lines.get(a.staff_id)
        lines[a.staff_id] = PayrollLine(
            run_id=run_id,
            zone_id=zone_id,
            staff_id=a.staff_id,
            department_id=a.department_id,
            position_id=a.position_id,
            job_grade=position.grade,
            evaluation_grade=grade,
            band_position=band_position,
            days_served=(line.days_served if line else 0) + days,
            post_pay_wan=Decimal(0),
            performance_pay_wan=Decimal(0),
            total_wan=Decimal(0),
        )
    for staff_id in performance_due:
        if staff_id not in lines:  # left before the month, still owed the cycle's performance pay
            lines[staff_id] = PayrollLine(
                run_id=run_id, zone_id=zone_id, staff_id=staff_id, evaluation_grade=latest_grade.get(staff_id),
                band_position=Decimal(0), days_served=0, post_pay_wan=Decimal(0), performance_pay_wan=Decimal(0),
                total_wan=Decimal(0),
            )
    for staff_id, line in lines.items():
        line.post_pay_wan = domain.wan(post_pay.get(staff_id, Decimal(0)))
        line.performance_pay_wan = domain.wan(performance_due.get(staff_id, Decimal(0)))
        line.total_wan = domain.wan(line.post_pay_wan + line.performance_pay_wan)
    total = domain.wan(sum((line.total_wan for line in lines.values()), Decimal(0)))

    cap = domain.CapCheck(
        cap=domain.annual_cap(policy.multiple, policy.reference_average_wan, quota.total),
        multiple=policy.multiple,
        reference_average_wan=policy.reference_average_wan,
        headcount=quota.total,
        paid_before=await _paid(session, zone_id, year, excluding=run_id),
        this_run=total,
        extra={"period": period, "policy_source": policy.source, "headcount_paid": len(lines)},
    )
    domain.check_payroll_cap(cap)

    previous = await session.get(PayrollRun, run_id)
    before = previous.model_dump() if previous else None
    if previous is not None:
        await session.execute(delete(PayrollLine).where(col(PayrollLine.run_id) == run_id))
        await session.delete(previous)
        await session.flush()
    computed_at = utc_now()
    run = PayrollRun(
        id=run_id,
        zone_id=zone_id,
        period=period,
        year=year,
        headcount_paid=len(lines),
        total_wan=total,
        year_to_date_wan=cap.year_to_date,
        annual_cap_wan=cap.cap,
        cap_multiple=policy.multiple,
        reference_average_wan=policy.reference_average_wan,
        cap_headcount=quota.total,
        policy_source=policy.source,
        computed_at=computed_at,
        computed_by=caller.subject,
    )
    session.add(run)
    await session.flush()
    session.add_all(lines.values())
    await session.flush()
    await record_event(
        session,
        PAYROLL_COMPUTED,
        {
            "payroll_id": run_id,
            "zone_id": zone_id,
            "period": period,
            "headcount_paid": len(lines),
            "total_wan": float(total),
            "year_to_date_wan": float(cap.year_to_date),
            "annual_cap_wan": float(cap.cap),
            "cap_multiple": float(policy.multiple),
            "reference_average_wan": float(policy.reference_average_wan),
            "cap_headcount": quota.total,
            "computed_at": computed_at,
        },
        subject=run_id,
        zone_id=zone_id,
    )
    await record_audit(
        session, caller, "payroll.compute", entity_type="payroll_run", entity_id=run_id, zone_id=zone_id,
        before=before, after=run.model_dump(),
    )
    return await _payroll_out(session, run, list(lines.values()))


async def _payroll_out(session: AsyncSession, run: PayrollRun, lines: list[PayrollLine]) -> PayrollOut:
    names = dict(
        (await session.execute(select(Staff.id, Staff.name).where(col(Staff.id).in_({line.staff_id for line in lines})))).tuples().all()
    ) if lines else {}
    ordered = sorted(lines, key=lambda line: (line.department_id or "", names.get(line.staff_id, ""), line.staff_id))
    return PayrollOut(
        id=run.id,
        zone_id=run.zone_id,
        period=run.period,
        headcount_paid=run.headcount_paid,
        total_wan=run.total_wan,
        year_to_date_wan=run.year_to_date_wan,
        annual_cap_wan=run.annual_cap_wan,
        cap_multiple=run.cap_multiple,
        reference_average_wan=run.reference_average_wan,
        cap_headcount=run.cap_headcount,
        policy_source=run.policy_source,
        computed_at=run.computed_at,
        computed_by=run.computed_by,
        lines=[
            PayrollLineOut(
                staff_id=line.staff_id,
                staff_name=names.get(line.staff_id, ""),
                department_id=line.department_id,
                position_id=line.position_id,
                job_grade=line.job_grade,
                evaluation_grade=Grade(line.evaluation_grade) if line.evaluation_grade else None,
                band_position=line.band_position,
                days_served=line.days_served,
                post_pay_wan=line.post_pay_wan,
                performance_pay_wan=line.performance_pay_wan,
                total_wan=line.total_wan,
            )
            for line in ordered
        ],
    )


@use_case
async def get_payroll(session: AsyncSession, caller: Principal, zone_id: str, period: str) -> PayrollOut:
    """A month's payroll: totals for every reader; lines for HR (all), a department head (their department)."""
    domain.parse_month(period)
    run = await session.get(PayrollRun, f"{zone_id}:{period}")
    if run is None:
        raise NotFound(f"{period} 尚未核算工资", f"No payroll computed for {period}")
    scope = personal_scope(caller, zone_id)
    query = select(PayrollLine).where(PayrollLine.run_id == run.id)
    if not scope.everyone:
        own = col(PayrollLine.staff_id).in_(select(Staff.id).where(Staff.zone_id == zone_id, Staff.account == scope.account))
        if scope.department_code:
            department = select(Department.id).where(Department.zone_id == zone_id, Department.code == scope.department_code)
            query = query.where(col(PayrollLine.department_id).in_(department) | own)
        else:
            query = query.where(own)
    lines = list((await session.execute(query)).scalars().all())
    await record_audit(
        session, caller, "payroll.read", entity_type="payroll_run", entity_id=run.id, zone_id=zone_id,
        after={"lines": len(lines)},
    )
    return await _payroll_out(session, run, lines)
