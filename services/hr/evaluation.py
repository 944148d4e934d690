"""Use cases of performance evaluation (绩效考核) and the zone coefficient it pays with.

A cycle (quarter or year) carries KPI items per position category with weights adding up to 100 %.
Scores are entered per person (0–100 per item); the person's category, department, position and
grade (职级) are taken from their active appointment when their first score or exemption arrives.

Fault tolerance (容错纠错, seed 001): an HR administrator approves an exemption of one KPI item for
one person with a recorded reason; that item then counts neither for nor against them — it is
removed from their weighted score and the remaining items' weights are renormalized to 100 %
(:func:`services.hr.domain.weighted_score`). At least one item must remain.

Finalizing computes each score, the grade by the cycle's thresholds (优秀 / 良好 / 合格 / 不合格),
flags the bottom share of each department (末位, :func:`services.hr.domain.bottom_flags`), and the
performance pay = base × zone coefficient × department coefficient × individual coefficient
(Wuhan, seed 001), where

- base = the annual performance base of the person's grade (pay band), a quarter of it for a
  quarterly cycle;
- the zone coefficient is the statistics service's published assessment of the zone
  (``zone.stats.assessment.published.v1``, projected by :mod:`services.hr.consumers`) for the cycle's
  year, else the latest earlier year, else 1.0 — the cycle records which value and source it used;
- the department coefficient is the department's (``PATCH /departments/{id}``), recorded per result;
- the individual coefficient is the cycle's coefficient for the person's grade.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from chassis.audit import record_audit
from chassis.auth import Principal, ensure_zone
from chassis.errors import Conflict, FieldError, NotFound, Unprocessable
from chassis.outbox import record_event
from chassis.pagination import Page, PageParams, paginate
from services.hr import domain
from services.hr.access import PersonalScope, now, personal_scope, require_hr_admin, use_case
from services.hr.domain import GRADE_LABELS, Category, CycleKind, Grade, GradeThresholds
from services.hr.events import EVALUATION_FINALIZED
from services.hr.models import (
    Department,
    EvaluationCycle,
    EvaluationEntry,
    Exemption,
    KpiItem,
    PayBand,
    Position,
    Staff,
    ZoneAssessment,
)
from services.hr.people import active_appointment, staff_in_zone
from services.hr.schemas import (
    CycleIn,
    CycleOut,
    ExemptionIn,
    ExemptionOut,
    FinalizeOut,
    KpiOut,
    ResultOut,
    ScoresIn,
)
from services.hr.settings import HrSettings


def thresholds_of(cycle: EvaluationCycle) -> GradeThresholds:
    t = cycle.thresholds
    return GradeThresholds(Decimal(t["excellent"]), Decimal(t["good"]), Decimal(t["pass"]))


def coefficients_of(cycle: EvaluationCycle) -> dict[str, Decimal]:
    return {grade: Decimal(value) for grade, value in cycle.individual_coefficients.items()}


async def kpis_of(session: AsyncSession, cycle_id: str) -> dict[str, list[KpiItem]]:
    rows = (
        await session.execute(select(KpiItem).where(KpiItem.cycle_id == cycle_id).order_by(col(KpiItem.category), col(KpiItem.code)))
    ).scalars().all()
    out: dict[str, list[KpiItem]] = defaultdict(list)
    for item in rows:
        out[item.category].append(item)
    return dict(out)


def _weights(items: list[KpiItem]) -> dict[str, Decimal]:
    return {i.code: Decimal(i.weight) for i in items}


async def cycle_out(session: AsyncSession, cycle: EvaluationCycle) -> CycleOut:
    kpis = await kpis_of(session, cycle.id)
    return CycleOut(
        id=cycle.id,
        zone_id=cycle.zone_id,
        name=cycle.name,
        kind=CycleKind(cycle.kind),
        year=cycle.year,
        quarter=cycle.quarter,
        period=cycle.period,
        start_date=cycle.start_date,
        end_date=cycle.end_date,
        pay_period=cycle.pay_period,
        kpis={cat: [KpiOut(code=i.code, name=i.name, weight=i.weight) for i in items] for cat, items in kpis.items()},
        thresholds={k: Decimal(v) for k, v in cycle.thresholds.items()},
        bottom_share=cycle.bottom_share,
        individual_coefficients=coefficients_of(cycle),
        status=cycle.status,  # type: ignore[arg-type]
        zone_coefficient=cycle.zone_coefficient,
        zone_coefficient_source=cycle.zone_coefficient_source,
        created_at=cycle.created_at,
        finalized_at=cycle.finalized_at,
    )


@use_case
async def create_cycle(
    session: AsyncSession, caller: Principal, zone_id: str, body: CycleIn, settings: HrSettings
) -> CycleOut:
    require_hr_admin(caller)
    start, end, period = domain.cycle_bounds(body.kind, body.year, body.quarter)
    for category, items in body.kpis.items():
        domain.check_weights({i.code: i.weight for i in items}, field=f"kpis.{category.value}")
    if body.thresholds is not None:
        thresholds = GradeThresholds(body.thresholds.excellent, body.thresholds.good, body.thresholds.pass_)
    else:
        thresholds = GradeThresholds(
            settings.grade_threshold_excellent, settings.grade_threshold_good, settings.grade_threshold_pass
        )
    thresholds.check()
    if body.individual_coefficients is not None:
        c = body.individual_coefficients
        coefficients = {"excellent": c.excellent, "good": c.good, "pass": c.pass_, "fail": c.fail}
    else:
        coefficients = {g.value: settings.individual_coefficients.get(g.value, Decimal(1)) for g in Grade}
    exists = (
        await session.execute(select(EvaluationCycle.id).where(EvaluationCycle.zone_id == zone_id, EvaluationCycle.period == period))
    ).scalar_one_or_none()
    if exists is not None:
        raise Conflict(
            f"{period} 的考核周期已存在", f"A cycle for {period} exists",
            errors=[FieldError("year", f"{period} 的考核周期已存在", "cycle exists", code="duplicate")],
            cycle_id=exists,
        )
    cycle = EvaluationCycle(
        zone_id=zone_id,
        name=body.name or (f"{body.year} 年第 {body.quarter} 季度绩效考核" if body.quarter else f"{body.year} 年度绩效考核"),
        kind=body.kind.value,
        year=body.year,
        quarter=body.quarter,
        period=period,
        start_date=start,
        end_date=end,
        pay_period=body.pay_period or domain.next_month(end),
        thresholds={"excellent": str(thresholds.excellent), "good": str(thresholds.good), "pass": str(thresholds.pass_)},
        bottom_share=body.bottom_share if body.bottom_share is not None else settings.bottom_share,
        individual_coefficients={g: str(v) for g, v in coefficients.items()},
        created_at=now(),
    )
    session.add(cycle)
    await session.flush()
    for category, items in body.kpis.items():
        for item in items:
            session.add(KpiItem(cycle_id=cycle.id, category=category.value, code=item.code, name=item.name, weight=item.weight))
    await session.flush()
    out = await cycle_out(session, cycle)
    await record_audit(
        session, caller, "evaluation_cycle.create", entity_type="evaluation_cycle", entity_id=cycle.id, zone_id=zone_id,
        after=out.model_dump(mode="json"),
    )
    return out


async def cycle_visible(session: AsyncSession, caller: Principal, cycle_id: str) -> EvaluationCycle:
    cycle = await session.get(EvaluationCycle, cycle_id)
    if cycle is None:
        raise NotFound("考核周期不存在", "Evaluation cycle not found")
    ensure_zone(caller, cycle.zone_id)
    return cycle


async def get_cycle(session: AsyncSession, caller: Principal, cycle_id: str) -> CycleOut:
    return await cycle_out(session, await cycle_visible(session, caller, cycle_id))


async def list_cycles(session: AsyncSession, zone_id: str, page: PageParams) -> Page[CycleOut]:
    query = select(EvaluationCycle).where(EvaluationCycle.zone_id == zone_id).order_by(
        col(EvaluationCycle.start_date).desc(), col(EvaluationCycle.kind)
    )
    rows, total = await paginate(session, query, page)
    return Page(items=[await cycle_out(session, c) for c in rows], total=total, page=page.page, size=page.size)


def _require_open(cycle: EvaluationCycle) -> None:
    if cycle.status != "open":
        raise Conflict(
            "考核周期已定档，不能再修改", "The cycle is finalized",
            errors=[FieldError("cycle_id", "已定档", "finalized", code="finalized")],
        )


async def _entry(session: AsyncSession, cycle: EvaluationCycle, staff: Staff, kpis: dict[str, list[KpiItem]]) -> EvaluationEntry:
    """The person's entry in the cycle, created from their active appointment on first use."""
    entry = (
        await session.execute(
            select(EvaluationEntry).where(EvaluationEntry.cycle_id == cycle.id, EvaluationEntry.staff_id == staff.id)
        )
    ).scalar_one_or_none()
    if entry is not None:
        return entry
    appointment = await active_appointment(session, staff.id)
    if appointment is None:
        raise Conflict(
            "该人员目前未聘任任何岗位，无法确定考核类别", "This person holds no position to be evaluated in",
            errors=[FieldError("staff_id", "未在聘", "not appointed", code="not_appointed")],
        )
    position = await session.get(Position, appointment.position_id)
    assert position is not None
    if position.category not in kpis:
        raise Conflict(
            f"本周期没有为「{domain.CATEGORY_LABELS[Category(position.category)]}」岗位设置 KPI",
            f"The cycle has no KPI items for the {position.category} category",
            errors=[FieldError("staff_id", "该岗位类别没有 KPI 项目", "no KPI items for the category", code="no_kpis")],
        )
    entry = EvaluationEntry(
        zone_id=cycle.zone_id,
        cycle_id=cycle.id,
        staff_id=staff.id,
        position_id=position.id,
        department_id=appointment.department_id,
        category=position.category,
        job_grade=position.grade,
        updated_at=now(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def _exemptions(session: AsyncSession, cycle_id: str) -> dict[str, set[str]]:
    rows = (await session.execute(select(Exemption).where(Exemption.cycle_id == cycle_id))).scalars().all()
    out: dict[str, set[str]] = defaultdict(set)
    for e in rows:
        out[e.staff_id].add(e.kpi_code)
    return out


@use_case
async def put_scores(
    session: AsyncSession, caller: Principal, cycle_id: str, staff_id: str, body: ScoresIn
) -> ResultOut:
    require_hr_admin(caller)
    cycle = await cycle_visible(session, caller, cycle_id)
    _require_open(cycle)
    staff = await staff_in_zone(session, cycle.zone_id, staff_id)
    kpis = await kpis_of(session, cycle.id)
    entry = await _entry(session, cycle, staff, kpis)
    domain.check_scores(dict(body.scores), [i.code for i in kpis[entry.category]])
    before = dict(entry.scores)
    entry.scores = {**entry.scores, **{code: str(value) for code, value in body.scores.items()}}
    entry.updated_at = now()
    session.add(entry)
    await session.flush()
    await record_audit(
        session, caller, "evaluation.score", entity_type="evaluation_entry", entity_id=entry.id, zone_id=cycle.zone_id,
        before={"scores": before}, after={"scores": entry.scores, "staff_id": staff.id},
    )
    return (await _results_out(session, cycle, [entry]))[0]


@use_case
async def add_exemption(session: AsyncSession, caller: Principal, cycle_id: str, body: ExemptionIn) -> ExemptionOut:
    """Approve a fault-tolerance exemption (容错) of one KPI item for one person, with the reason on record."""
    require_hr_admin(caller)
    cycle = await cycle_visible(session, caller, cycle_id)
    _require_open(cycle)
    staff = await staff_in_zone(session, cycle.zone_id, body.staff_id)
    kpis = await kpis_of(session, cycle.id)
    entry = await _entry(session, cycle, staff, kpis)
    codes = [i.code for i in kpis[entry.category]]
    if body.kpi_code not in codes:
        raise Unprocessable(
            f"「{body.kpi_code}」不是该人员岗位类别的 KPI 项目", f"{body.kpi_code!r} is not a KPI item of this person's category",
            errors=[FieldError("kpi_code", f"可选：{'、'.join(codes)}", f"one of: {', '.join(codes)}")],
        )
    exempt = (await _exemptions(session, cycle.id)).get(staff.id, set())
    if body.kpi_code in exempt:
        raise Conflict(
            "该项目已容错豁免", "This item is already exempt",
            errors=[FieldError("kpi_code", "已豁免", "already exempt", code="duplicate")],
        )
    if set(codes) <= exempt | {body.kpi_code}:
        raise Conflict(
            "不能豁免全部考核项目，至少保留一项计分", "At least one KPI item must still count",
            errors=[FieldError("kpi_code", "豁免后将没有计分项目", "nothing would be left to score", code="all_exempt")],
        )
    exemption = Exemption(
        zone_id=cycle.zone_id,
        cycle_id=cycle.id,
        staff_id=staff.id,
        kpi_code=body.kpi_code,
        reason=body.reason,
        approved_by=caller.subject,
        approved_at=now(),
    )
    session.add(exemption)
    await session.flush()
    await record_audit(
        session, caller, "evaluation.exempt", entity_type="exemption", entity_id=exemption.id, zone_id=cycle.zone_id,
        after=exemption.model_dump(),
    )
    return ExemptionOut(**exemption.model_dump())


def _entries_scoped(query: Select[tuple[EvaluationEntry]], scope: PersonalScope) -> Select[tuple[EvaluationEntry]]:
    if scope.everyone:
        return query
    own = col(EvaluationEntry.staff_id).in_(
        select(Staff.id).where(Staff.zone_id == scope.zone_id, Staff.account == scope.account)
    )
    if scope.department_code:
        department = select(Department.id).where(Department.zone_id == scope.zone_id, Department.code == scope.department_code)
        return query.where((col(EvaluationEntry.department_id).in_(department)) | own)
    return query.where(own)


async def list_exemptions(session: AsyncSession, caller: Principal, cycle_id: str) -> list[ExemptionOut]:
    cycle = await cycle_visible(session, caller, cycle_id)
    visible = _entries_scoped(
        select(EvaluationEntry).where(EvaluationEntry.cycle_id == cycle.id), personal_scope(caller, cycle.zone_id)
    ).with_only_columns(col(EvaluationEntry.staff_id))
    rows = (
        await session.execute(
            select(Exemption)
            .where(Exemption.cycle_id == cycle.id, col(Exemption.staff_id).in_(visible))
            .order_by(col(Exemption.approved_at), col(Exemption.id))
        )
    ).scalars().all()
    return [ExemptionOut(**e.model_dump()) for e in rows]


async def _results_out(session: AsyncSession, cycle: EvaluationCycle, entries: list[EvaluationEntry]) -> list[ResultOut]:
    if not entries:
        return []
    kpis = await kpis_of(session, cycle.id)
    exemptions = await _exemptions(session, cycle.id)
    names = dict(
        (await session.execute(select(Staff.id, Staff.name).where(col(Staff.id).in_({e.staff_id for e in entries})))).tuples().all()
    )
    out = []
    for e in entries:
        exempt = exemptions.get(e.staff_id, set())
        score = e.score
        if score is None:
            try:
                score = domain.weighted_score(
                    {k: Decimal(v) for k, v in e.scores.items()}, _weights(kpis.get(e.category, [])), exempt
                )
            except domain.RuleViolation:
                score = None  # a preview only: scores still missing
        grade = Grade(e.grade) if e.grade else None
        out.append(
            ResultOut(
                cycle_id=cycle.id,
                staff_id=e.staff_id,
                staff_name=names.get(e.staff_id, ""),
                department_id=e.department_id,
                position_id=e.position_id,
                category=Category(e.category),
                job_grade=e.job_grade,
                scores={k: Decimal(v) for k, v in e.scores.items()},
                exempt_items=sorted(exempt),
                score=score,
                grade=grade,
                grade_label=GRADE_LABELS[grade] if grade else None,
                bottom_flag=e.bottom_flag,
                base_pay_wan=e.base_pay_wan,
                zone_coefficient=cycle.zone_coefficient,
                department_coefficient=e.department_coefficient,
                individual_coefficient=e.individual_coefficient,
                performance_pay_wan=e.performance_pay_wan,
            )
        )
    return out


async def list_results(session: AsyncSession, caller: Principal, cycle_id: str, page: PageParams) -> Page[ResultOut]:
    cycle = await cycle_visible(session, caller, cycle_id)
    query = _entries_scoped(
        select(EvaluationEntry).where(EvaluationEntry.cycle_id == cycle.id), personal_scope(caller, cycle.zone_id)
    ).order_by(col(EvaluationEntry.department_id), col(EvaluationEntry.staff_id))
    rows, total = await paginate(session, query, page)
    await record_audit(
        session, caller, "evaluation.results.read", entity_type="evaluation_cycle", entity_id=cycle.id, zone_id=cycle.zone_id,
        after={"count": len(rows)},
    )
    return Page(items=await _results_out(session, cycle, rows), total=total, page=page.page, size=page.size)


async def zone_coefficient(session: AsyncSession, zone_id: str, year: int) -> domain.ZoneCoefficient:
    published = dict(
        (
            await session.execute(select(col(ZoneAssessment.year), col(ZoneAssessment.coefficient)).where(ZoneAssessment.zone_id == zone_id))
        ).tuples().all()
    )
    return domain.pick_zone_coefficient(year, {y: Decimal(c) for y, c in published.items()}, zone_id)


@use_case
async def finalize(session: AsyncSession, caller: Principal, cycle_id: str) -> FinalizeOut:
    require_hr_admin(caller)
    cycle = await cycle_visible(session, caller, cycle_id)
    _require_open(cycle)
    entries = list(
        (
            await session.execute(
                select(EvaluationEntry).where(EvaluationEntry.cycle_id == cycle.id).order_by(col(EvaluationEntry.staff_id))
            )
        ).scalars().all()
    )
    if not entries:
        raise Conflict(
            "本周期还没有任何人的评分", "Nobody has been scored in this cycle",
            errors=[FieldError("cycle_id", "没有评分记录", "no scores", code="no_scores")],
        )
    kpis = await kpis_of(session, cycle.id)
    exemptions = await _exemptions(session, cycle.id)
    scores: dict[str, Decimal] = {}
    missing = []
    for e in entries:
        weights = _weights(kpis[e.category])
        exempt = exemptions.get(e.staff_id, set())
        lacking = [code for code in weights if code not in exempt and code not in e.scores]
        if lacking:
            missing.append({"staff_id": e.staff_id, "kpi_codes": lacking})
            continue
        scores[e.staff_id] = domain.weighted_score({k: Decimal(v) for k, v in e.scores.items()}, weights, exempt)
    if missing:
        raise Conflict(
            f"还有 {len(missing)} 人的评分不完整，不能定档", f"{len(missing)} people still miss scores",
            errors=[FieldError("scores", "评分不完整", "scores missing", code="incomplete")],
            missing=missing,
        )
    thresholds = thresholds_of(cycle)
    coefficients = coefficients_of(cycle)
    by_department: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for e in entries:
        by_department[e.department_id][e.staff_id] = scores[e.staff_id]
    bottom: set[str] = set()
    for department_scores in by_department.values():
        bottom |= domain.bottom_flags(department_scores, Decimal(cycle.bottom_share))
    zone = await zone_coefficient(session, cycle.zone_id, cycle.year)
    departments = {
        d.id: d for d in (await session.execute(select(Department).where(Department.zone_id == cycle.zone_id))).scalars().all()
    }
    bands = {
        b.grade: b for b in (await session.execute(select(PayBand).where(PayBand.zone_id == cycle.zone_id))).scalars().all()
    }
    missing_bands = sorted({e.job_grade for e in entries if e.job_grade not in bands})
    if missing_bands:
        raise Conflict(
            f"以下职级没有薪酬带，无法计算绩效工资：{'、'.join(missing_bands)}", f"No pay band for grades {missing_bands}",
            errors=[FieldError("grade", "职级缺少薪酬带", "missing pay band", code="no_pay_band")],
        )
    kind = CycleKind(cycle.kind)
    counts = {g.value: 0 for g in Grade}
    for e in entries:
        grade = thresholds.grade_for(scores[e.staff_id])
        counts[grade.value] += 1
        e.score = scores[e.staff_id]
        e.grade = grade.value
        e.bottom_flag = e.staff_id in bottom
        base = domain.cycle_base_pay(Decimal(bands[e.job_grade].annual_performance_base_wan), kind)
        department_coefficient = Decimal(departments[e.department_id].coefficient)
        individual_coefficient = coefficients[grade.value]
        e.base_pay_wan = domain.wan(base)
        e.department_coefficient = department_coefficient
        e.individual_coefficient = individual_coefficient
        e.performance_pay_wan = domain.performance_pay(base, zone.value, department_coefficient, individual_coefficient)
        e.updated_at = now()
        session.add(e)
    cycle.status = "finalized"
    cycle.zone_coefficient = zone.value
    cycle.zone_coefficient_source = zone.source
    cycle.finalized_at = now()
    session.add(cycle)
    await session.flush()
    results = await _results_out(session, cycle, entries)
    total_pay = domain.wan(sum((e.performance_pay_wan or Decimal(0) for e in entries), Decimal(0)))
    await record_event(
        session,
        EVALUATION_FINALIZED,
        {
            "cycle_id": cycle.id,
            "zone_id": cycle.zone_id,
            "kind": cycle.kind,
            "period": cycle.period,
            "pay_period": cycle.pay_period,
            "zone_coefficient": float(zone.value),
            "zone_coefficient_source": zone.source,
            "grade_counts": counts,
            "bottom_flagged": len(bottom),
            "total_performance_pay_wan": float(total_pay),
            "results": [
                {
                    "staff_id": r.staff_id,
                    "department_id": r.department_id,
                    "score": float(r.score or 0),
                    "grade": r.grade.value if r.grade else Grade.FAIL.value,
                    "bottom_flag": r.bottom_flag,
                    "department_coefficient": float(r.department_coefficient or 0),
                    "individual_coefficient": float(r.individual_coefficient or 0),
                    "performance_pay_wan": float(r.performance_pay_wan or 0),
                }
                for r in results
            ],
            "finalized_at": cycle.finalized_at,
        },
        subject=cycle.id,
        zone_id=cycle.zone_id,
    )
    await record_audit(
        session, caller, "evaluation_cycle.finalize", entity_type="evaluation_cycle", entity_id=cycle.id,
        zone_id=cycle.zone_id,
        after={
            "zone_coefficient": str(zone.value), "zone_coefficient_source": zone.source, "grade_counts": counts,
            "bottom_flagged": len(bottom), "total_performance_pay_wan": str(total_pay),
        },
    )
    return FinalizeOut(cycle=await cycle_out(session, cycle), grade_counts=counts, results=results)
