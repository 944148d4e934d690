"""Demo data, each part only when its table is empty (idempotent):

- the four demo zones (so ``make run`` has a directory before the gateway publishes one; a later
  ``zone.platform`` event overwrites them);
- the indicator system and its validation rules (``catalog.py``);
- 2026 targets (目标分解表, seed 004) for cd-xingu and tf-biotown;
- obligations of the demo enterprises, and accepted monthly and quarterly reports for the last
  14 finished months (so summaries show values with 同比) plus some zone-collected values.

Demo reports are written as accepted directly (no events: nothing happened that other systems
should hear of); they move the pre-aggregates exactly as an acceptance does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from services.stats import repository as repo
from services.stats.catalog import BUILT_IN, INDICATORS, RULES
from services.stats.domain import ReportStatus, to_units
from services.stats.models import (
    Indicator,
    IndicatorFact,
    Obligation,
    Report,
    ReportTrail,
    ReportValue,
    Target,
    ValidationRule,
    Zone,
)
from services.stats.periods import Period, PeriodType

DEMO_ZONES: list[dict[str, Any]] = [
    {"zone_id": "cd-xingu", "name": "成都芯谷", "type": "产业新城", "district": "双流区", "partners": []},
    {
        "zone_id": "tf-biotown",
        "name": "天府国际生物城",
        "type": "产业新城",
        "district": "双流区",
        "partners": [{"district": "高新区", "share_percent": 70}, {"district": "双流区", "share_percent": 30}],
    },
    {"zone_id": "jj-chunxi", "name": "春熙路时尚活力区", "type": "特色街区", "district": "锦江区", "partners": []},
    {"zone_id": "ar-town", "name": "安仁文博小镇", "type": "特色小镇", "district": "大邑县", "partners": []},
]

#: (zone, USCC, name, monthly output 万元, monthly revenue, tax rate of revenue, employees, FAI per month)
DEMO_ENTERPRISES = [
    ("cd-xingu", "91510100MA6DGXQ125", "成都芯谷集成电路设计有限公司", 8200, 8600, Decimal("0.062"), 420, 1500),
    ("cd-xingu", "91510100MA6C8U4P5L", "蓉芯封装测试有限公司", 5600, 5900, Decimal("0.048"), 650, 2600),
    ("tf-biotown", "91510116MA68N7WB32", "天府生物医药科技有限公司", 6900, 7300, Decimal("0.071"), 380, 1900),
    ("tf-biotown", "91510122MA6ABCD116", "双流精密制造有限公司", 3100, 3300, Decimal("0.040"), 260, 800),
]

TARGETS_2026: dict[str, dict[str, int | str]] = {
    "cd-xingu": {
        "industrial_output_above_scale": 165000,
        "total_tax": 8500,
        "fixed_asset_investment": 50000,
        "new_market_entities": 450,
        "signed_projects": 10,
        "agreed_investment": 230000,
        "funds_domestic_outside_city": 60000,
        "approvals_on_time_rate": "98",
        "approvals_avg_working_days": "5",
        "standard_factory_area": "12",
        "building_occupancy_rate": "75",
    },
    "tf-biotown": {
        "industrial_output_above_scale": 125000,
        "total_tax": 7000,
        "fixed_asset_investment": 35000,
        "new_market_entities": 300,
        "signed_projects": 12,
        "agreed_investment": 300000,
        "funds_domestic_outside_city": 50000,
        "foreign_capital_utilized": 20000,
        "approvals_on_time_rate": "97",
        "approvals_avg_working_days": "6",
        "standard_factory_area": "8",
        "building_occupancy_rate": "72",
    },
}

SEASON = [Decimal(x) for x in ("0.82", "0.74", "0.97", "1.00", "1.02", "1.05", "0.98", "1.01", "1.04", "1.06", "1.08", "1.23")]
SEED_ACTOR = "seed"


async def _empty(session: AsyncSession, table: Any) -> bool:
    return int((await session.execute(select(func.count()).select_from(table))).scalar_one()) == 0


async def seed_reference(session: AsyncSession) -> None:
    """Zones, indicators and rules: what every environment needs to start reporting."""
    at = repo.now()
    if await _empty(session, Zone):
        for z in DEMO_ZONES:
            session.add(Zone(**z, active=True, source="seed", updated_at=at))
    if await _empty(session, Indicator):
        for position, s in enumerate(INDICATORS, start=1):
            d = s.definition
            session.add(
                Indicator(
                    code=d.code,
                    name=d.name,
                    unit=d.unit,
                    period_type=d.period_type.value,
                    aggregation=d.aggregation.value,
                    source=d.source.value,
                    cumulative=d.cumulative,
                    decimals=d.decimals,
                    higher_is_better=d.higher_is_better,
                    dimension=d.dimension.value if d.dimension else None,
                    description=s.description,
                    position=position,
                    created_at=at,
                    created_by=SEED_ACTOR,
                )
            )
    if await _empty(session, ValidationRule):
        for r in RULES:
            session.add(
                ValidationRule(
                    indicator_code=r.indicator_code, kind=r.kind.value, name=r.name, params=r.params, created_at=at, created_by=SEED_ACTOR
                )
            )
    await session.flush()


async def _accepted_report(
    session: AsyncSession, changes: repo.AggregateChanges, zone_id: str, uscc: str, period: Period, values: dict[str, Decimal]
) -> None:
    at = datetime.combine(period.end, datetime.min.time(), UTC)
    report = Report(
        id=str(uuid.uuid4()),
        zone_id=zone_id,
        uscc=uscc,
        period=str(period),
        period_type=period.type.value,
        status=ReportStatus.ACCEPTED.value,
        form_codes=sorted(values),
        submitted_at=at,
        submitted_by=f"ent-{uscc}",
        reviewed_at=at,
        reviewed_by=SEED_ACTOR,
        created_at=at,
    )
    session.add(report)
    for code, value in values.items():
        units = to_units(value)
        session.add(
            ReportValue(
                report_id=report.id, indicator_code=code, zone_id=zone_id, uscc=uscc, period=str(period), value_units=units, accepted_units=units
            )
        )
        changes.add(zone_id, code, period, None, units)
    for action, actor, kind in (("submitted", f"ent-{uscc}", "enterprise"), ("accepted", SEED_ACTOR, "system")):
        session.add(ReportTrail(report_id=report.id, zone_id=zone_id, action=action, version=1, actor=actor, actor_kind=kind, at=at))


def _finished_months(today: datetime, count: int) -> list[Period]:
    current = Period.month(today.year, today.month)
    return [current.shift(-i) for i in range(count, 0, -1)]


async def seed_demo(session: AsyncSession, today: datetime | None = None) -> None:
    today = today or datetime.now(ZoneInfo("Asia/Shanghai"))
    at = repo.now()
    if await _empty(session, Target):
        for zone_id, targets in TARGETS_2026.items():
            for code, value in targets.items():
                session.add(
                    Target(zone_id=zone_id, year=2026, indicator_code=code, target_units=to_units(value), note="年度目标分解表（演示）", updated_at=at, updated_by=SEED_ACTOR)
                )
    if await _empty(session, Obligation):
        for zone_id, uscc, name, *_ in DEMO_ENTERPRISES:
            session.add(
                Obligation(
                    zone_id=zone_id,
                    uscc=uscc,
                    enterprise_name=name,
                    indicator_codes=sorted(
                        ["industrial_output_above_scale", "main_business_revenue", "total_tax", "employees", "fixed_asset_investment", "talent_count", "high_level_talent_count"]
                    ),
                    from_period=f"{today.year - 1}-01",
                    updated_at=at,
                    updated_by=SEED_ACTOR,
                )
            )
    if not await _empty(session, Report):
        await session.flush()
        return
    months = _finished_months(today, 14)
    changes = repo.AggregateChanges()
    for n, (zone_id, uscc, _name, output, revenue, tax_rate, employees, fai) in enumerate(DEMO_ENTERPRISES):
        for month in months:
            growth = Decimal("1.09") ** (month.year - 2025) * (1 + Decimal(n) / 100)
            factor = SEASON[month.index - 1] * growth
            rev = (Decimal(revenue) * factor).quantize(Decimal("0.01"))
            values = {
                "industrial_output_above_scale": (Decimal(output) * factor).quantize(Decimal("0.01")),
                "main_business_revenue": rev,
                "total_tax": (rev * tax_rate).quantize(Decimal("0.01")),
                "employees": Decimal(employees + 3 * month.index + 20 * (month.year - 2025)),
                "fixed_asset_investment": (Decimal(fai) * month.index * growth).quantize(Decimal("0.01")),
            }
            await _accepted_report(session, changes, zone_id, uscc, month, values)
        quarters = sorted({m.enclosing(PeriodType.QUARTER) for m in months if m.enclosing(PeriodType.QUARTER).end < today.date()}, key=lambda p: p.ordinal)
        for quarter in quarters:
            talent = employees * 55 // 100 + 10 * quarter.index
            await _accepted_report(session, changes, zone_id, uscc, quarter, {"talent_count": Decimal(talent), "high_level_talent_count": Decimal(talent // 12)})
    if await _empty(session, IndicatorFact):
        for zone_id, entities in (("cd-xingu", 36), ("tf-biotown", 24)):
            for month in months:
                await repo.record_fact(
                    session, BUILT_IN["new_market_entities"], zone_id=zone_id, period=month, contributor="zone",
                    units=to_units(entities + month.index), as_of=at, origin="zone", recorded_by=SEED_ACTOR, changes=changes,
                )
            for quarter in sorted({m.enclosing(PeriodType.QUARTER) for m in months}, key=lambda p: p.ordinal):
                zone_values: dict[str, Decimal] = {"standard_factory_area": Decimal("2.5") * quarter.index, "building_occupancy_rate": Decimal(68 + 2 * quarter.index)}
                for code, zone_value in zone_values.items():
                    await repo.record_fact(
                        session, BUILT_IN[code], zone_id=zone_id, period=quarter, contributor="zone",
                        units=to_units(zone_value), as_of=at, origin="zone", recorded_by=SEED_ACTOR, changes=changes,
                    )
    await session.flush()
    await changes.write(session)


async def seed(session: AsyncSession, ctx: Any) -> None:
    """The service's demo seed (runs at start when ``STATS_SEED_DEMO_DATA`` is true)."""
    await seed_reference(session)
    await seed_demo(session)
