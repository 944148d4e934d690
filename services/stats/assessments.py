"""Differentiated assessment (差异化考核, seed 000) of every zone for a year: weighted dimension
scores by zone type, ranking, the zone coefficient for pay, one published event per zone.

Coefficient mapping (documented for HR, which multiplies it into pay — seed 001's Wuhan model of
园区考核系数 × 部门系数 × 个人系数): linear by rank, ``coefficient_high`` (1.2) for the first,
``coefficient_low`` (0.8) for the last, equal scores share a rank and so a coefficient; a single
zone gets the midpoint (1.0).
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from chassis.audit import record_audit
from chassis.auth import Principal
from chassis.errors import Conflict, Forbidden, NotFound
from chassis.outbox import record_event
from services.stats import repository as repo
from services.stats.domain import IndicatorScore, ZoneInput, score_zones, value_over
from services.stats.events import ASSESSMENT_PUBLISHED, AssessmentDimensions, AssessmentPublished
from services.stats.models import Assessment, Zone
from services.stats.periods import Period, PeriodType
from services.stats.schemas import AssessmentOut, IndicatorScoreOut, ZoneAssessmentOut
from services.stats.settings import StatsSettings


def coefficient_rule(settings: StatsSettings) -> str:
    low, high = settings.coefficient_low, settings.coefficient_high
    return (
        f"考核系数按名次在 {low}–{high} 间线性取值：第 1 名 {high}，末名 {low}，并列名次系数相同；"
        f"仅一个功能区参评时取 {(low + high) / 2}"
    )


def _score_out(s: IndicatorScore) -> dict[str, object]:
    return {
        "code": s.code,
        "value": None if s.value is None else float(round(s.value, 4)),
        "target": None if s.target is None else float(s.target),
        "basis": s.basis,
        "score": float(round(s.score, 2)),
    }


async def run_assessment(session: AsyncSession, principal: Principal, year: int, settings: StatsSettings) -> AssessmentOut:
    if principal.zone_id is not None and not principal.is_admin:
        raise Forbidden("差异化考核由市级统计管理员发起", "The city-level statistics administrator runs the assessment")
    zones = list((await session.execute(select(Zone).where(col(Zone.active).is_(True)).order_by(Zone.zone_id))).scalars())
    if not zones:
        raise Conflict("没有可参评的功能区", "No active zone to assess")
    defs = await repo.indicator_defs(session)
    scored = [d for d in defs.values() if d.dimension is not None]
    whole_year = Period(year, PeriodType.YEAR, 1)
    inputs: list[ZoneInput] = []
    for zone in zones:
        cells = await repo.cells_for(session, zone.zone_id, [year], [d.code for d in scored])
        targets = await repo.targets_for(session, zone.zone_id, year)
        values = {d.code: value_over(d, whole_year, cells.get(d.code, {})) for d in scored}
        inputs.append(ZoneInput(zone.zone_id, zone.type, values, {c: t for c, t in targets.items() if c in values}))
    results = score_zones(
        inputs,
        scored,
        settings.assessment_weights,
        coefficient_low=settings.coefficient_low,
        coefficient_high=settings.coefficient_high,
    )

    await session.execute(delete(Assessment).where(col(Assessment.year) == year))
    at = repo.now()
    for r in results:
        row = Assessment(
            year=year,
            zone_id=r.zone_id,
            zone_type=r.zone_type,
            score=float(r.score),
            rank=r.rank,
            zones_ranked=r.zones_ranked,
            coefficient=float(r.coefficient),
            dimensions={k: float(v) for k, v in r.dimensions.items()},
            weights={k: float(v) for k, v in r.weights.items()},
            details=[_score_out(s) for s in r.indicators],
            computed_at=at,
            computed_by=principal.subject,
        )
        session.add(row)
        await record_event(
            session,
            ASSESSMENT_PUBLISHED,
            AssessmentPublished(
                zone_id=r.zone_id,
                year=year,
                zone_type=r.zone_type,
                score=float(r.score),
                rank=r.rank,
                zones_ranked=r.zones_ranked,
                coefficient=float(r.coefficient),
                dimensions=AssessmentDimensions(**{k: float(v) for k, v in r.dimensions.items()}),
            ),
            subject=f"{r.zone_id}:{year}",
            zone_id=r.zone_id,
        )
    await session.flush()
    await record_audit(
        session,
        principal,
        "assessment.run",
        entity_type="assessment",
        entity_id=str(year),
        after=[{"zone_id": r.zone_id, "score": r.score, "rank": r.rank, "coefficient": r.coefficient} for r in results],
    )
    return await get_assessment(session, year, settings)


async def get_assessment(session: AsyncSession, year: int, settings: StatsSettings) -> AssessmentOut:
    rows = list(
        (await session.execute(select(Assessment).where(Assessment.year == year).order_by(col(Assessment.rank), Assessment.zone_id))).scalars()
    )
    if not rows:
        raise NotFound(f"{year} 年度尚未考核", f"No assessment for {year}")
    names = {z.zone_id: z.name for z in (await session.execute(select(Zone))).scalars()}
    return AssessmentOut(
        year=year,
        coefficient_rule=coefficient_rule(settings),
        zones=[
            ZoneAssessmentOut(
                zone_id=r.zone_id,
                zone_name=names.get(r.zone_id, r.zone_id),
                zone_type=r.zone_type,
                score=r.score,
                rank=r.rank,
                zones_ranked=r.zones_ranked,
                coefficient=r.coefficient,
                dimensions=r.dimensions,
                weights=r.weights,
                indicators=[IndicatorScoreOut(**d) for d in r.details],
                computed_at=repo.aware(r.computed_at),
                computed_by=r.computed_by,
            )
            for r in rows
        ],
    )
